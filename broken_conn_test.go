package tether_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/adapters"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/transport"
)

// A custom transport whose Conn breaks its contract at its end: its Close
// never returns, or its Read is not unblocked by its Close. Either used to
// hold the client for ever: Closing and Done (a Close that never returns),
// Done and every later connection (a Read that never returns: the next
// reader waits for the previous one). WithCloseLimit bounds both.

// breakage says how a stuckConn breaks.
type breakage int

const (
	closeHangs        breakage = iota // Close blocks until released
	readIgnoresClose                  // a Read blocked when Close is called stays blocked until released
	readNeverEnds                     // once Close was called, Read returns a message at once, every time, until released
	closeLimitForTest = 100 * time.Millisecond
)

// stuckTransport wraps a transport; the first Conn it dials is broken as
// its breakage says, later ones are not.
type stuckTransport struct {
	transport.Transport
	how     breakage
	release chan struct{} // closed by the test: the broken Conn lets go
	mu      sync.Mutex
	dialed  int
}

func (t *stuckTransport) Dial(ctx context.Context, target transport.Target) (transport.Conn, error) {
	conn, err := t.Transport.Dial(ctx, target)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dialed++
	if t.dialed > 1 {
		return conn, nil
	}
	return &stuckConn{Conn: conn, how: t.how, release: t.release, closed: make(chan struct{})}, nil
}

type stuckConn struct {
	transport.Conn
	how       breakage
	release   chan struct{}
	closeOnce sync.Once
	closed    chan struct{}
	late      bool // Read returned its late message; the reader's own
}

func (c *stuckConn) Close(code transport.StatusCode, reason string) error {
	c.closeOnce.Do(func() { close(c.closed) })
	if c.how == closeHangs {
		<-c.release
	}
	return c.Conn.Close(transport.StatusAbnormalClosure, "") // an abort: no handshake to wait for
}

// Read is the inner Conn's, except that once Close was called it blocks
// until released, then returns one message (which the client must not
// deliver) and the end.
func (c *stuckConn) Read() (transport.Message, error) {
	if c.how == readNeverEnds {
		return c.readNeverEnds()
	}
	if c.how != readIgnoresClose {
		return c.Conn.Read()
	}
	select {
	case <-c.closed:
	default:
		msg, err := c.Conn.Read()
		if err == nil {
			return msg, nil
		}
		<-c.closed // the client's Close ended it
	}
	<-c.release
	if !c.late {
		c.late = true
		return transport.Message{Type: transport.Text, Payload: []byte("late")}, nil
	}
	return transport.Message{}, transport.ErrClosed
}

// readNeverEnds is Read for readNeverEnds: the inner Conn's until Close,
// then a "zombie" message at once on every call until released.
func (c *stuckConn) readNeverEnds() (transport.Message, error) {
	select {
	case <-c.closed:
	default:
		msg, err := c.Conn.Read()
		if err == nil {
			return msg, nil
		}
		<-c.closed
	}
	select {
	case <-c.release:
		return transport.Message{}, transport.ErrClosed
	default:
		return transport.Message{Type: transport.Text, Payload: []byte("zombie")}, nil
	}
}

// TestCloseLimitEndsAReadThatKeepsReturningMessages: a Conn whose Read,
// after its Close returned, hands out a message at once every time, for
// ever, is given up at the close limit as one that blocks is: Done closes,
// ErrConnAbandoned is reported, none of its messages reaches OnMessage,
// and what the reader read after Close is one drop report with the count.
// (Found by an outside review: the reader looped for ever, a core busy,
// Done never closed, and nothing was reported.)
func TestCloseLimitEndsAReadThatKeepsReturningMessages(t *testing.T) {
	e := newEnv(t)
	tr := &stuckTransport{Transport: e.srv.Transport(), how: readNeverEnds, release: make(chan struct{})}
	defer close(tr.release)
	first := make(chan struct{})
	var (
		mu        sync.Mutex
		delivered []string
		reported  []error
	)
	c, err := tether.New[string]("memory://feed", tether.WithTransport(tr), tether.WithoutHeartbeat(),
		tether.WithoutReconnect(), tether.WithCloseLimit(closeLimitForTest),
		tether.OnMessage(func(s string) {
			mu.Lock()
			delivered = append(delivered, s)
			mu.Unlock()
			if s == "first" {
				close(first)
			}
		}),
		tether.OnError(func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, c.Connect(ctx))
	sc := e.accept()
	require.NoError(t, sc.Send(ctx, transport.Text, []byte("first")))
	select {
	case <-first:
	case <-ctx.Done():
		require.FailNow(t, "the first message never arrived")
	}

	require.NoError(t, c.Close(ctx))
	waitDone(t, c) // the reader looped for ever here
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"first"}, delivered, "only what came before Close")
	require.True(t, containsError(reported, adapters.ErrConnAbandoned), "reported to OnError: %v", reported)
	var drops []*tether.InboundDropError
	for _, err := range reported {
		if d, ok := errors.AsType[*tether.InboundDropError](err); ok {
			drops = append(drops, d)
		}
	}
	require.Len(t, drops, 1, "one report for what was read after Close")
	assert.Positive(t, drops[0].Count)
	assert.ErrorIs(t, drops[0], tether.ErrClosed)
	assert.Equal(t, drops[0].Count, c.Stats().InboundDrops)
}

