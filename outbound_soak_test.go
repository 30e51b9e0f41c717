package tether_test

// The soak test of issue 12: 100,000 numbered messages per overflow policy,
// sent through a real WebSocket server that kills connections at random
// points, must each end delivered or reported (OnDrop), never silently
// lost and never delivered twice.

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/stream"
)

// Parameters of the soak.
const (
	soakMessages = 100_000 // messages sent per policy
	soakSenders  = 4       // goroutines sending them, message i by sender i%soakSenders
	soakMaxKill  = 1_000   // a connection is killed after k data messages, k uniform in [1, soakMaxKill]
	soakMinKills = 10      // kills each policy must go through
	soakBuffer   = 64      // outbound buffer, in messages (WithSendBuffer)
	// soakOverflows is how many messages may meet a full buffer before the
	// senders wait for it to drain (Flush). A Send that does not wait
	// takes far less time than a reconnect: left alone, the senders would
	// spend most of the messages on the overflow policy during the first
	// few reconnects, and the server would read too few to kill many
	// connections. With this budget each outage overflows the buffer, and
	// most messages still reach the server.
	soakOverflows = 2 * soakBuffer
	// soakWindow bounds the messages sent but not yet read by the server
	// nor reported. Without it a fast machine (no -race) wrote all the
	// messages into the socket buffers within a few connections, before
	// the server had read enough to kill more than a handful: how many
	// kills a run saw depended on the machine's speed.
	soakWindow  = 2_000
	soakTimeout = 120 * time.Second
	// soakSeedEnv names the environment variable that replays a seed.
	soakSeedEnv = "TETHER_SOAK_SEED"
)

// soakServer is a WebSocket server that reads every data message each
// connection carries, counts each message number it receives, answers
// pings and the close handshake, and kills each connection (closes the
// socket, no close frame) after a random number of data messages, until
// finishing is set.
type soakServer struct {
	URL  string
	flow *counter // messages read, reported or refused (see soakWindow)

	hs        *httptest.Server
	finishing atomic.Bool // no more kills: the sender is done
	wg        sync.WaitGroup
	closeOnce sync.Once

	mu       sync.Mutex
	rng      *rand.Rand
	received []int32 // by message number: how many times the server read it
	foreign  []string
	conns    int      // connections accepted
	kills    int      // connections killed
	ends     []string // how each connection ended, for a failure message
	live     map[net.Conn]struct{}
	closed   bool
}

func newSoakServer(t *testing.T, seed uint64, flow *counter) *soakServer {
	t.Helper()
	s := &soakServer{
		flow:     flow,
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		received: make([]int32, soakMessages),
		live:     make(map[net.Conn]struct{}),
	}
	s.hs = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = "ws" + strings.TrimPrefix(s.hs.URL, "http")
	t.Cleanup(s.close)
	return s
}

// serve upgrades the request and reads the connection until it is killed,
// closed by the client or the server closes.
func (s *soakServer) serve(w http.ResponseWriter, r *http.Request) {
	conn, rw, _, err := ws.HTTPUpgrader{}.Upgrade(r, w)
	if err != nil {
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = conn.Close()
		return
	}
	s.live[conn] = struct{}{}
	s.conns++
	n := s.conns
	k := 1 + s.rng.IntN(soakMaxKill)
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	end := s.read(conn, rw.Reader, k)
	_ = conn.Close()
	s.mu.Lock()
	delete(s.live, conn)
	s.ends = append(s.ends, fmt.Sprintf("connection %d (k %d): %s", n, k, end))
	s.mu.Unlock()
}

// read reads data messages until the k-th, then returns (the caller kills
// the connection) unless finishing is set; it returns as well when the
// connection ends: the close handshake answered, or an error. It says
// what it read and how it ended.
func (s *soakServer) read(conn net.Conn, br *bufio.Reader, k int) (end string) {
	// Frames the upgrade buffered are in br; control answers go straight
	// to the socket (this goroutine is the connection's only writer).
	rw := struct {
		io.Reader
		io.Writer
	}{br, conn}
	first, last := -1, -1
	for n := 1; ; n++ {
		p, op, err := wsutil.ReadClientData(rw)
		if err != nil {
			// wsutil.ClosedError once the close handshake is answered
			return fmt.Sprintf("read %d (first number %d, last %d), ended: %v", n-1, first, last, err)
		}
		s.mu.Lock()
		if i, ok := soakNumber(p); ok && op == ws.OpBinary {
			s.received[i]++
			if first < 0 {
				first = i
			}
			last = i
		} else {
			s.foreign = append(s.foreign, fmt.Sprintf("opcode %d %q", op, p))
		}
		kill := n >= k && !s.finishing.Load()
		if kill {
			s.kills++
		}
		s.mu.Unlock()
		s.flow.add(1)
		if kill {
			return fmt.Sprintf("read %d (first number %d, last %d), killed", n, first, last)
		}
	}
}

