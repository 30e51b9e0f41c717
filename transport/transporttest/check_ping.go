package transporttest

import (
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// checkPing: Ping works (a Pong with its payload comes through Read) or
// returns ErrUnsupported, never a false success; a payload over 125 bytes
// is refused and leaves the Conn up.
func checkPing(s *suite) {
	c, _ := s.open()
	in := s.reader(c)
	ctx := s.ctx()
	payload := []byte("transporttest ping")
	err := c.Ping(ctx, payload)
	if s.h.Caps.Ping {
		require.NoError(s.t, err, "Ping")
		s.readPong(in, payload)
	} else {
		require.ErrorIs(s.t, err, transport.ErrUnsupported, "Ping of a transport without Caps.Ping")
	}
	require.Error(s.t, c.Ping(ctx, make([]byte, 126)), "Ping with a payload of 126 bytes")
	require.NoError(s.t, c.Err(), "Err after a refused Ping")
}

// checkPeerPing: a ping from the server comes through Read as a Ping, and
// the Conn's Pong reaches the server. Without Caps.PeerPing, the Peer
// refuses to ping and Read returns no Ping.
func checkPeerPing(s *suite) {
	c, p := s.open()
	in := s.reader(c)
	ctx := s.ctx()
	payload := []byte("ping from the peer")
	err := p.Ping(ctx, payload)
	if !s.h.Caps.PeerPing {
		require.ErrorIs(s.t, err, transport.ErrUnsupported, "Peer.Ping without Caps.PeerPing")
		require.NoError(s.t, p.Send(ctx, transport.Text, []byte("after")))
		r := s.next(in, "the message after the refused ping")
		require.NoError(s.t, r.err)
		s.requireMessage(transport.Message{Type: transport.Text, Payload: []byte("after")}, r.m, "the first thing Read returns")
		return
	}
	require.NoError(s.t, err, "Peer.Ping")
	r := s.next(in, "the peer's Ping")
	require.NoError(s.t, r.err)
	s.requireMessage(transport.Message{Type: transport.Ping, Payload: payload}, r.m, "the first thing Read returns")
	for {
		m, err := p.Recv(ctx)
		require.NoError(s.t, err, "Peer.Recv, waiting for the Pong")
		if m.Type == transport.Pong {
			s.requireMessage(transport.Message{Type: transport.Pong, Payload: payload}, m, "the Conn's answer to the peer's ping")
			return
		}
	}
}