// TestCloseLimitEndsAConnWhoseCloseNeverReturns: Close returns and Done
// closes within the close limit, the Closed transition and the error stream
// carry adapters.ErrConnAbandoned. On the earlier code Close waited for
// its ctx and Done never closed.
func TestCloseLimitEndsAConnWhoseCloseNeverReturns(t *testing.T) {
	e := newEnv(t)
	tr := &stuckTransport{Transport: e.srv.Transport(), how: closeHangs, release: make(chan struct{})}
	defer close(tr.release)
	var reported []error
	c, err := tether.New[string]("memory://feed", tether.WithTransport(tr), tether.WithoutHeartbeat(),
		tether.WithoutReconnect(), tether.WithCloseLimit(closeLimitForTest),
		tether.OnError(func(err error) { reported = append(reported, err) }))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, c.Connect(ctx))
	e.accept()
	trs := c.Transitions(ctx)

	require.NoError(t, c.Close(ctx), "Close waited for a Conn whose Close never returns")
	waitDone(t, c)
	var closedBy error
	for tr := range trs.All() {
		if tr.To == fsm.Closed {
			closedBy = tr.Cause
		}
	}
	require.ErrorIs(t, closedBy, adapters.ErrConnAbandoned, "the Closed transition says why")
	require.True(t, containsError(reported, adapters.ErrConnAbandoned), "reported to OnError: %v", reported)
	require.True(t, containsError(reported, tether.ErrConnection), "as a connection error")
}

