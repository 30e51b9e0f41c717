package tether_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/transport"
)

// failOnce is a transport whose connections fail the next Write with err
// (when armed), ending themselves the way a reset connection does.
type failOnce struct {
	transport.Transport
	err atomic.Pointer[error]
}

func (f *failOnce) Dial(ctx context.Context, target transport.Target) (transport.Conn, error) {
	c, err := f.Transport.Dial(ctx, target)
	if err != nil {
		return nil, err
	}
	return &failOnceConn{Conn: c, f: f}, nil
}

type failOnceConn struct {
	transport.Conn
	f *failOnce
}

func (c *failOnceConn) Write(ctx context.Context, typ transport.MessageType, p []byte) error {
	if e := c.f.err.Swap(nil); e != nil {
		_ = c.Conn.Close(transport.StatusGoingAway, "") // the connection fails with the write
		return *e
	}
	return c.Conn.Write(ctx, typ, p)
}

// TestSendOnAFailingWrite: a direct write that fails mid-message returns
// an error matching ErrPossiblyLost and the transport's (it used to be the
// transport's error alone: an rpc layer could not tell it from a refusal);
// a write that fails before the message was taken (ErrClosed) is not an
// error: the message goes out on the next connection.
func TestSendOnAFailingWrite(t *testing.T) {
	errReset := errors.New("connection reset by test")
	for name, tc := range map[string]struct {
		err      error
		possibly bool
	}{
		"mid-message":            {err: errReset, possibly: true},
		"before the message was": {err: fmt.Errorf("write: %w: %w", transport.ErrClosed, errReset)},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			tr := &failOnce{Transport: e.srv.Transport()}
			c := client[[]byte](e, tether.WithTransport(tr), reconnectAtOnce())
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			sc := e.accept()
			waitState(t, c, fsm.Open)
			// Once one message went out directly, the next is written by
			// its Send (not by the flusher of what waited for the open).
			require.NoError(t, c.SendBinary(ctx, []byte("m0")))
			_, err := sc.Recv(ctx)
			require.NoError(t, err)

			tr.err.Store(&tc.err)
			err = c.SendBinary(ctx, []byte("m1"))
			if tc.possibly {
				require.ErrorIs(t, err, tether.ErrPossiblyLost)
				require.ErrorIs(t, err, errReset)
				return
			}
			require.NoError(t, err, "not taken: it waits for the next connection")
			<-sc.Done()
			next := e.accept()
			m, err := next.Recv(ctx)
			require.NoError(t, err)
			assert.Equal(t, "m1", string(m.Payload), "sent on the next connection")
		})
	}
}
