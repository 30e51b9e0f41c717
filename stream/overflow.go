package stream

import "strconv"

// Overflow is what a bounded queue does with a value that arrives when it is
// full: a subscriber's queue ([WithOverflow]) or a client's send buffer
// (tether.WithSendBuffer). One type, one meaning per name, for both. The
// zero value is [Block], the default for both: nothing is lost unless its
// owner chose a dropping policy by name. [Disconnect] applies to
// subscribers only and [Fail] to the send buffer only; each option refuses
// the other.
type Overflow uint8

// Overflow policies. See the package documentation for a comparison.
const (
	// Block waits for room. A subscriber: Publish waits until the
	// subscriber has room or ends (by Close, the end of its context,
	// Hub.Close or Hub.Unblock); a slow subscriber slows the publisher, and
	// so every other subscriber, down: for a Client, the reader waits and
	// TCP slows the server. The send buffer: Send waits, under its ctx.
	// Nothing is dropped. The default.
	Block Overflow = iota
	// DropOldest discards the oldest queued value to make room: the queue
	// keeps the newest values, for a live feed (metrics, prices, status)
	// that is worth most when it is fresh. Every drop is reported.
	DropOldest
	// DropNewest discards the arriving value: the queue keeps the values
	// that were queued first. Every drop is reported (a Send so dropped
	// returns nil).
	DropNewest
	// Disconnect, for subscribers only, closes the subscriber with
	// [ErrSlowSubscriber] and drops the arriving values that did not fit
	// (the rest of a batch, with [Hub.PublishEach]). Values already queued
	// can still be read.
	Disconnect
	// Fail, for the send buffer only, makes Send return an error matching
	// tether.ErrBufferFull; nothing is queued or reported (the caller holds
	// the message and the error).
	Fail
)

// String returns "block", "drop-oldest", "drop-newest", "disconnect" or
// "fail".
func (o Overflow) String() string {
	switch o {
	case DropOldest:
		return "drop-oldest"
	case DropNewest:
		return "drop-newest"
	case Block:
		return "block"
	case Disconnect:
		return "disconnect"
	case Fail:
		return "fail"
	}
	return "Overflow(" + strconv.Itoa(int(o)) + ")"
}

// valid reports whether o is a policy a subscriber may use.
func (o Overflow) valid() bool { return o <= Disconnect }
