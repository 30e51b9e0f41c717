package adapters

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/internal/chantest"
	"github.com/tether-go/tether/transport"
)

// TestSessionRecordForgetsNothing: past any number of writes the record
// keeps every unconfirmed one (it used to evict the oldest beyond 4,096 and
// only count them), and a confirmation releases exactly those before its
// mark.
func TestSessionRecordForgetsNothing(t *testing.T) {
	s := &Session{}
	s.SetRecordLimits(RecordLimits{Messages: 1 << 20, Bytes: 1 << 30})
	const n = 3 * DefaultMaxUnconfirmed
	for id := uint64(1); id <= n; id++ {
		_, ok := s.Wrote(id, nil, 1)
		require.True(t, ok)
	}
	msgs, bytes := s.Pending()
	assert.Equal(t, n, msgs)
	assert.Equal(t, n, bytes)
	s.Confirm(n - 10)
	left := s.Unconfirmed()
	require.Len(t, left, 10)
	assert.EqualValues(t, n-9, left[0].ID)
	assert.EqualValues(t, n, left[9].ID)
	_, ok := s.Wrote(99, nil, 1)
	assert.False(t, ok, "a settled session refuses new writes")
}

// TestSessionRecordReleasesConfirmedValues: what the record keeps of a
// confirmed write (its Value) is released.
func TestSessionRecordReleasesConfirmedValues(t *testing.T) {
	s := &Session{}
	big := make([]byte, 1<<20)
	s.Wrote(1, big, len(big))
	s.Confirm(s.WriteMark())
	msgs, bytes := s.Pending()
	assert.Zero(t, msgs)
	assert.Zero(t, bytes)
	require.NotNil(t, s.rec.ring, "a connection that just wrote keeps its ring")
	for _, w := range s.rec.ring {
		assert.Nil(t, w.Value, "no reference to a confirmed value is kept")
	}
	s.Confirm(s.WriteMark()) // the next heartbeat: nothing was written since
	assert.Nil(t, s.rec.ring, "a quiet connection keeps no record memory")
}

// TestSessionAsksForConfirmationAsItFills: each time 1/probesPerRecord of
// the record's bound (by count or by bytes) has been written since the last
// probe, a write gets a probe to send, up to probesPerRecord on their way
// at once; an
// answer releases what was written before its probe and settles the
// probes before it (a peer may answer only the latest ping), and a pong
// that answers no probe of ours confirms nothing.
func TestSessionAsksForConfirmationAsItFills(t *testing.T) {
	for _, tc := range []struct {
		name   string
		limits RecordLimits
		size   int
		every  int // writes between probes
	}{
		{"count", RecordLimits{Messages: 2 * probesPerRecord, Bytes: 1 << 20}, 1, 2},
		{"bytes", RecordLimits{Messages: 1000 * probesPerRecord, Bytes: 50 * probesPerRecord}, 25, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Session{}
			s.SetRecordLimits(tc.limits)
			var probes [][]byte
			id := uint64(0)
			for len(probes) < probesPerRecord {
				id++
				p, ok := s.Wrote(id, nil, tc.size)
				require.True(t, ok)
				if id%uint64(tc.every) != 0 {
					require.Nil(t, p, "write %d", id)
					continue
				}
				require.NotNil(t, p, "write %d: 1/probesPerRecord of the bound written since the last probe", id)
				probes = append(probes, p)
			}
			for range 2 * tc.every {
				id++
				p, _ := s.Wrote(id, nil, tc.size)
				require.Nil(t, p, "write %d: probesPerRecord probes on their way already", id)
			}
			total := int(id)

			s.answered([]byte("tether/ack-not-ours"))
			s.answered(append([]byte(nil), probes[1][:len(probes[1])-1]...))
			msgs, _ := s.Pending()
			assert.Equal(t, total, msgs, "pongs that answer no probe of ours confirm nothing")

			s.answered(probes[1])
			msgs, _ = s.Pending()
			assert.Equal(t, total-2*tc.every, msgs, "the answer confirms what was written before its probe")
			s.answered(probes[0])
			msgs, _ = s.Pending()
			assert.Equal(t, total-2*tc.every, msgs, "an earlier probe was settled by the later answer")

			id++
			p, _ := s.Wrote(id, nil, tc.size)
			require.NotNil(t, p, "probes left on their way: the next part asks again")
			s.answered(p)
			msgs, _ = s.Pending()
			assert.Zero(t, msgs, "the latest answer covers every write before it")
			assert.Empty(t, s.probes, "and settles every probe before it")
		})
	}
}

