package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

// failingWrites is a transport whose Conns fail every Write once the
// message may have gone out: Send reports it possibly lost.
type failingWrites struct{ transport.Transport }

func (f failingWrites) Dial(ctx context.Context, t transport.Target) (transport.Conn, error) {
	c, err := f.Transport.Dial(ctx, t)
	if err != nil {
		return nil, err
	}
	return failingConn{c}, nil
}

type failingConn struct{ transport.Conn }

func (failingConn) Write(context.Context, transport.MessageType, []byte) error {
	return errors.New("connection reset mid-write")
}

// TestALinePossiblyLostIsNotCalledNotSent: a line whose write failed once
// it may have gone out is reported as one that may not have arrived, not
// as "not sent" (an outside review saw "[error] stdin line 4 not sent:
// tether: message possibly lost: written, never confirmed").
func TestALinePossiblyLostIsNotCalledNotSent(t *testing.T) {
	srv, err := memory.NewServer(memory.WithAutoAccept())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := tether.New[transport.Message]("memory://feed", tether.WithTransport(failingWrites{srv.Transport()}),
		tether.WithoutHeartbeat(), tether.WithoutReconnect(), tether.WithHold(0))
	require.NoError(t, err)
	defer func() { _ = c.Close(ctx) }()
	require.NoError(t, c.Connect(ctx))
	stderr := newWatch()
	e := newEnv(nil, newWatch(), stderr)
	d := &dialer{e: e, c: c}
	d.send(ctx, 4, "hello")
	e.stderr.flush(ctx, 0)
	assert.Contains(t, stderr.String(), "[error] stdin line 4 may not have arrived: ")
	assert.NotContains(t, stderr.String(), "not sent")
	_, _ = e.stdout.close()
	_, _ = e.stderr.close()
}
