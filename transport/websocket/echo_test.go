package websocket

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// echo answers every data frame from the client with the same frame until
// the client closes, then echoes the close.
func echo(p *peer) {
	for {
		f, err := p.read()
		if err != nil {
			return
		}
		switch f.op {
		case ws.OpText, ws.OpBinary:
			if !assert.True(p.t, f.masked, "client frames must be masked") {
				return
			}
			if err := p.write(f.op, true, f.payload); err != nil {
				return
			}
		case ws.OpPing:
			_ = p.write(ws.OpPong, true, f.payload)
		case ws.OpClose:
			_ = p.write(ws.OpClose, true, f.payload)
			p.conn.Close()
			return
		}
	}
}

func TestEchoSizes(t *testing.T) {
	c, p, _ := connectPair(t)
	go echo(p)
	ctx := context.Background()
	for _, typ := range []transport.MessageType{transport.Text, transport.Binary} {
		for _, size := range []int{0, 125, 126, 65535, 65536, 1 << 20} {
			t.Run(fmt.Sprintf("%s/%d", typ, size), func(t *testing.T) {
				payload := bytes.Repeat([]byte("abcdefgh"), size/8+1)[:size]
				orig := bytes.Clone(payload)
				require.NoError(t, c.Write(ctx, typ, payload))
				assert.Equal(t, orig, payload, "Write must not modify the caller's payload")
				m, err := c.Read()
				require.NoError(t, err)
				assert.Equal(t, typ, m.Type)
				assert.Equal(t, len(payload), len(m.Payload))
				assert.True(t, bytes.Equal(payload, m.Payload), "echoed payload differs")
			})
		}
	}
}

func TestHTTPSchemeMapsToWS(t *testing.T) {
	s := newServer(t)
	url := "http" + s.url[len("ws"):]
	c := dial(t, newTransport(t), transport.Target{URL: url})
	p := s.next()
	go echo(p)
	require.NoError(t, c.Write(context.Background(), transport.Text, []byte("hi")))
	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, "hi", string(m.Payload))
}

func TestHeadersAndUserinfoAreSent(t *testing.T) {
	s := newServer(t)
	url := "ws://alice:s3cret@" + s.url[len("ws://"):]
	dial(t, newTransport(t), transport.Target{
		URL: url,
		Header: map[string][]string{
			"X-Token":           {"abc"},
			"Host":              {"feed.example"},
			"Upgrade":           {"ignored"},
			"Content-Length":    {"5"},       // the handshake has no body:
			"Transfer-Encoding": {"chunked"}, // these would make a proxy read one
		},
	})
	p := s.next()
	go echo(p)
	assert.Empty(t, p.hdr.Values("Content-Length"))
	assert.Empty(t, p.hdr.Values("Transfer-Encoding"))
	assert.Equal(t, "abc", p.hdr.Get("X-Token"))
	assert.Equal(t, "feed.example", p.host)
	assert.Equal(t, "Basic YWxpY2U6czNjcmV0", p.hdr.Get("Authorization"))
}

// TestAnAuthorizationHeaderTakesTheUserinfosPlace: a URL's user and
// password go out as Basic authorization unless the target carries an
// Authorization header of its own, which is sent instead (docs/cli.md).
func TestAnAuthorizationHeaderTakesTheUserinfosPlace(t *testing.T) {
	s := newServer(t)
	dial(t, newTransport(t), transport.Target{
		URL:    "ws://alice:s3cret@" + s.url[len("ws://"):],
		Header: map[string][]string{"Authorization": {"Bearer tok"}},
	})
	p := s.next()
	go echo(p)
	assert.Equal(t, []string{"Bearer tok"}, p.hdr.Values("Authorization"))
}

// TestHeaderSpellingsAndAnEmptyAuthorization: a header given under two
// spellings goes out with both values (one was lost, whichever the map gave
// last), and an empty Authorization sends no credentials, not even the
// URL's userinfo as Basic.
func TestHeaderSpellingsAndAnEmptyAuthorization(t *testing.T) {
	s := newServer(t)
	dial(t, newTransport(t), transport.Target{
		URL:    "ws://alice:s3cret@" + s.url[len("ws://"):],
		Header: map[string][]string{"x-client": {"one"}, "X-Client": {"two"}, "Authorization": {""}},
	})
	p := s.next()
	go echo(p)
	assert.ElementsMatch(t, []string{"one", "two"}, p.hdr.Values("X-Client"))
	assert.Empty(t, p.hdr.Values("Authorization"))

	// An empty one beside a token in another spelling: the token goes, not
	// the URL's password (a later outside review).
	dial(t, newTransport(t), transport.Target{
		URL:    "ws://alice:s3cret@" + s.url[len("ws://"):],
		Header: map[string][]string{"authorization": {"Bearer x"}, "Authorization": {""}},
	})
	p = s.next()
	go echo(p)
	assert.Equal(t, []string{"Bearer x"}, p.hdr.Values("Authorization"))
}

func TestFragmentedInboundWithInterleavedPing(t *testing.T) {
	c, p, _ := connectPair(t)
	// "héllo wörld" split inside the multi-byte runes.
	msg := []byte("héllo wörld")
	require.NoError(t, p.write(ws.OpText, false, msg[:2]))
	require.NoError(t, p.write(ws.OpPing, true, []byte("mid")))
	require.NoError(t, p.write(ws.OpContinuation, false, msg[2:9]))
	require.NoError(t, p.write(ws.OpContinuation, true, msg[9:]))

	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, transport.Ping, m.Type)
	assert.Equal(t, "mid", string(m.Payload))

	m, err = c.Read()
	require.NoError(t, err)
	assert.Equal(t, transport.Text, m.Type)
	assert.Equal(t, string(msg), string(m.Payload))

	f, err := p.read()
	require.NoError(t, err)
	assert.Equal(t, ws.OpPong, f.op)
	assert.True(t, f.masked)
	assert.Equal(t, "mid", string(f.payload))
	go echo(p)
}

func TestFramesArrivingWithTheHandshake(t *testing.T) {
	// The server writes its 101 answer and two frames in one write, so
	// gobwas reads the frames into the handshake buffer.
	c := dialRaw(t, func(accept string) []byte {
		var b bytes.Buffer
		b.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
		b.WriteString("Sec-WebSocket-Accept: " + accept + "\r\n\r\n")
		require.NoError(t, ws.WriteFrame(&b, ws.NewTextFrame([]byte("early"))))
		require.NoError(t, ws.WriteFrame(&b, ws.NewBinaryFrame(bytes.Repeat([]byte{7}, 300))))
		return b.Bytes()
	})
	m, err := c.Read()
	require.NoError(t, err)
	assert.Equal(t, transport.Text, m.Type)
	assert.Equal(t, "early", string(m.Payload))
	m, err = c.Read()
	require.NoError(t, err)
	assert.Equal(t, transport.Binary, m.Type)
	assert.Equal(t, bytes.Repeat([]byte{7}, 300), m.Payload)
}