// counts describes the server's connections, for a failure message.
func (s *soakServer) counts() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("server: %d connections, %d kills", s.conns, s.kills)
}

// close stops the server: every live connection is closed, then the
// listener, and it waits for the connections' goroutines.
func (s *soakServer) close() { s.closeOnce.Do(s.stop) }

func (s *soakServer) stop() {
	s.mu.Lock()
	s.closed = true
	live := make([]net.Conn, 0, len(s.live))
	for c := range s.live {
		live = append(live, c)
	}
	s.mu.Unlock()
	for _, c := range live {
		_ = c.Close()
	}
	s.hs.Close()
	s.wg.Wait()
}

// soakPayload is message i: its number, 8 bytes big-endian.
func soakPayload(i int) []byte { return binary.BigEndian.AppendUint64(nil, uint64(i)) }

// soakNumber decodes a soakPayload.
func soakNumber(p []byte) (int, bool) {
	if len(p) != 8 {
		return 0, false
	}
	i := binary.BigEndian.Uint64(p)
	if i >= soakMessages {
		return 0, false
	}
	return int(i), true
}

// soakPacer lets the senders overflow the buffer soakOverflows times,
// then makes them wait until it has drained (Flush: written, or reported),
// and so on.
type soakPacer struct {
	c         *tether.Client[[]byte]
	overflows atomic.Int64 // messages that met a full buffer: ErrBufferFull drops and refusals
	mu        sync.Mutex
	base      int64 // overflows when the budget was last renewed
}

func (p *soakPacer) wait(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.overflows.Load()-p.base < soakOverflows {
		return nil
	}
	if err := p.c.Flush(ctx); err != nil {
		return err
	}
	p.base = p.overflows.Load()
	return nil
}

// soakDrops records what OnDrop reports, by message ID.
type soakDrops struct {
	pace     *soakPacer
	flow     *counter
	mu       sync.Mutex
	byID     map[uint64][]error
	byNumber map[uint64]int // the message number each report's Value carries, -1 if none
}

func (d *soakDrops) onDrop(x tether.Drop) {
	if errors.Is(x.Reason, tether.ErrBufferFull) {
		d.pace.overflows.Add(1)
	}
	i := -1
	if p, ok := x.Value.([]byte); ok {
		if n, ok := soakNumber(p); ok {
			i = n
		}
	}
	d.mu.Lock()
	d.byID[x.ID] = append(d.byID[x.ID], x.Reason)
	d.byNumber[x.ID] = i
	d.mu.Unlock()
	d.flow.add(1)
}

// offenders collects the message numbers that break one rule, so that a
// failure says how many there are and shows the first few.
type offenders struct {
	what string
	n    int
	some []string
}

func (o *offenders) add(format string, args ...any) {
	o.n++
	if len(o.some) < 10 {
		o.some = append(o.some, fmt.Sprintf(format, args...))
	}
}

func (o *offenders) check(t *testing.T) {
	t.Helper()
	assert.Zerof(t, o.n, "%s: %d messages, first: %s", o.what, o.n, strings.Join(o.some, "; "))
}

// soakSeed is the base seed: TETHER_SOAK_SEED when set, else the time.
func soakSeed(t *testing.T) uint64 {
	t.Helper()
	if v := os.Getenv(soakSeedEnv); v != "" {
		seed, err := strconv.ParseUint(v, 10, 64)
		require.NoError(t, err, "%s", soakSeedEnv)
		return seed
	}
	return uint64(time.Now().UnixNano())
}

// TestSoakNoSilentLossNoDuplicates: with each overflow policy, 100,000
// numbered messages sent while the server kills the connection after a
// random number of them, again and again. Every message Send accepted is
// received by the server or reported to OnDrop, once; none is received
// twice; one reported as dropped by the buffer or at close was never sent;
// one Send refused is neither reported nor received.
func TestSoakNoSilentLossNoDuplicates(t *testing.T) {
	base := soakSeed(t)
	t.Logf("seed %d (replay with %s=%d)", base, soakSeedEnv, base)
	for n, policy := range []stream.Overflow{stream.Block, stream.DropOldest, stream.DropNewest, stream.Fail} {
		t.Run(policy.String(), func(t *testing.T) {
			soak(t, policy, base+uint64(n))
		})
	}
}

