package memory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// generous bounds a wait that must succeed; it never elapses in a passing run.
const generous = 10 * time.Second

// testCtx returns a ctx that ends with the test or after a generous bound.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), generous)
	t.Cleanup(cancel)
	return ctx
}

// shortCtx returns a ctx that ends soon: it proves that a call blocks, since
// nothing but the deadline can end the call.
func shortCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	t.Cleanup(cancel)
	return ctx
}

func newPipe(t *testing.T, opts ...memory.Option) (transport.Conn, *memory.ServerConn) {
	t.Helper()
	c, sc, err := memory.Pipe(opts...)
	require.NoError(t, err)
	return c, sc
}

func newServer(t *testing.T, opts ...memory.Option) *memory.Server {
	t.Helper()
	srv, err := memory.NewServer(opts...)
	require.NoError(t, err)
	return srv
}

// recv waits for what ch delivers, failing the test after a generous bound.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(generous):
		require.FailNow(t, "timed out waiting")
		var zero T
		return zero
	}
}

// closed reports whether ch is closed, without waiting.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

type readResult struct {
	msg transport.Message
	err error
}

// readAsync calls ReadOwned on its own goroutine.
func readAsync(c transport.Conn) <-chan readResult {
	ch := make(chan readResult, 1)
	go func() {
		m, err := transport.ReadOwned(c)
		ch <- readResult{m, err}
	}()
	return ch
}

// requireClose asserts that err is a *transport.CloseError with the fields given.
func requireClose(t *testing.T, err error, code transport.StatusCode, reason string, remote bool) *transport.CloseError {
	t.Helper()
	ce, ok := errors.AsType[*transport.CloseError](err)
	require.True(t, ok, "want *transport.CloseError, got %v", err)
	require.Equal(t, code, ce.Code)
	require.Equal(t, reason, ce.Reason)
	require.Equal(t, remote, ce.Remote)
	return ce
}
