package adapters

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	for _, w := range s.inflight[:cap(s.inflight)] {
		assert.Nil(t, w.Value, "no reference to a confirmed value is kept")
	}
}

// TestSessionAsksForConfirmationAtHalf: a write that fills half the record
// (by count or by bytes) gets a probe to send, once until it is answered,
// and the answer releases what was written before it.
func TestSessionAsksForConfirmationAtHalf(t *testing.T) {
	for _, tc := range []struct {
		name        string
		limits      RecordLimits
		size, after int
	}{
		{"count", RecordLimits{Messages: 8, Bytes: 1 << 20}, 1, 4},
		{"bytes", RecordLimits{Messages: 1000, Bytes: 100}, 25, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Session{}
			s.SetRecordLimits(tc.limits)
			var probe []byte
			for id := 1; id <= tc.after; id++ {
				p, ok := s.Wrote(uint64(id), nil, tc.size)
				require.True(t, ok)
				if id < tc.after {
					require.Nil(t, p, "write %d", id)
				}
				probe = p
			}
			require.NotNil(t, probe, "half full: a probe is due")
			p, _ := s.Wrote(99, nil, tc.size)
			assert.Nil(t, p, "one probe at a time")
			s.answered([]byte("tether/ack-not-ours"))
			s.answered(append([]byte(nil), probe[:len(probe)-1]...))
			msgs, _ := s.Pending()
			assert.Equal(t, tc.after+1, msgs, "pongs that answer no probe of ours confirm nothing")
			s.answered(probe)
			msgs, _ = s.Pending()
			assert.Equal(t, 1, msgs, "the answer confirms what was written before the probe, not after")
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
	s.Wrote(1, nil, 1)
	probe, _ := s.Wrote(2, nil, 1)
	require.NotNil(t, probe)
	s.Wrote(3, nil, 1)
	s.Wrote(4, nil, 1)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, s.awaitRoom(ctx), context.Canceled)

	got := make(chan error, 1)
	go func() { got <- s.awaitRoom(context.Background()) }()
	s.answered(probe)
	require.NoError(t, <-got, "the answer made room")

	s.Wrote(5, nil, 1)
	_, _ = s.Wrote(6, nil, 1) // full, a probe is due, and its ping fails:
	s.probeFailed()
	go func() { got <- s.awaitRoom(context.Background()) }()
	sent := <-conn.pings // the waiter asks for a confirmation itself
	s.answered(sent)
	require.NoError(t, <-got)

	for id := uint64(7); id <= 10; id++ {
		s.Wrote(id, nil, 1) // full, with a probe outstanding (never answered)
	}
	go func() { got <- s.awaitRoom(context.Background()) }()
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