// TestSessionFullRecordWaits: a write that finds the record full waits for
// a confirmation (sending the probe itself), ends with its ctx, and learns
// when the account is settled.
func TestSessionFullRecordWaits(t *testing.T) {
	conn := &pingConn{pings: make(chan []byte, 4)}
	s := &Session{Conn: conn}
	s.SetRecordLimits(RecordLimits{Messages: 4, Bytes: 1 << 20})
	var probes [][]byte // a quarter of 4 is one write: each gets a probe
	for id := uint64(1); id <= 4; id++ {
		p, _ := s.Wrote(id, nil, 1)
		require.NotNil(t, p, "write %d", id)
		probes = append(probes, p)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.awaitRoom(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, conn.pings, "the probes on their way cover every write: no new one")

	got := make(chan error, 1)
	go func() { _, err := s.awaitRoom(context.Background()); got <- err }()
	s.answered(probes[1])
	require.NoError(t, <-got, "the answer made room")

	s.Wrote(5, nil, 1)
	failed, _ := s.Wrote(6, nil, 1) // full again, and the latest probe's ping fails:
	require.NotNil(t, failed)
	s.probeFailed(failed, false)
	go func() { _, err := s.awaitRoom(context.Background()); got <- err }()
	sent := <-conn.pings // no probe covers write 6: the waiter asks itself
	s.answered(sent)
	require.NoError(t, <-got)
	msgs, _ := s.Pending()
	require.Zero(t, msgs)

	for id := uint64(7); id <= 10; id++ {
		s.Wrote(id, nil, 1) // full, with probes on their way (never answered)
	}
	go func() { _, err := s.awaitRoom(context.Background()); got <- err }()
	s.Unconfirmed()
	require.ErrorIs(t, <-got, errSettled)
}

// pingConn is a transport.Conn that records its pings.
type pingConn struct {
	transport.Conn
	pings chan []byte
}

func (c *pingConn) Ping(_ context.Context, p []byte) error {
	c.pings <- append([]byte(nil), p...)
	return nil
}

// BenchmarkWrote: recording a write and confirming it stays O(1) amortised.
func BenchmarkWrote(b *testing.B) {
	s := &Session{}
	b.ReportAllocs()
	id := uint64(0)
	for b.Loop() {
		id++
		if p, _ := s.Wrote(id, nil, 64); p != nil {
			s.answered(p)
		}
	}
}

// TestSessionLeftIsMadeOnDemand: Left's channel is made by its first call
// (an idle session holds none); asked before the session leaves it closes
// when it does, asked after it is closed already, and every caller gets
// the same channel. A session the Connector did not make has none.
func TestSessionLeftIsMadeOnDemand(t *testing.T) {
	assert.Nil(t, (&Session{}).Left(), "not the Connector's")

	early := &Session{tracked: true}
	ch := early.Left()
	require.NotNil(t, ch)
	assert.False(t, chantest.IsClosed(ch), "still in use")
	assert.Equal(t, ch, early.Left(), "one channel")
	early.leave()
	assert.True(t, chantest.IsClosed(ch), "closed when the session leaves")
	early.leave() // harmless

	late := &Session{tracked: true}
	late.leave()
	assert.True(t, chantest.IsClosed(late.Left()), "made closed after the session left")

	// Concurrent first calls and the leave agree on one channel, closed.
	racy := &Session{tracked: true}
	chans := make(chan (<-chan struct{}), 8)
	for range 8 {
		go func() { chans <- racy.Left() }()
	}
	racy.leave()
	first := <-chans
	for range 7 {
		assert.Equal(t, first, <-chans)
	}
	assert.True(t, chantest.IsClosed(first))
}
