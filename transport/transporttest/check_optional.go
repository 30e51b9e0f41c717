package transporttest

import (
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

// checkNames: the Transport's Name is a stable label; a fresh Conn is up
// (Err nil, Done open) and, if it names its transport, names one.
func checkNames(s *suite) {
	name := s.h.Transport.Name()
	require.NotEmpty(s.t, name, "Transport.Name")
	require.Equal(s.t, name, s.h.Transport.Name(), "Transport.Name changed between calls")
	c, _ := s.open()
	require.NoError(s.t, c.Err(), "Err of a fresh Conn")
	require.False(s.t, isClosed(c.Done()), "Done of a fresh Conn")
	if n, ok := c.(transport.TransportNamer); ok {
		label := n.TransportName()
		require.NotEmpty(s.t, label, "TransportName")
		require.Equal(s.t, label, n.TransportName(), "TransportName changed between calls")
	}
}

// checkOptional: the optional interfaces found through the Conn do what
// they promise. ReadProgress counts at least the payload of a message
// read, and never goes back; Buffered returns, between Reads; both are
// called beside a Read, for the race detector.
func checkOptional(s *suite) {
	c, p := s.open()
	progress := transport.ProgressOf(c)
	backlog := transport.BacklogOf(c)
	var before uint64
	if progress != nil {
		before, _ = progress.ReadProgress()
	}
	payload := make([]byte, 1024)
	for i := range payload {
		payload[i] = byte(i)
	}
	require.NoError(s.t, p.Send(s.ctx(), transport.Binary, payload))
	var (
		m   transport.Message
		err error
	)
	s.bounded("Read", func() {
		for {
			if m, err = transport.ReadOwned(c); err != nil || m.Type.IsData() {
				return
			}
		}
	})
	require.NoError(s.t, err, "Read")
	s.requireMessage(transport.Message{Type: transport.Binary, Payload: payload}, m, "the message read")
	if backlog != nil {
		s.bounded("Buffered", func() { _ = backlog.Buffered() })
	}
	if progress == nil {
		return
	}
	after, _ := progress.ReadProgress()
	require.GreaterOrEqual(s.t, after, before+uint64(len(payload)), "ReadProgress after a message of %d bytes", len(payload))
	in := s.reader(c) // a Read waits while ReadProgress is called beside it
	for range 100 {
		now, _ := progress.ReadProgress()
		require.GreaterOrEqual(s.t, now, after, "ReadProgress went back")
		after = now
	}
	require.NoError(s.t, p.Send(s.ctx(), transport.Text, []byte("beside ReadProgress")))
	s.readData(in, "the message read beside ReadProgress")
}
