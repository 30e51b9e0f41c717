package websocket

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/tether-go/tether/transport"
)

// conn is the transport.Conn of this package. It starts no goroutine of
// its own: the caller's reader goroutine runs Read, writers write on their
// own goroutines through one writer, and Close runs the close handshake on
// the goroutine that calls it. The exceptions are the writer's flushing
// goroutine (see writer.flushLoop), which exists only while frames queued
// behind a write in progress wait to go out, and ends by itself, and the
// goroutine that finishes a connection the reader failed (see fail), which
// ends within the close timeout, or when Close ends the connection.
type conn struct {
	nc          net.Conn
	opts        *options
	subprotocol string

	// Read side; everything here is guarded by readMu, except that the
	// reader goroutine reads lookAhead and nextReady, which only it
	// writes, without it (in Buffered).
	readMu      sync.Mutex
	rd          *parkReader
	hbuf        [ws.MaxHeaderSize - 2]byte
	ctrl        [ws.MaxControlFramePayloadSize]byte
	buf         []byte    // the message being assembled, or the last one returned
	frag        bool      // inside a fragmented message
	msgOp       ws.OpCode // opcode of the message being assembled
	textChecked bool      // buffered found the next frame a whole text message in valid UTF-8
	lookAhead   bool      // Buffered was called: Read runs buffered as it returns
	nextReady   bool      // what buffered found at the end of the last Read
	utf8Done    int       // bytes of buf already checked as UTF-8
	fl          *deflate  // permessage-deflate, or nil; set before the connection is used

	// Close reading ahead for the reader (see awaitPeerClose); guarded by
	// readMu too.
	ahead         bool                // the holder of readMu is Close, reading ahead
	aheadTimedOut bool                // a read ahead ran into Close's deadline
	held          []transport.Message // data messages read ahead, for the Reads to come
	heldHead      int                 // the next of held to return
	heldBytes     int                 // what held counts against closeHoldLimit

	readCalled    atomic.Bool   // Read was called at least once, or ExpectReader: there is a reader
	readerWaiting atomic.Bool   // a Read waits for readMu
	discarded     atomic.Uint64 // data messages thrown away (see Discarded)

	w writer

	// Close state.
	mu       sync.Mutex
	closeErr *transport.CloseError // what this side sent or echoed; guarded by mu
	ended    bool                  // guarded by mu; set when done closes
	// closing: a close was sent or echoed; the reader reads on up to the
	// peer's (see awaitPeerClose). A failure does not set it (see
	// claimFail).
	closing     atomic.Bool
	closeCalled atomic.Bool
	over        atomic.Bool             // set once done is closed: cheaper to check than done on every Read
	released    atomic.Bool             // ReleaseReader: nothing read from now on is wanted
	failing     atomic.Pointer[failure] // set when the reader fails the connection (see failWith)
	peerClosed  chan struct{}           // closed when the peer's close frame answers ours
	peerOnce    sync.Once
	readerLeft  chan struct{} // a Read returned while a close was under way

	done    chan struct{}
	endOnce sync.Once
	err     error // set before done closes

	wg sync.WaitGroup // the writer's flushing goroutines, and fail
}

var (
	_ transport.Conn             = (*conn)(nil)
	_ transport.Backlogger       = (*conn)(nil)
	_ transport.ProgressReporter = (*conn)(nil)
	_ transport.DiscardCounter   = (*conn)(nil)
	_ transport.ReaderExpecter   = (*conn)(nil)
	_ transport.ReaderReleaser   = (*conn)(nil)
)

