package websocket

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
)

func TestConcurrentWritesDoNotCorruptFrames(t *testing.T) {
	const writers, perWriter = 8, 300
	c, p, _ := connectPair(t)

	received := make(chan map[int][]string, 1)
	go func() {
		got := map[int][]string{}
		for n := 0; n < writers*perWriter; n++ {
			f, err := p.readData()
			if !assert.NoError(t, err) {
				break
			}
			assert.True(t, f.masked)
			assert.True(t, f.fin)
			var g, i int
			_, err = fmt.Sscanf(string(f.payload), "w%d-%d:", &g, &i)
			if !assert.NoError(t, err, "corrupted frame %q", f.payload) {
				break
			}
			assert.Equal(t, payloadFor(g, i), string(f.payload))
			got[g] = append(got[g], string(f.payload))
		}
		received <- got
		echo(p)
	}()

	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				typ := transport.Text
				if i%2 == 1 {
					typ = transport.Binary
				}
				if !assert.NoError(t, c.Write(context.Background(), typ, []byte(payloadFor(g, i)))) {
					return
				}
			}
		}()
	}
	wg.Wait()
	got := <-received
	for g := range writers {
		require.Len(t, got[g], perWriter, "writer %d", g)
		for i, s := range got[g] {
			assert.Equal(t, payloadFor(g, i), s, "each writer's messages arrive in order")
		}
	}
}

// payloadFor makes payloads of varied sizes, some larger than the write
// buffer, so frames straddle flushes.
func payloadFor(g, i int) string {
	return fmt.Sprintf("w%d-%d:", g, i) + strings.Repeat(string(rune('a'+g)), (i*97+g*13)%6000)
}

func TestPongRepliesRaceWithWritesAndPings(t *testing.T) {
	// Server pings while the client writes and pings from several
	// goroutines: every frame the server reads must be well formed.
	c, p, _ := connectPair(t)
	reads := readLoop(c)
	const n = 200
	last := fmt.Sprint(n - 1)
	serverDone := make(chan [3]int, 1)
	go func() {
		var counts [3]int // data, pong, ping
		lastPong := ""
		for counts[0] < n || counts[2] < n || lastPong != last {
			f, err := p.read()
			if !assert.NoError(t, err) {
				break
			}
			assert.True(t, f.masked)
			switch f.op {
			case ws.OpText:
				counts[0]++
			case ws.OpPong:
				counts[1]++
				lastPong = string(f.payload)
			case ws.OpPing:
				counts[2]++
			default:
				assert.Failf(t, "unexpected frame", "opcode %v", f.op)
			}
		}
		serverDone <- counts
		echo(p)
	}()
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		for i := range n {
			assert.NoError(t, p.write(ws.OpPing, true, []byte(fmt.Sprint(i))))
		}
	}()
	go func() {
		defer wg.Done()
		for range n {
			assert.NoError(t, c.Write(context.Background(), transport.Text, []byte("data")))
		}
	}()
	go func() {
		defer wg.Done()
		for range n {
			assert.NoError(t, c.Ping(context.Background(), []byte("hb")))
		}
	}()
	wg.Wait()
	pings := 0
	for pings < n {
		r := next(t, reads)
		require.NoError(t, r.err)
		if r.m.Type == transport.Ping {
			pings++
		}
	}
	counts := <-serverDone
	assert.Equal(t, n, counts[0])
	assert.Equal(t, n, counts[2])
	// Pings read while the writer is busy share one pong (RFC 6455 lets an
	// endpoint answer only the latest); the latest is always answered.
	assert.LessOrEqual(t, counts[1], n)
	assert.Positive(t, counts[1])
}