func soak(t *testing.T, policy stream.Overflow, seed uint64) {
	t.Logf("%s: server seed %d", policy, seed)
	start := time.Now()
	// Messages accounted for: read by the server, reported to OnDrop or
	// refused by Send (one read and then reported possibly lost counts
	// twice, which only widens the window).
	flow := newCounter()
	srv := newSoakServer(t, seed, flow)
	pace := &soakPacer{}
	drops := &soakDrops{pace: pace, flow: flow, byID: make(map[uint64][]error), byNumber: make(map[uint64]int)}
	c := newClient[[]byte](t, srv.URL, reconnectAtOnce(),
		tether.WithSendBuffer(soakBuffer, 1<<20, policy), tether.OnDrop(drops.onDrop))
	pace.c = c

	ctx, cancel := context.WithTimeout(context.Background(), soakTimeout)
	defer cancel()
	sendCtx, stopSends := context.WithCancelCause(ctx)
	defer stopSends(nil)
	ids := make([]uint64, soakMessages)
	errs := make([]error, soakMessages)
	for i := range errs {
		errs[i] = errNotSent
	}
	returned := newCounter()
	var senders, watch sync.WaitGroup
	watch.Go(func() { soakWatchdog(t, c, sendCtx, stopSends, returned) })
	for s := range soakSenders {
		senders.Go(func() {
			for i := s; i < soakMessages; i += soakSenders {
				if sendCtx.Err() != nil || pace.wait(sendCtx) != nil ||
					flow.waitAtLeast(sendCtx, returned.load()-soakWindow) != nil {
					return // stalled or out of time: reported below
				}
				ids[i], errs[i] = c.SendID(sendCtx, soakPayload(i))
				if errors.Is(errs[i], tether.ErrBufferFull) {
					pace.overflows.Add(1)
				}
				if errs[i] != nil {
					flow.add(1) // refused: neither read nor reported
				}
				returned.add(1)
			}
		})
	}
	senders.Wait()
	sendsDone := time.Since(start)
	stopSends(errSendsDone)
	watch.Wait()
	notSent := 0
	for _, err := range errs {
		if err == errNotSent {
			notSent++
		}
	}
	require.Zero(t, notSent, "messages never sent: %v", context.Cause(sendCtx))

	// The last connection lives: Flush and the close handshake complete.
	srv.finishing.Store(true)
	end, cancelEnd := context.WithTimeout(ctx, deadline)
	defer cancelEnd()
	if err := c.Flush(end); err != nil {
		m, b := c.Buffered()
		require.NoError(t, err, "Flush after the last Send: client %s, %d messages (%d bytes) still queued; %s",
			c.State(), m, b, srv.counts())
	}
	require.NoError(t, c.Close(end), "Close")
	select {
	case <-c.Done():
	case <-end.Done():
		require.FailNow(t, "Done did not close")
	}
	srv.close()
	elapsed := time.Since(start)

	srv.mu.Lock()
	defer srv.mu.Unlock()
	drops.mu.Lock()
	defer drops.mu.Unlock()

	assert.Empty(t, srv.foreign, "the server read data messages that are not ours")
	assert.GreaterOrEqual(t, srv.kills, soakMinKills, "connections killed")

	number := make(map[uint64]int, soakMessages) // ID -> message number
	dupIDs := offenders{what: "SendID returned an ID already given"}
	for i, id := range ids {
		if j, ok := number[id]; ok {
			dupIDs.add("%d and %d: id %d", j, i, id)
		}
		number[id] = i
	}
	dupIDs.check(t)

	var (
		duplicated    = offenders{what: "received more than once"}
		silent        = offenders{what: "accepted, neither received nor reported (silent loss)"}
		reportedTwice = offenders{what: "accepted, reported more than once"}
		sentAnyway    = offenders{what: "reported as never sent (ErrBufferFull, ErrClosed), yet received"}
		refusedButGot = offenders{what: "Send returned an error, yet the message was reported or received"}
		badReason     = offenders{what: "reported with a reason other than ErrBufferFull, ErrClosed, ErrPossiblyLost"}
		badValue      = offenders{what: "reported with the Value of another message"}
		badSendErr    = offenders{what: "Send returned an error other than ErrBufferFull (under Fail) or a connection's"}
		unknown       = offenders{what: "reported with an ID that SendID never returned"}
	)
	var accepted, refused, received, bufferFull, closed, possiblyLost, lostReceived int
	sendErrs := map[string]int{}
	for i := range soakMessages {
		id, err, got := ids[i], errs[i], srv.received[i]
		reports := drops.byID[id]
		if got > 0 {
			received++
		}
		if got > 1 {
			duplicated.add("%d (id %d) %d times", i, id, got)
		}
		if err != nil {
			refused++
			sendErrs[soakErrKind(err)]++
			if len(reports) > 0 || got > 0 {
				refusedButGot.add("%d (id %d): Send %v; reported %v, received %d times", i, id, err, reports, got)
			}
			if kind := soakErrKind(err); kind != "connection" && (policy != stream.Fail || kind != "ErrBufferFull") {
				badSendErr.add("%d (id %d): %v", i, id, err)
			}
			continue
		}
		accepted++
		if got == 0 && len(reports) == 0 {
			silent.add("%d (id %d)", i, id)
		}
		if len(reports) > 1 {
			reportedTwice.add("%d (id %d): %v", i, id, reports)
		}
		if len(reports) > 0 && drops.byNumber[id] != i {
			badValue.add("%d (id %d): Value carries %d", i, id, drops.byNumber[id])
		}
		for _, r := range reports {
			switch {
			case errors.Is(r, tether.ErrBufferFull), errors.Is(r, tether.ErrClosed):
				if errors.Is(r, tether.ErrBufferFull) {
					bufferFull++
				} else {
					closed++
				}
				if got > 0 {
					sentAnyway.add("%d (id %d): %v, received %d times", i, id, r, got)
				}
			case errors.Is(r, tether.ErrPossiblyLost):
				possiblyLost++
				if got > 0 {
					lostReceived++
				}
			default:
				badReason.add("%d (id %d): %v", i, id, r)
			}
		}
	}
	for id := range drops.byID {
		if _, ok := number[id]; !ok {
			unknown.add("id %d", id)
		}
	}
	for _, o := range []*offenders{&duplicated, &silent, &reportedTwice, &sentAnyway, &refusedButGot,
		&badReason, &badValue, &badSendErr, &unknown} {
		o.check(t)
	}
	if duplicated.n+silent.n > 0 {
		// Where it happened: the last connections, as both sides saw them.
		for _, e := range srv.ends[max(0, len(srv.ends)-4):] {
			t.Logf("server: %s", e)
		}
		trace := c.Trace()
		for _, tr := range trace[max(0, len(trace)-8):] {
			t.Logf("client: %d %s -> %s (%s) code %d cause %v", tr.Seq, tr.From, tr.To, tr.Event, tr.CloseCode, tr.Cause)
		}
	}
	if policy != stream.Block {
		assert.Positive(t, bufferFull+sendErrs["ErrBufferFull"], "the %s policy never acted", policy)
	}
	if policy == stream.DropOldest || policy == stream.DropNewest {
		assert.Positive(t, bufferFull, "no drop reported with ErrBufferFull")
	}

	t.Logf("%s: %d sent (%d accepted, %d refused: %v), %d received; reported: %d ErrBufferFull, %d ErrClosed, "+
		"%d ErrPossiblyLost (%d of them received); %d connections, %d kills; sends %v, in all %v",
		policy, soakMessages, accepted, refused, sendErrs, received, bufferFull, closed,
		possiblyLost, lostReceived, srv.conns, srv.kills, sendsDone.Round(time.Millisecond), elapsed.Round(time.Millisecond))
}

