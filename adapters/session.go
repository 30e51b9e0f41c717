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
	tracked bool         // the Connector made this session: Left is not nil

	// progress is the Conn's own account of its reads, or nil; then the
	// reader keeps one in reads and inRead.
	progress transport.ProgressReporter
	// confirmer is the Conn's account of the messages its peer
	// acknowledged, or nil: then only pongs confirm writes.
	confirmer transport.Confirmer
	reads     atomic.Uint64 // Read calls started plus Read calls returned
	inRead    atomic.Bool   // a Read is in progress
	gate      readerGate    // the reader's state, shared with the close limit
	lastFlush atomic.Bool   // the reader's last flush is under way, or done (see LastFlush)
	// closeReturned is when the Conn's Close returned (unix nanos), 0
	// before: a reader still given messages a close limit after it is
	// given up (see Connector.read).
	closeReturned atomic.Int64

	mu      sync.Mutex
	left    chan struct{} // Left's channel, made by its first call; closed once gone
	gone    bool          // the machine left Open (or a stage) for this session
	writes  uint64        // data messages recorded so far: the write mark
	rec     record        // written, not yet confirmed by the peer
	quietAt uint64        // the write mark at the latest Confirm
	limit   RecordLimits  // bounds of rec (see awaitRoom)
	room    chan struct{} // closed when entries leave the record; nil while nobody waits
	// unconfirmable: the Conn cannot ping and is no Confirmer (see
	// probeFailed): a full record is emptied by evict, not by the peer.
	unconfirmable bool
	ackSeq        uint64      // the number of the latest confirmation probe
	probes        []probe     // the probes outstanding, oldest first: at most probesPerRecord
	sinceN        int         // writes recorded since the latest probe
	sinceB        int         // their payload bytes
	sealed        bool        // Unconfirmed was called: the session's account is settled
	full          atomic.Bool // the record has no room, or the account is settled

	// The end of the session, as the outbox settles it (see Outbox.end).
	writers  atomic.Int32 // outbox writes under way on the session
	ended    atomic.Bool  // the session ended: no write may start
	settled  atomic.Bool  // its account was settled (once)
	endCause error        // why it ended; set before ended
	endClean bool         // the peer answered our close: everything is confirmed
}

// probe is a confirmation probe on its way: its number, and the write mark
// it was sent after (its answer confirms every write up to the mark).
type probe struct{ seq, mark uint64 }

// probesPerRecord is how many confirmation probes the record asks for as
// it fills: one each time 1/64 of its bound (by count or by bytes) was
// written since the last, up to 64 on their way at once. So a writer finds
// the record full only when the peer's answers lag by nearly all of it,
// and when a connection fails, what the peer had read is confirmed but
// for the last 1/64 of the bound at most: with the defaults, 512 messages
// or 64 KiB (with a quarter, four at once, a peer that read 6,000 of a
// burst of 10,000 small messages had confirmed none of them). A probe is
// a ping with an 18-byte payload, and its pong; it goes through the
// writer's buffer with the messages.
const probesPerRecord = 64

// Sent identifies a message written on a session.
type Sent struct {
	// ID is the identity the outbox gave the message.
	ID uint64
	// Value is what the user passed to Send, kept so a report can say which
	// message it was. nil for raw payloads.
	Value any
	// Size is the payload's length in bytes.
	Size int
}

// RecordLimits bound a session's record of unconfirmed writes: the
// messages written on the connection that the peer has not confirmed yet,
// each kept (its ID, Value and size) so that it can be reported if the
// connection fails. Confirmations come from pongs: the heartbeat's, and
// those of the confirmation probes (pings) the outbox sends each time
// 1/64 of either bound has been written since the last, so that the
// peer's answers arrive while writing goes on. A write that finds the
// record full waits for one (see [Outbox.Send]).
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
	DefaultMaxUnconfirmed      = 32768
	DefaultMaxUnconfirmedBytes = 4 << 20
)

// ackPrefix starts the payload of a confirmation probe; the probe's number
// follows, so its pong names the probe it answers.
const ackPrefix = "tether/ack"

// errSettled is what awaitRoom returns once the session's account is
// settled: the connection ended, and the write must go elsewhere.
var errSettled = errors.New("tether: session ended")

