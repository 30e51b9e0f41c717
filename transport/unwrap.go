package transport

// Wrapper is implemented by a Conn that wraps another Conn (to label it, or
// to add behaviour around Close and Err), so that [BacklogOf],
// [ProgressOf], [DiscardsOf] and [ExpecterOf] find the optional interfaces
// of the Conn underneath.
//
// Unwrap returns the wrapped Conn, or nil when there is none. By
// implementing Wrapper, a wrapper promises that its Read returns what the
// wrapped Conn's Read returns, one message for one, and waits only while
// that Read waits: then the wrapped Conn's [Backlogger], [ProgressReporter],
// [DiscardCounter] and [ReaderExpecter] describe the wrapper too. A wrapper that drops,
// merges, reorders or delays messages must not implement Wrapper; it
// implements those interfaces itself, or leaves them out.
//
// Unwrap is safe from any goroutine and returns the same Conn for the life
// of the wrapper.
type Wrapper interface {
	Unwrap() Conn
}

// maxUnwrap bounds the Unwrap chain that [BacklogOf], [ProgressOf],
// [DiscardsOf] and [ExpecterOf] follow, so that a chain that loops back on itself ends
// their search instead of spinning.
const maxUnwrap = 64

// BacklogOf returns the [Backlogger] of c: c itself when it implements
// Backlogger, otherwise that of the Conn it wraps (see [Wrapper]), and so
// on down the chain. It returns nil when no Conn in the chain implements
// it (or the chain is longer than 64); the reader then hands on every
// message as it comes.
//
// BacklogOf is safe from any goroutine. The Buffered method of the result
// is for the reader goroutine only. Look it up once per Conn, not per
// message.
func BacklogOf(c Conn) Backlogger { return find[Backlogger](c) }

// ProgressOf returns the [ProgressReporter] of c: c itself when it
// implements ProgressReporter, otherwise that of the Conn it wraps (see
// [Wrapper]), and so on down the chain. It returns nil when no Conn in the
// chain implements it (or the chain is longer than 64); the caller then
// keeps its own account of what the reader is doing.
//
// ProgressOf and the ReadProgress method of the result are safe from any
// goroutine. Look it up once per Conn, not per call.
func ProgressOf(c Conn) ProgressReporter { return find[ProgressReporter](c) }

// DiscardsOf returns the [DiscardCounter] of c: c itself when it
// implements DiscardCounter, otherwise that of the Conn it wraps (see
// [Wrapper]), and so on down the chain. It returns nil when no Conn in the
// chain implements it (or the chain is longer than 64): that Conn throws
// no message away.
//
// DiscardsOf and the Discarded method of the result are safe from any
// goroutine.
func DiscardsOf(c Conn) DiscardCounter { return find[DiscardCounter](c) }

// ExpecterOf returns the [ReaderExpecter] of c: c itself when it
// implements ReaderExpecter, otherwise that of the Conn it wraps (see
// [Wrapper]), and so on down the chain. It returns nil when no Conn in the
// chain implements it (or the chain is longer than 64): that Conn needs no
// hint. Safe from any goroutine.
func ExpecterOf(c Conn) ReaderExpecter { return find[ReaderExpecter](c) }

// find returns the first Conn in c's Unwrap chain that implements T, or
// the zero T.
func find[T any](c Conn) T {
	for range maxUnwrap {
		if c == nil {
			break
		}
		if v, ok := c.(T); ok {
			return v
		}
		w, ok := c.(Wrapper)
		if !ok {
			break
		}
		c = w.Unwrap()
	}
	var none T
	return none
}

// ReleaserOf returns the [ReaderReleaser] of c: c itself when it
// implements ReaderReleaser, otherwise that of the Conn it wraps (see
// [Wrapper]), and so on down the chain. It returns nil when no Conn in the
// chain implements it (or the chain is longer than 64): that Conn keeps
// nothing for a reader in its close handshake. Safe from any goroutine.
func ReleaserOf(c Conn) ReaderReleaser { return find[ReaderReleaser](c) }
