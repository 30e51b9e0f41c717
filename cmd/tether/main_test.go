package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testTimeout bounds every wait; generous, because the machine is shared.
const testTimeout = 30 * time.Second

// watch is an io.Writer a test can wait on: every write wakes the waiters.
type watch struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newWatch() *watch { return &watch{changed: make(chan struct{})} }

func (w *watch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	close(w.changed)
	w.changed = make(chan struct{})
	return w.buf.Write(p)
}

func (w *watch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitFor waits until the output contains want. Test goroutine only.
func (w *watch) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.NewTimer(testTimeout)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		got, changed := w.buf.String(), w.changed
		w.mu.Unlock()
		if strings.Contains(got, want) {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			require.FailNowf(t, "output never appeared", "want %q in:\n%s", want, got)
		}
	}
}

// session is one run of the program on its own goroutine, with a pipe for
// standard input.
type session struct {
	stdin  *io.PipeWriter
	stdout *watch
	stderr *watch
	cancel context.CancelFunc // the interrupt

	code   chan int
	once   sync.Once
	result int
}

// start runs the program with args. Cleanup interrupts it, closes its
// standard input and waits for it to return.
func start(t *testing.T, args ...string) *session {
	t.Helper()
	return startOut(t, nil, args...)
}

// startOut is start with standard output going to stdout instead of
// s.stdout, when it is not nil.
func startOut(t *testing.T, stdout io.Writer, args ...string) *session {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &session{stdin: pw, stdout: newWatch(), stderr: newWatch(), cancel: cancel, code: make(chan int, 1)}
	out := io.Writer(s.stdout)
	if stdout != nil {
		out = stdout
	}
	go func() { s.code <- run(ctx, args, pr, out, s.stderr) }()
	t.Cleanup(func() {
		cancel()
		_ = pw.Close()
		s.wait(t)
	})
	return s
}

// wait returns the exit code once the program returned. Test goroutine
// only.
func (s *session) wait(t *testing.T) int {
	t.Helper()
	return s.waitWithin(t, testTimeout)
}

// waitWithin is wait with its own deadline.
func (s *session) waitWithin(t *testing.T, d time.Duration) int {
	t.Helper()
	s.once.Do(func() {
		select {
		case s.result = <-s.code:
		case <-time.After(d):
			require.FailNowf(t, "the program did not return", "within %s; stderr:\n%s", d, s.stderr.String())
		}
	})
	return s.result
}

// recvWithin waits for a value on ch, failing the test after testTimeout.
// Test goroutine only.
func recvWithin[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testTimeout):
		require.FailNowf(t, "timed out", "waiting for %s", what)
		panic("unreachable")
	}
}

// writeLine writes line and a newline to the program's standard input.
func (s *session) writeLine(t *testing.T, line string) {
	t.Helper()
	_, err := io.WriteString(s.stdin, line+"\n")
	require.NoError(t, err)
}

// runSync runs the program to completion with empty standard input.
func runSync(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	var out, errOut bytes.Buffer
	code = run(ctx, args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func newServer(t *testing.T, opts ...tethertest.WSServerOption) *tethertest.WSServer {
	t.Helper()
	srv := tethertest.NewWSServer(opts...)
	t.Cleanup(srv.Close)
	return srv
}

func accept(t *testing.T, srv *tethertest.WSServer) *tethertest.WSConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := srv.Accept(ctx)
	require.NoError(t, err)
	return c
}

// recvData returns the next data message the client sent, skipping pongs.
func recvData(t *testing.T, c *tethertest.WSConn) transport.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for {
		m, err := c.Recv(ctx)
		require.NoError(t, err)
		if m.Type.IsData() {
			return m
		}
	}
}

// closeCode waits for the client's close frame and returns its code.
func closeCode(t *testing.T, c *tethertest.WSConn) transport.StatusCode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for {
		_, err := c.Recv(ctx)
		if err == nil {
			continue
		}
		var ce *transport.CloseError
		require.Truef(t, errors.As(err, &ce), "the connection ended without a close frame: %v", err)
		return ce.Code
	}
}
