package stream

import "strconv"

// Overflow is what a subscriber's queue does with a value that arrives when
// the queue is full. The zero value is [Block], the default: nothing is
// lost unless the subscriber chose a dropping policy by name.
type Overflow uint8

// Overflow policies. See the package documentation for a comparison.
const (
	// Block makes Publish wait until the subscriber has room or ends (by
	// Close, the end of its context, Hub.Close or Hub.Unblock). Nothing is
	// dropped; a slow subscriber slows the publisher, and so every other
	// subscriber, down: for a Client, the reader waits and TCP slows the
	// server. The default.
	Block Overflow = iota
	// DropOldest discards the oldest queued value to make room: the
	// subscriber keeps the newest values, for a live feed (metrics,
	// prices, status) that is worth most when it is fresh.
	DropOldest
	// DropNewest discards the arriving value: the subscriber keeps the
	// values that were queued first.
	DropNewest
	// Disconnect closes the subscriber with [ErrSlowSubscriber] and drops
	// the arriving values that did not fit (the rest of a batch, with
	// [Hub.PublishEach]). Values already queued can still be read.
	Disconnect
)

// String returns "drop-oldest", "drop-newest", "block" or "disconnect".
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
	}
	return "Overflow(" + strconv.Itoa(int(o)) + ")"
}

func (o Overflow) valid() bool { return o <= Disconnect }