// TestCloseLimitEndsAReadThatCloseDoesNotUnblock: Done closes, the abandoned
// Read's late message is never delivered, and the report says which bound
// it broke. On the earlier code Done waited for the Read for ever.
func TestCloseLimitEndsAReadThatCloseDoesNotUnblock(t *testing.T) {
	before := goleak.IgnoreCurrent()
	e := newEnv(t)
	tr := &stuckTransport{Transport: e.srv.Transport(), how: readIgnoresClose, release: make(chan struct{})}
	released := false
	defer func() {
		if !released {
			close(tr.release)
		}
	}()
	var (
		mu        sync.Mutex
		delivered []string
		reported  []error
	)
	c, err := tether.New[string]("memory://feed", tether.WithTransport(tr), tether.WithoutHeartbeat(),
		tether.WithoutReconnect(), tether.WithCloseLimit(closeLimitForTest),
		tether.OnMessage(func(s string) { mu.Lock(); delivered = append(delivered, s); mu.Unlock() }),
		tether.OnError(func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, c.Connect(ctx))
	sc := e.accept()
	require.NoError(t, sc.Send(ctx, transport.Text, []byte("first")))

	closed := make(chan error, 1)
	go func() { closed <- c.Close(ctx) }()
	waitDone(t, c)
	require.NoError(t, <-closed)
	mu.Lock()
	require.True(t, containsError(reported, adapters.ErrConnAbandoned), "reported to OnError: %v", reported)
	mu.Unlock()

	// The Conn lets go: its Read returns a message, which must not reach
	// OnMessage after Done, and the reader goroutine ends.
	close(tr.release)
	released = true
	goleak.VerifyNone(t, before)
	mu.Lock()
	defer mu.Unlock()
	assert.NotContains(t, delivered, "late", "a message the abandoned Read returned was delivered after Done")
}

// TestCloseLimitLetsTheNextConnectionRead: Reconnect drops a connection
// whose Read its Close does not unblock. The next connection's reader used
// to wait for that Read for ever (readers run one at a time), so the new
// connection was Open and read nothing; it is abandoned after the close
// limit and the next connection's messages arrive.
func TestCloseLimitLetsTheNextConnectionRead(t *testing.T) {
	e := newEnv(t)
	tr := &stuckTransport{Transport: e.srv.Transport(), how: readIgnoresClose, release: make(chan struct{})}
	defer close(tr.release)
	got := make(chan string, 16)
	c, err := tether.New[string]("memory://feed", tether.WithTransport(tr), tether.WithoutHeartbeat(),
		tether.WithCloseLimit(closeLimitForTest),
		tether.OnMessage(func(s string) { got <- s }))
	require.NoError(t, err)
	defer shutDown(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, c.Connect(ctx))
	e.accept()

	require.NoError(t, c.Reconnect(ctx))
	second := e.accept()
	require.NoError(t, second.Send(ctx, transport.Text, []byte("on the next connection")))
	require.Equal(t, "on the next connection", recv(t, got))
}

// TestCloseLimitNeverGivesUpAReaderThatIsDelivering: the Close of a Conn
// (a Disconnect) is given up while the reader is inside OnMessage. The
// reader is the program's code there, which Done waits for: it is not
// given up, and delivers every message the server sent before the close;
// it is given up only once it waits in a Read that nothing will end.
func TestCloseLimitNeverGivesUpAReaderThatIsDelivering(t *testing.T) {
	c, got, proceed := blockedReaderClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	// Disconnect keeps what the peer sent for the reader.
	require.NoError(t, c.Disconnect(ctx), "the Conn's Close is given up after the limit")
	close(proceed) // the reader, busy all along, goes on
	for i := 1; i < 5; i++ {
		require.Equal(t, fmt.Sprintf("m%d", i), recv(t, got), "a reader delivering is not given up")
	}
	require.NoError(t, c.Close(ctx))
	waitDone(t, c)
	assert.Zero(t, c.Stats().InboundDrops)
}

// TestCloseLimitReportsWhatAGivenUpReaderCounted: Close is called while
// the reader is inside OnMessage, and the Conn's Close is given up. The
// reader then reads the rest, which reaches no user code after Close and
// is counted as dropped, and waits in a Read nothing ends, where the limit
// gives it up. Its count used to be reported only by its own last flush,
// which a reader given up never makes: 4 messages read and never reported.
func TestCloseLimitReportsWhatAGivenUpReaderCounted(t *testing.T) {
	c, _, proceed := blockedReaderClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, c.Close(ctx))
	close(proceed)
	waitDone(t, c)
	assert.Equal(t, uint64(4), c.Stats().InboundDrops, "the messages read after Close are reported")
}

// blockedReaderClient connects a client whose Conn's Close never returns,
// and whose OnMessage holds the first of five messages until proceed is
// closed; it returns once OnMessage holds it. got has every later message.
func blockedReaderClient(t *testing.T) (*tether.Client[string], <-chan string, chan struct{}) {
	t.Helper()
	e := newEnv(t)
	tr := &stuckTransport{Transport: e.srv.Transport(), how: closeHangs, release: make(chan struct{})}
	t.Cleanup(func() { close(tr.release) })
	entered, proceed := make(chan struct{}), make(chan struct{})
	got := make(chan string, 8)
	c, err := tether.New[string]("memory://feed", tether.WithTransport(tr), tether.WithoutHeartbeat(),
		tether.WithoutReconnect(), tether.WithCloseLimit(closeLimitForTest),
		tether.OnMessage(func(s string) {
			if s == "m0" {
				close(entered)
				<-proceed
				return
			}
			got <- s
		}))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, c.Connect(ctx))
	sc := e.accept()
	for i := range 5 {
		require.NoError(t, sc.Send(ctx, transport.Text, fmt.Appendf(nil, "m%d", i)))
	}
	select {
	case <-entered:
	case <-ctx.Done():
		require.FailNow(t, "OnMessage never ran")
	}
	return c, got, proceed
}

func containsError(errs []error, target error) bool {
	for _, err := range errs {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
