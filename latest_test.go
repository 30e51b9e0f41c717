package tether_test

import (
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
)

// TestLatestIsTheLastMessageThatDecoded: a message that does not decode
// does not count for Latest, even when it arrives in the same burst as the
// good one before it (the reader then handles both before it hands the
// burst on, and the bad one's bytes must not end up as the latest). On the
// code before the read buffer lent its payloads, Latest returned false
// here: the bad message had been read into the buffer the good one was
// remembered in.
func TestLatestIsTheLastMessageThatDecoded(t *testing.T) {
	type reading struct {
		N int `json:"n"`
	}
	good, bad := []byte(`{"n":1}`), []byte(`nope!!!`) // the same length
	burst := append(frame(ws.OpText, true, good, false, 0), frame(ws.OpText, true, bad, false, 0)...)
	srv := newRawServer(t, func(w io.Writer) { _, _ = w.Write(burst) }) // one write: one burst

	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	// Connected only once subscribed: errors are not held for a late
	// subscriber as messages are.
	c, err := tether.New[reading](srv.url, tether.WithAutoConnect(false))
	require.NoError(t, err)
	defer func() { require.NoError(t, c.Close(ctx)) }()
	errs := c.Errors(ctx)
	msgs := c.Messages(ctx)
	require.NoError(t, c.Connect(ctx))

	v := recv(t, msgs.C())
	assert.Equal(t, reading{N: 1}, v)
	var de *stream.DecodeError
	assert.ErrorAs(t, recv(t, errs.C()), &de, "the bad message is reported")
	// The subscriber got its burst after the latest message was taken.
	latest, ok := c.Latest()
	require.True(t, ok, "the good message is the latest")
	assert.Equal(t, reading{N: 1}, latest)
}

// TestLatestWithATransportThatReusesOneBuffer: the same over a transport
// that does what Read's contract allows, reading every message into one
// buffer, and that reports a backlog: the client must not trust a payload
// past the next Read.
func TestLatestWithATransportThatReusesOneBuffer(t *testing.T) {
	type reading struct {
		N int `json:"n"`
	}
	e := newEnv(t)
	c := client[reading](e, tether.WithTransport(reusingTransport{e.srv.Transport()}))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	errs := c.Errors(ctx)
	msgs := c.Messages(ctx)
	waitState(t, c, fsm.Open)
	sc := e.accept()
	require.NoError(t, sc.Send(ctx, transport.Text, []byte(`{"n":1}`)))
	require.NoError(t, sc.Send(ctx, transport.Text, []byte(`nope!!!`)))

	assert.Equal(t, reading{N: 1}, recv(t, msgs.C()))
	var de *stream.DecodeError
	assert.ErrorAs(t, recv(t, errs.C()), &de, "the bad message is reported")
	latest, ok := c.Latest()
	require.True(t, ok, "the good message is the latest")
	assert.Equal(t, reading{N: 1}, latest)
}

// reusingTransport dials conns that read every payload into one buffer.
type reusingTransport struct{ transport.Transport }

func (r reusingTransport) Dial(ctx context.Context, target transport.Target) (transport.Conn, error) {
	c, err := r.Transport.Dial(ctx, target)
	if err != nil {
		return nil, err
	}
	return &reusingConn{Conn: c}, nil
}

// reusingConn copies each payload into the same buffer, and, after a
// message that decodes as JSON, reads the next one at once and reports it
// buffered, so that the client takes both in one burst.
type reusingConn struct {
	transport.Conn
	buf     []byte
	pending *transport.Message
	err     error
}

func (c *reusingConn) Read() (transport.Message, error) {
	var m transport.Message
	switch {
	case c.pending != nil:
		m, c.pending = *c.pending, nil
	case c.err != nil:
		return transport.Message{}, c.err
	default:
		var err error
		if m, err = transport.ReadOwned(c.Conn); err != nil {
			return m, err
		}
		if m.Type.IsData() && json.Valid(m.Payload) {
			next, err := transport.ReadOwned(c.Conn)
			if err != nil {
				c.err = err
			} else {
				c.pending = &next
			}
		}
	}
	c.buf = append(c.buf[:0], m.Payload...)
	m.Payload = c.buf
	return m, nil
}

func (c *reusingConn) Buffered() bool { return c.pending != nil || c.err != nil }