// newConn wraps an established WebSocket client connection. br holds bytes
// that arrived with the handshake answer, or is nil.
func newConn(nc net.Conn, br *bufio.Reader, opts *options, subprotocol string) *conn {
	c := &conn{
		nc:          nc,
		opts:        opts,
		subprotocol: subprotocol,
		peerClosed:  make(chan struct{}),
		readerLeft:  make(chan struct{}, 1),
		done:        make(chan struct{}),
	}
	wait, try := socketOf(nc)
	size := opts.readBufSize
	if size == 0 {
		size = DefaultBufferSize // kept for the connection's life
		if wait != nil {
			size = DefaultReadBufferSize // parked while the socket is empty
		}
	}
	if br != nil {
		hr := &handshakeReader{br: br, nc: nc}
		if wait != nil {
			netWait := wait
			wait = func() error {
				if hr.br != nil && hr.br.Buffered() > 0 {
					return nil // bytes that came with the handshake
				}
				return netWait()
			}
		}
		if try != nil {
			netTry := try
			try = func(b []byte) (int, error, bool) {
				if hr.buffered() {
					n, err := hr.Read(b) // bytes that came with the handshake first
					return n, err, true
				}
				return netTry(b)
			}
		}
		c.rd = newParkReader(hr, wait, size)
	} else {
		c.rd = newParkReader(nc, wait, size)
	}
	if wait != nil {
		c.rd.try = try
	}
	c.w.init(c, opts.writeBufSize)
	return c
}

// handshakeReader reads the bytes gobwas buffered with the handshake answer
// first, returns that buffer to gobwas's pool, then reads the connection.
// It is only used by the reader goroutine.
type handshakeReader struct {
	br *bufio.Reader
	nc net.Conn
}

// buffered reports whether bytes that came with the handshake are left;
// once none are, the handshake's buffer goes back to gobwas's pool.
func (r *handshakeReader) buffered() bool {
	if r.br == nil {
		return false
	}
	if r.br.Buffered() > 0 {
		return true
	}
	ws.PutReader(r.br)
	r.br = nil
	return false
}

func (r *handshakeReader) Read(p []byte) (int, error) {
	if r.buffered() {
		return r.br.Read(p)
	}
	return r.nc.Read(p)
}

// Done is closed when the connection has ended. Safe from any goroutine.
func (c *conn) Done() <-chan struct{} { return c.done }

