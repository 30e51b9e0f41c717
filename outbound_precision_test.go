package tether_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/adapters"
	"github.com/tether-go/tether/fsm"
)

// TestPossiblyLostSpareWhatArrived: a burst of Sends, a server that reads
// part of it (answering the pings among what it reads) and then goes away.
// What it did not read is reported possibly lost, every one; of what it
// read, no more than the writes between two confirmation probes (1/64 of
// the record's bound) may be reported too. The probes used to go out each
// quarter of the bound, at most four at once: a server that read 6,000 of
// 10,000 messages had answered none of them, and all 6,000 were reported
// with the rest.
func TestPossiblyLostSpareWhatArrived(t *testing.T) {
	const n, read = 10_000, 6_000
	arrived := make(chan map[string]bool, 1)
	release := make(chan struct{})
	url := serveOnce(t, func(c net.Conn) {
		got := make(map[string]bool, read)
		br := bufio.NewReader(c)
		for len(got) < read {
			h, err := ws.ReadHeader(br)
			if err == nil && h.Length > 1<<10 {
				err = errors.New("test: frame too large")
			}
			var p []byte
			if err == nil {
				p = make([]byte, h.Length)
				_, err = io.ReadFull(br, p)
			}
			if err != nil {
				arrived <- got
				return
			}
			if h.Masked {
				ws.Cipher(p, h.Mask, 0)
			}
			switch {
			case h.OpCode == ws.OpPing:
				if ws.WriteFrame(c, ws.NewPongFrame(p)) != nil {
					arrived <- got
					return
				}
			case h.OpCode.IsData():
				got[string(p)] = true
			}
		}
		// Behind every pong it wrote: once the client has this, it has
		// read them all.
		err := ws.WriteFrame(c, ws.NewTextFrame([]byte("read")))
		arrived <- got
		if err == nil {
			<-release
		}
	}) // then the connection closes, the rest unread
	letGo := sync.OnceFunc(func() { close(release) })
	defer letGo()

	log := newDropLog()
	c := newClient[[]byte](t, url, tether.WithoutHeartbeat(), tether.WithoutReconnect(),
		tether.OnDrop(log.onDrop), tether.OnError(log.onError))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	sub := c.Messages(ctx)
	waitState(t, c, fsm.Open)
	ids := make([]uint64, n)
	for i := range n {
		var err error
		ids[i], err = c.SendID(ctx, []byte(numbered(i)))
		require.NoError(t, err)
	}
	require.Equal(t, "read", string(recv(t, sub.C())))
	got := recv(t, arrived)
	letGo()
	waitState(t, c, fsm.Closed)
	shutDown(t, c)

	log.mu.Lock()
	defer log.mu.Unlock()
	overReported := 0
	for i, id := range ids {
		reports := log.drops[id]
		if got[numbered(i)] {
			assert.LessOrEqual(t, len(reports), 1, "message %d", i)
			if len(reports) == 1 {
				overReported++
			}
			continue
		}
		if assert.Len(t, reports, 1, "message %d never arrived: reported once", i) {
			assert.True(t, errors.Is(reports[0], tether.ErrPossiblyLost), "message %d: %v", i, reports[0])
		}
	}
	t.Logf("over-reported %d", overReported)
	require.Len(t, got, read)
	assert.LessOrEqual(t, overReported, adapters.DefaultMaxUnconfirmed/64,
		"of the %d messages the server read, %d were reported possibly lost", read, overReported)
}
