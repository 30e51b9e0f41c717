package adapters

import (
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

	writes   atomic.Uint64 // data messages written so far: the write mark
	mu       sync.Mutex
	inflight []Sent // inflight[head:]: written, not yet confirmed by the peer, oldest first
	head     int
	evicted  uint64
	sealed   bool // Unconfirmed was called: the session's account is settled
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

// maxInflight bounds how many unconfirmed writes a session remembers. With
// the heartbeat on, each pong confirms what was written before its ping, so
// the list stays short; without it, the oldest entries are forgotten once
// the bound is reached (see Session.Evicted).
const maxInflight = 4096

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
// connection, and returns its write mark. It reports false when the
// session's account was already settled (Unconfirmed was called): the
// caller must then report the message itself, since nobody else will.
func (s *Session) Wrote(id uint64, value any, size int) (uint64, bool) {
	mark := s.writes.Add(1)
	s.mu.Lock()
	if s.sealed {
		s.mu.Unlock()
		return mark, false
	}
	if len(s.inflight)-s.head == maxInflight {
		s.inflight[s.head] = Sent{}
		s.head++
		s.evicted++
	}
	s.inflight = append(s.inflight, Sent{ID: id, Value: value, Size: size, mark: int64(mark)})
	s.compact()
	s.mu.Unlock()
	return mark, true
}

// WriteMark returns the mark of the latest write. A probe sent after reading
// it travels behind every message written up to the mark.
func (s *Session) WriteMark() uint64 { return s.writes.Load() }

// Confirm forgets every write up to mark: the peer answered a probe sent
// after them, so over an ordered transport it has read them.
func (s *Session) Confirm(mark uint64) {
	s.mu.Lock()
	for s.head < len(s.inflight) && uint64(s.inflight[s.head].mark) <= mark {
		s.inflight[s.head] = Sent{}
		s.head++
	}
	s.compact()
	s.mu.Unlock()
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
	s.inflight, s.head = nil, 0
	s.sealed = true
	return out
}

// Evicted returns how many unconfirmed writes were forgotten because more
// than 4096 were outstanding at once.
func (s *Session) Evicted() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.evicted
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
