package adapters

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/transport"
)

// Session is one connection from its dial to its end, as the adapters see
// it. The [Connector] makes one per successful dial; observers receive it.
//
// The exported fields are set before the session is handed to anyone and
// never change. The methods are safe for concurrent use.
type Session struct {
	// Epoch is the machine's epoch of the dial that made this connection.
	// Inputs about this session carry it, so they cannot touch a later one.
	Epoch uint64
	// Conn is the connection.
	Conn transport.Conn
	// Transport names the transport that made Conn.
	Transport string

	opened  atomic.Int64 // unix nanos of the Open transition
	closing atomic.Bool  // the user asked to close this session

	// progress is the Conn's own account of its reads, or nil; then the
	// reader keeps one in reads and inRead.
	progress transport.ProgressReporter
	reads    atomic.Uint64 // Read calls started plus Read calls returned
	inRead   atomic.Bool   // a Read is in progress

	writes atomic.Uint64 // data messages written so far: the write mark

	mu       sync.Mutex
	inflight []Sent // inflight[head:]: written, not yet confirmed by the peer, oldest first
	head     int
	bytes    int           // the payload bytes of inflight[head:]
	limit    RecordLimits  // bounds of inflight[head:] (see awaitRoom)
	room     chan struct{} // closed when entries leave the record; nil while nobody waits
	ackSeq   uint64        // the number of the latest confirmation probe
	ackMark  uint64        // its write mark, while it is outstanding
	asking   bool          // a confirmation probe is outstanding
	sealed   bool          // Unconfirmed was called: the session's account is settled
	full     atomic.Bool   // the record has no room, or the account is settled

	// The end of the session, as the outbox settles it (see Outbox.end).
	writers  atomic.Int32 // outbox writes under way on the session
	ended    atomic.Bool  // the session ended: no write may start
	settled  atomic.Bool  // its account was settled (once)
	endCause error        // why it ended; set before ended
	endClean bool         // the peer answered our close: everything is confirmed
}

// Sent identifies a message written on a session.
type Sent struct {
	// ID is the identity the outbox gave the message.
	ID uint64
	// Value is what the user passed to Send, kept so a report can say which
	// message it was. nil for raw payloads.
	Value any
	// Size is the payload's length in bytes.
	Size int
	mark int64
}

// RecordLimits bound a session's record of unconfirmed writes: the
// messages written on the connection that the peer has not confirmed yet,
// each kept (its ID, Value and size) so that it can be reported if the
// connection fails. Confirmations come from pongs: the heartbeat's, and a
// confirmation probe (a ping) the outbox sends whenever the record is half
// full. A write that finds the record full waits for one (see
// [Outbox.Send]).
type RecordLimits struct {
	// Messages bounds how many writes the record holds. Default
	// DefaultMaxUnconfirmed.
	Messages int
	// Bytes bounds the payload bytes of the writes it holds (a Value kept
	// for a report is usually as large as its payload). Default
	// DefaultMaxUnconfirmedBytes. One message larger than Bytes is still
	// written when the record is empty.
	Bytes int
}

// Default bounds of the record of unconfirmed writes.
const (
	DefaultMaxUnconfirmed      = 4096
	DefaultMaxUnconfirmedBytes = 4 << 20
)

// ackPrefix starts the payload of a confirmation probe; the probe's number
// follows, so its pong names the probe it answers.
const ackPrefix = "tether/ack"

// errSettled is what awaitRoom returns once the session's account is
// settled: the connection ended, and the write must go elsewhere.
var errSettled = errors.New("tether: session ended")