// soakErrKind names a Send error for the summary. "connection" is the
// network error of a direct write that failed (a reset): Send's
// documentation allows it under every policy, as the message's only
// report. Here the server kills a connection only after reading, so such
// a message can never have been read.
func soakErrKind(err error) string {
	switch {
	case errors.Is(err, tether.ErrBufferFull):
		return "ErrBufferFull"
	case errors.Is(err, tether.ErrClosed):
		return "ErrClosed"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "ctx"
	}
	if _, ok := errors.AsType[*net.OpError](err); ok {
		return "connection"
	}
	return "other"
}

var (
	errNotSent   = errors.New("not sent")
	errSendsDone = errors.New("every message was sent")
)

// soakWatchdog stops the sends, with a failure that says where the client
// stands, when no Send returns for the length of deadline: a stall (a
// Send or a Flush waiting for a buffer that nothing drains) would
// otherwise cost the whole soakTimeout.
func soakWatchdog(t *testing.T, c *tether.Client[[]byte], ctx context.Context, stop context.CancelCauseFunc, returned *counter) {
	for n := returned.load(); n < soakMessages; n = returned.load() {
		wait, cancel := context.WithTimeout(ctx, deadline)
		err := returned.waitAtLeast(wait, n+1)
		cancel()
		if err == nil {
			continue
		}
		if ctx.Err() == nil {
			m, b := c.Buffered()
			err := fmt.Errorf("no Send returned for %v after %d: client %s, %d messages (%d bytes) queued",
				deadline, n, c.State(), m, b)
			assert.Fail(t, "the sends stalled", "%v", err)
			stop(err)
		}
		return
	}
}
