package tether_test

import (
	"context"
	"io"
	"testing"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/stream"
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
	c, err := tether.New[reading](srv.url)
	require.NoError(t, err)
	defer func() { require.NoError(t, c.Close(ctx)) }()
	errs := c.Errors(ctx)
	msgs := c.Messages(ctx)

	v := recv(t, msgs.C())
	assert.Equal(t, reading{N: 1}, v)
	var de *stream.DecodeError
	assert.ErrorAs(t, recv(t, errs.C()), &de, "the bad message is reported")
	// The subscriber got its burst after the latest message was taken.
	latest, ok := c.Latest()
	require.True(t, ok, "the good message is the latest")
	assert.Equal(t, reading{N: 1}, latest)
}