// OpenedAt returns when the session became Open, or the zero time.
func (s *Session) OpenedAt() time.Time {
	if n := s.opened.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// ReadProgress reports what the session's reader has done: a count that
// grows with everything it received, and whether it is waiting for the
// network right now (rather than busy handing a message on, or not reading
// at all). The count is in bytes when the Conn reports its progress (see
// [transport.ProgressReporter]); otherwise it counts the reader's Read
// calls, started and returned, and waiting means a Read is in progress.
// Safe from any goroutine.
func (s *Session) ReadProgress() (received uint64, waiting bool) {
	if s.progress != nil {
		return s.progress.ReadProgress()
	}
	return s.reads.Load(), s.inRead.Load()
}

// Closing reports whether the user asked to close this session.
func (s *Session) Closing() bool { return s.closing.Load() }

// Wrote records that the message id (with its user value) was handed to the
// connection. It returns the payload of a confirmation probe when one is
// due (the record is half full and none is outstanding), which the caller
// sends as a ping at once. It reports false when the session's account was
// already settled (Unconfirmed was called): the caller must then report the
// message itself, since nobody else will.
func (s *Session) Wrote(id uint64, value any, size int) (probe []byte, ok bool) {
	mark := s.writes.Add(1)
	s.mu.Lock()
	if s.sealed {
		s.mu.Unlock()
		return nil, false
	}
	s.inflight = append(s.inflight, Sent{ID: id, Value: value, Size: size, mark: int64(mark)})
	s.bytes += size
	if !s.hasRoom() {
		s.full.Store(true)
	}
	probe = s.probeDue()
	s.mu.Unlock()
	return probe, true
}

// WriteMark returns the mark of the latest write. A probe sent after reading
// it travels behind every message written up to the mark.
func (s *Session) WriteMark() uint64 { return s.writes.Load() }

// Confirm forgets every write up to mark, releasing what the record kept
// of them: the peer answered a probe sent after them, so over an ordered
// transport it has read them.
func (s *Session) Confirm(mark uint64) {
	s.mu.Lock()
	s.confirm(mark)
	s.mu.Unlock()
}

// confirm is Confirm with s.mu held.
func (s *Session) confirm(mark uint64) {
	n := 0
	for s.head < len(s.inflight) && uint64(s.inflight[s.head].mark) <= mark {
		s.bytes -= s.inflight[s.head].Size
		s.inflight[s.head] = Sent{}
		s.head++
		n++
	}
	if s.asking && mark >= s.ackMark {
		s.asking = false // a later probe covers as much as ours
	}
	if n > 0 {
		s.compact()
		if s.hasRoom() {
			s.full.Store(false)
		}
		s.wake()
	}
}

// wake wakes the writes waiting for room. s.mu is held.
func (s *Session) wake() {
	if s.room != nil {
		close(s.room)
		s.room = nil
	}
}

// limits returns the record's bounds, defaults filled in. s.mu is held.
func (s *Session) limits() RecordLimits {
	l := s.limit
	if l.Messages < 1 {
		l.Messages = DefaultMaxUnconfirmed
	}
	if l.Bytes < 1 {
		l.Bytes = DefaultMaxUnconfirmedBytes
	}
	return l
}

// SetRecordLimits sets the bounds of the record of unconfirmed writes;
// values below 1 keep the defaults. The outbox calls it when the session
// opens, before anything is written.
func (s *Session) SetRecordLimits(l RecordLimits) {
	s.mu.Lock()
	s.limit = l
	s.mu.Unlock()
}

// hasRoom reports whether one more write fits in the record. An empty
// record takes a write of any size. s.mu is held.
func (s *Session) hasRoom() bool {
	n, l := len(s.inflight)-s.head, s.limits()
	return n == 0 || (n < l.Messages && s.bytes < l.Bytes)
}

// probeDue reports, when the record is at least half full (by count or by
// bytes) and no confirmation probe is outstanding, the payload of a new
// probe to send as a ping, and marks it outstanding. s.mu is held.
func (s *Session) probeDue() []byte {
	if s.asking || s.sealed {
		return nil
	}
	n, l := len(s.inflight)-s.head, s.limits()
	if 2*n < l.Messages && 2*s.bytes < l.Bytes {
		return nil
	}
	s.asking = true
	s.ackSeq++
	s.ackMark = s.writes.Load()
	return binary.BigEndian.AppendUint64(append(make([]byte, 0, len(ackPrefix)+8), ackPrefix...), s.ackSeq)
}

// sendProbe sends the confirmation probe p as a ping; when it cannot, it
// forgets the probe, so that the next write asks again.
func (s *Session) sendProbe(ctx context.Context, p []byte) error {
	err := s.Conn.Ping(ctx, p)
	if err != nil {
		s.probeFailed()
	}
	return err
}

// probeFailed forgets the outstanding confirmation probe.
func (s *Session) probeFailed() {
	s.mu.Lock()
	s.asking = false
	s.mu.Unlock()
}

// answered confirms the writes covered by the confirmation probe that p, a
// pong's payload, answers; a pong that answers no outstanding probe of ours
// is ignored.
func (s *Session) answered(p []byte) {
	if len(p) != len(ackPrefix)+8 || string(p[:len(ackPrefix)]) != ackPrefix {
		return
	}
	s.mu.Lock()
	if s.asking && binary.BigEndian.Uint64(p[len(ackPrefix):]) == s.ackSeq {
		s.confirm(s.ackMark)
		s.asking = false
	}
	s.mu.Unlock()
}

// awaitRoom returns once the record has room for one more write: at once
// when it has. Otherwise it makes sure a confirmation probe is on its way
// (sending the ping itself when none is) and waits for the peer's answer.
// It returns errSettled when the session's account is settled meanwhile
// (the connection ended: write elsewhere), and ctx's error when ctx ends.
func (s *Session) awaitRoom(ctx context.Context) error {
	if !s.full.Load() {
		return nil // the record had room when last changed: the common case
	}
	for {
		s.mu.Lock()
		if s.sealed || s.ended.Load() {
			s.mu.Unlock()
			return errSettled
		}
		if s.hasRoom() {
			s.mu.Unlock()
			return nil
		}
		probe := s.probeDue()
		if s.room == nil {
			s.room = make(chan struct{})
		}
		room := s.room
		s.mu.Unlock()
		// A probe that cannot go out means the connection is failing: its
		// end settles the account, which wakes this wait.
		if probe != nil && s.sendProbe(ctx, probe) != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		select {
		case <-room: // a confirmation, or the account settled
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// compact moves the live entries to the front once the dead prefix is as
// long as they are, so eviction and confirmation cost O(1) amortised.
// s.mu is held.
func (s *Session) compact() {
	if s.head == len(s.inflight) {
		s.inflight, s.head = s.inflight[:0], 0
		return
	}
	if s.head < 64 || s.head < len(s.inflight)-s.head {
		return
	}
	n := copy(s.inflight, s.inflight[s.head:])
	clear(s.inflight[n:])
	s.inflight, s.head = s.inflight[:n], 0
}

// Unconfirmed returns the writes the peer has not confirmed, oldest first,
// forgets them, and settles the session's account: a later Wrote reports
// false.
func (s *Session) Unconfirmed() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.inflight[s.head:]
	s.inflight, s.head, s.bytes = nil, 0, 0
	s.sealed = true
	s.full.Store(true) // writers take awaitRoom's slow path, and learn it is settled
	s.wake()
	return out
}

// markEnded records the session's end and wakes the writes waiting for
// room, which then go elsewhere.
func (s *Session) markEnded(cause error, clean bool) {
	s.mu.Lock()
	s.endCause, s.endClean = cause, clean
	s.ended.Store(true)
	s.full.Store(true) // writers take awaitRoom's slow path, and see it
	s.wake()
	s.mu.Unlock()
}

// Pending returns how many writes, and how many payload bytes, the record
// holds: written, not confirmed yet.
func (s *Session) Pending() (messages, bytes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.inflight) - s.head, s.bytes
}

// Observer follows each session's life. The [Connector] calls it; the
// [Heartbeat] and the [Outbox] are observers.
//
// Opened and Ended run on the machine's actor, inside a hook: they must not
// block and must not call the machine's Fire.
type Observer interface {
	Opened(s *Session)
	Ended(s *Session, tr fsm.Transition)
}

// InboundObserver is an Observer that also sees every inbound message. The
// Connector calls Inbound only on observers that implement it, so one
// that has no use for messages costs the read loop nothing.
//
// Inbound runs on the session's reader goroutine for every message, control
// frames included, before the message is delivered; it is the hot path and
// must be cheap. The payload is borrowed: it is valid only during the call.
type InboundObserver interface {
	Observer
	Inbound(s *Session, m transport.Message)
}