// Err reports how the connection ended, or nil while it is up. From the
// moment the reader fails the connection (1002, 1007 or 1009, see
// failWith) it reports that local *transport.CloseError, already while the
// close frame goes out and the peer is given time to hang up (Done is
// closed after that), and it keeps reporting it afterwards, whatever ends
// the connection then. Safe from any goroutine.
func (c *conn) Err() error {
	if f := c.failing.Load(); f != nil {
		return f.err
	}
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Subprotocol returns the subprotocol the server selected, or "". Safe from
// any goroutine.
func (c *conn) Subprotocol() string { return c.subprotocol }

// end ends the connection with err (the first call wins) and closes the
// network connection, which unblocks every pending read and write. An
// abnormal end (1006) first salvages what the socket still holds (see
// salvage), before Done closes, so that a reader woken by Done finds it
// counted.
func (c *conn) end(err error) {
	c.endOnce.Do(func() {
		c.mu.Lock()
		c.ended = true
		c.mu.Unlock()
		c.err = err
		// The salvage holds readMu until Done is closed and the
		// connection marked over, so that no Read reads the socket
		// meanwhile, nor sees it over before Err reports the end.
		ce, ok := err.(*transport.CloseError)
		salvage := ok && ce.Code == transport.StatusAbnormalClosure && c.failing.Load() == nil && c.readMu.TryLock()
		if c.w.cc != nil {
			c.w.cc.end()
		}
		if salvage {
			c.salvage()
		}
		close(c.done)
		c.over.Store(true)
		if salvage {
			c.readMu.Unlock()
		}
		c.nc.Close()
	})
}

// salvageWait bounds how long each read of salvage waits for the peer's
// next bytes, and salvageMax the whole salvage: what a peer that is gone
// had sent is in the socket already, and a peer that still sends is not
// read for ever.
const (
	salvageWait = 10 * time.Millisecond
	salvageMax  = 250 * time.Millisecond
)

// salvage runs, under readMu, when the connection ends abnormally (an
// abort, a failed write) while no Read is in progress and the reader has
// not failed the connection itself (then the input may stop inside a
// frame). It reads what the socket still holds, and counts its data
// messages in Discarded, instead of closing the socket with them unseen:
// the peer sent them, and the reader, busy elsewhere (a consumer that
// stalled, a hold), finds the end reported with them rather than a silent
// loss. Messages a Close read ahead stay for the Reads to come. A Read in
// progress when the connection ends is not helped: the socket closes under
// it, and what it had not read is lost with it.
//
// Each read of the socket gets at least salvageWait/2 from its own start:
// one deadline for the whole salvage ran out when the reads took longer (a
// busy machine, a slow socket) with messages still in the socket,
// uncounted (TestSalvageThatTakesLongCountsEverything).
func (c *conn) salvage() {
	// A net.Conn that does not honour the deadline (a wrapper of the
	// program's own) is closed instead, which end does next anyway: when
	// no read has moved the deadline on for twice its length, or after
	// salvageMax in all, for a peer that keeps sending.
	closeConn := func() { _ = c.nc.Close() }
	stalled := time.AfterFunc(time.Hour, closeConn)
	defer stalled.Stop()
	total := time.AfterFunc(salvageMax, closeConn)
	defer total.Stop()
	// The deadline moves on when half of it has passed, not on every
	// read: a read that finds bytes waiting is quick, a timer is not.
	var last time.Time
	refresh := func() error {
		now := time.Now()
		if now.Sub(last) < salvageWait/2 {
			return nil
		}
		last = now
		stalled.Reset(2 * salvageWait)
		return c.nc.SetReadDeadline(now.Add(salvageWait))
	}
	if refresh() != nil {
		return
	}
	p := c.rd
	src, wait, try := p.src, p.wait, p.try
	defer func() { p.src, p.wait, p.try = src, wait, try }()
	p.src = refreshingReader{src, refresh}
	if wait != nil {
		p.wait = func() error {
			if err := refresh(); err != nil {
				return err
			}
			return wait()
		}
	}
	if try != nil {
		p.try = func(b []byte) (int, error, bool) {
			if err := refresh(); err != nil {
				return 0, err, true
			}
			return try(b)
		}
	}
	_ = c.discardUntilClose()
}

// refreshingReader moves the read deadline on before each read of r.
type refreshingReader struct {
	r       io.Reader
	refresh func() error
}

func (r refreshingReader) Read(p []byte) (int, error) {
	if err := r.refresh(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// claimClose records ce as the close this side sends, unless a close is
// already under way or the connection has ended. Exactly one caller wins;
// it then sends the close frame.
func (c *conn) claimClose(ce *transport.CloseError) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.claimLocked(ce) {
		return false
	}
	c.closing.Store(true)
	return true
}

// claimFail is claimClose for a connection the reader fails: on success
// it records the failure, which Err and every Read report from then on,
// and returns it; otherwise nil. It leaves closing unset: no Read reads
// any more, and Buffered reports the next Read ready.
func (c *conn) claimFail(ce *transport.CloseError) *failure {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.claimLocked(ce) {
		return nil
	}
	f := &failure{err: ce, sent: make(chan struct{})}
	c.failing.Store(f)
	return f
}

// claimLocked records ce as the close this side sends, mu held, unless a
// close is already under way or the connection has ended.
func (c *conn) claimLocked(ce *transport.CloseError) bool {
	if c.closeErr != nil || c.ended {
		return false
	}
	c.closeErr = ce
	return true
}

// sentClose returns the close this side sent or echoed.
func (c *conn) sentClose() *transport.CloseError {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeErr
}

// track counts one more writer goroutine in wg, which Close waits for,
// unless the connection has ended; it reports whether it did. The caller
// then starts the goroutine, which calls wg.Done when it ends.
func (c *conn) track() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return false
	}
	c.wg.Add(1)
	return true
}

// closedError is what Write and Ping return once the connection is closing
// or has ended: it matches transport.ErrClosed and, when the connection has
// ended, the error Err reports.
func (c *conn) closedError(op string) error {
	if err := c.Err(); err != nil {
		return fmt.Errorf("tether/websocket: %s: %w: %w", op, transport.ErrClosed, err)
	}
	return fmt.Errorf("tether/websocket: %s: %w", op, transport.ErrClosed)
}