// Left returns a channel closed once the machine has left the states in
// which this session is the connection in use (Open, and the application
// stages before it): the session has ended, or its close handshake has
// started. It is nil for a Session the Connector did not make.
//
// The channel is made by the first call (few sessions are ever asked: an
// idle connection holds none), closed already when the session has left.
func (s *Session) Left() <-chan struct{} {
	if !s.tracked {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.left == nil {
		s.left = make(chan struct{})
		if s.gone {
			close(s.left)
		}
	}
	return s.left
}

// leave marks the session left and closes Left's channel if one was
// made, once.
func (s *Session) leave() {
	if !s.tracked {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone {
		return
	}
	s.gone = true
	if s.left != nil {
		close(s.left)
	}
}

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
// due (1/64 of the record's bound was written since the last one),
// which the caller
// sends as a ping at once. It reports false when the session's account was
// already settled (Unconfirmed was called): the caller must then report the
// message itself, since nobody else will.
func (s *Session) Wrote(id uint64, value any, size int) (probe []byte, ok bool) {
	s.mu.Lock()
	if s.sealed {
		s.mu.Unlock()
		return nil, false
	}
	s.writes++
	s.rec.push(Sent{ID: id, Value: value, Size: size}, s.writes)
	s.sinceN++
	s.sinceB += size
	s.acknowledged()
	if !s.hasRoom() {
		s.full.Store(true)
	}
	probe = s.probeDue(false)
	s.mu.Unlock()
	return probe, true
}

// WriteMark returns the mark of the latest write. A probe sent after reading
// it travels behind every message written up to the mark.
func (s *Session) WriteMark() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

// Confirm forgets every write up to mark, releasing what the record kept
// of them: the peer answered a probe sent after them, so over an ordered
// transport it has read them.
func (s *Session) Confirm(mark uint64) {
	s.mu.Lock()
	s.confirm(mark)
	// Nothing written since the previous Confirm (the heartbeat's, one
	// interval ago), and nothing left: the connection is quiet, and the
	// record's memory goes back.
	if w := s.writes; w == s.quietAt && s.rec.n == 0 {
		s.rec.release()
	} else {
		s.quietAt = w
	}
	s.mu.Unlock()
}

// distrust stops confirming writes by the Conn's acknowledgements
// (transport.Confirmer), before a write that failed is recorded: the Conn
// did not accept it, so it does not count it among its unacknowledged
// ones, and its acknowledgements would confirm it. Only a probe's answer
// confirms after that.
func (s *Session) distrust() {
	s.mu.Lock()
	s.confirmer = nil
	s.mu.Unlock()
}

// acknowledged confirms the writes the Conn's peer acknowledged, when the
// Conn says (transport.Confirmer): all but the latest Unconfirmed ones.
// s.mu is held.
func (s *Session) acknowledged() {
	if s.confirmer == nil {
		return
	}
	if n := uint64(max(s.confirmer.Unconfirmed(), 0)); n < s.writes {
		s.confirm(s.writes - n)
	}
}

// confirm is Confirm with s.mu held.
func (s *Session) confirm(mark uint64) {
	n := s.rec.confirm(mark)
	// The probes sent before mark are answered as far as they go (an
	// answer to a later probe, or a pong that covers them).
	i := 0
	for i < len(s.probes) && s.probes[i].mark <= mark {
		i++
	}
	s.probes = s.probes[:copy(s.probes, s.probes[i:])]
	if n > 0 {
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
	l := s.limits()
	return s.rec.n == 0 || (s.rec.n < l.Messages && s.rec.bytes < l.Bytes)
}

// probeDue returns the payload of a confirmation probe to send as a ping,
// and counts it outstanding, when one is due: 1/probesPerRecord of the record's
// bound (by count or by bytes) was written since the last probe and fewer
// than probesPerRecord are on their way. With force (a writer found the
// record full) one is due whenever the latest write is not covered by a
// probe on its way; the oldest probe is then forgotten if need be, since
// the new one covers more. s.mu is held.
func (s *Session) probeDue(force bool) []byte {
	if s.sealed || s.unconfirmable {
		return nil
	}
	mark := s.writes
	if force {
		if n := len(s.probes); n > 0 && s.probes[n-1].mark >= mark {
			return nil // the answer to the latest probe will confirm everything
		}
		if len(s.probes) == probesPerRecord {
			s.probes = s.probes[:copy(s.probes, s.probes[1:])]
		}
	} else {
		l := s.limits()
		if len(s.probes) == probesPerRecord ||
			(probesPerRecord*s.sinceN < l.Messages && probesPerRecord*s.sinceB < l.Bytes) {
			return nil
		}
	}
	s.ackSeq++
	s.probes = append(s.probes, probe{seq: s.ackSeq, mark: mark})
	s.sinceN, s.sinceB = 0, 0
	return binary.BigEndian.AppendUint64(append(make([]byte, 0, len(ackPrefix)+8), ackPrefix...), s.ackSeq)
}

// sendProbe sends the confirmation probe p as a ping; when it cannot, it
// forgets the probe, so that a writer that finds the record full asks
// again.
func (s *Session) sendProbe(ctx context.Context, p []byte) error {
	err := s.Conn.Ping(ctx, p)
	if err != nil {
		s.probeFailed(p, errors.Is(err, transport.ErrUnsupported))
	}
	return err
}

// probeFailed forgets the confirmation probe whose payload is p. With
// unsupported (the Conn cannot ping) and no Confirmer, nothing the session
// writes can be confirmed: it is unconfirmable from then on.
func (s *Session) probeFailed(p []byte, unsupported bool) {
	seq, ok := probeSeq(p)
	if !ok {
		return
	}
	s.mu.Lock()
	if unsupported && s.confirmer == nil {
		s.unconfirmable = true
	}
	for i, pr := range s.probes {
		if pr.seq == seq {
			s.probes = append(s.probes[:i], s.probes[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
}

// probeSeq returns the number of the confirmation probe whose payload
// (or whose pong's) is p, and false when p is not one of ours.
func probeSeq(p []byte) (uint64, bool) {
	if len(p) != len(ackPrefix)+8 || string(p[:len(ackPrefix)]) != ackPrefix {
		return 0, false
	}
	return binary.BigEndian.Uint64(p[len(ackPrefix):]), true
}

// answered confirms the writes covered by the confirmation probe that p, a
// pong's payload, answers, and so those of the probes sent before it (a
// peer may answer only the latest of several pings); a pong that answers
// no outstanding probe of ours is ignored.
func (s *Session) answered(p []byte) {
	seq, ok := probeSeq(p)
	if !ok {
		return
	}
	s.mu.Lock()
	for _, pr := range s.probes {
		if pr.seq == seq {
			s.confirm(pr.mark)
			break
		}
	}
	s.mu.Unlock()
}

// awaitRoom returns once the record has room for one more write: at once
// when it has. Otherwise it makes sure a confirmation probe is on its way
// (sending the ping itself when none is) and waits for the peer's answer.
// It returns errSettled when the session's account is settled meanwhile
// (the connection ended: write elsewhere), and ctx's error when ctx ends.
// On an unconfirmable session (see probeFailed) it makes room at once
// instead, and returns the writes it forgot to make it, oldest first,
// which the caller reports possibly lost (ErrUnconfirmable).
func (s *Session) awaitRoom(ctx context.Context) ([]Sent, error) {
	if !s.full.Load() {
		return nil, nil // the record had room when last changed: the common case
	}
	for {
		s.mu.Lock()
		if s.sealed || s.ended.Load() {
			s.mu.Unlock()
			return nil, errSettled
		}
		if s.hasRoom() {
			s.mu.Unlock()
			return nil, nil
		}
		if s.unconfirmable {
			out := s.evict()
			s.mu.Unlock()
			return out, nil
		}
		probe := s.probeDue(true)
		if s.room == nil {
			s.room = make(chan struct{})
		}
		room := s.room
		s.mu.Unlock()
		// A probe that cannot go out means the connection is failing: its
		// end settles the account, which wakes this wait.
		if probe != nil && s.sendProbe(ctx, probe) != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		select {
		case <-room: // a confirmation, or the account settled
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// evict forgets the oldest writes of a full, unconfirmable record until it
// holds at most three quarters of either bound, and returns them, oldest
// first. s.mu is held.
func (s *Session) evict() []Sent {
	l := s.limits()
	var out []Sent
	for n, b := s.rec.n, s.rec.bytes; n > 0 && (4*n > 3*l.Messages || 4*b > 3*l.Bytes); n-- {
		e := s.rec.at(len(out))
		out = append(out, e)
		b -= e.Size
	}
	s.confirm(s.rec.base + uint64(len(out)) - 1) // makes room, wakes waiters
	return out
}

// Unconfirmed returns the writes the peer has not confirmed, oldest first,
// forgets them, and settles the session's account: a later Wrote reports
// false.
func (s *Session) Unconfirmed() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acknowledged()
	var out []Sent
	if s.rec.n > 0 {
		out = s.rec.drain()
	}
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
	return s.rec.n, s.rec.bytes
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

// ReadyObserver is an Observer that also hears when a session is ready:
// when the machine reaches Open. Opened comes when the socket opens, which
// is earlier when the lifecycle has application stages between the two
// (see [fsm.LifecycleWith]); without stages Ready follows Opened at once.
// The [Outbox] writes from Ready on; the [Heartbeat] probes from Opened.
// Ready runs on the machine's actor, under Opened's rules.
type ReadyObserver interface {
	Observer
	Ready(s *Session)
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

// ControlObserver is an [InboundObserver] that may need only control
// frames (pings, pongs): while ControlOnly reports true, the connector does
// not call its Inbound for data messages, which keeps the hot path short.
// ControlOnly is asked once, when the observer is added.
type ControlObserver interface {
	InboundObserver
	ControlOnly() bool
}
