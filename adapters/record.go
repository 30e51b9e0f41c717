package adapters

// record holds a session's unconfirmed writes, oldest first, in a ring
// that grows by doubling: a busy connection writes into the same memory
// without moving what it holds. The session drops the ring when its
// heartbeat finds the connection quiet (see Session.Confirm), and at its
// end. It is not safe for concurrent use (Session.mu guards
// it).
//
// Entries carry no write mark: the session numbers its writes as it
// records them, one by one under its lock, so the entry i places after the
// oldest has the oldest's mark plus i. That keeps an entry at 32 bytes.
type record struct {
	ring  []Sent // circular, its length a power of two, or nil while empty
	first int    // index of the oldest entry
	n     int    // entries held
	bytes int    // their payload bytes
	base  uint64 // the write mark of the oldest entry, when n > 0
}

// minRecordRing is the ring's length when it is first needed.
const minRecordRing = 64

// push appends e, the write numbered mark, as the newest entry: mark is
// the newest entry's plus one.
func (r *record) push(e Sent, mark uint64) {
	if r.n == 0 {
		r.base = mark
	}
	if r.n == len(r.ring) {
		r.grow()
	}
	r.ring[(r.first+r.n)&(len(r.ring)-1)] = e
	r.n++
	r.bytes += e.Size
}

// grow doubles the ring, keeping the entries in order at its start.
func (r *record) grow() {
	ring := make([]Sent, max(2*len(r.ring), minRecordRing))
	r.copyTo(ring)
	r.ring, r.first = ring, 0
}

// copyTo copies the entries, oldest first, to dst, which has room for
// them.
func (r *record) copyTo(dst []Sent) {
	if r.n == 0 {
		return
	}
	end := r.first + r.n
	if end <= len(r.ring) {
		copy(dst, r.ring[r.first:end])
		return
	}
	k := copy(dst, r.ring[r.first:])
	copy(dst[k:], r.ring[:end-len(r.ring)])
}

// confirm forgets the entries whose mark is at most mark, clearing them so
// their values can be collected, and returns how many it forgot.
func (r *record) confirm(mark uint64) int {
	if r.n == 0 || mark < r.base {
		return 0
	}
	k := int(min(mark-r.base+1, uint64(r.n)))
	for range k {
		e := &r.ring[r.first]
		r.bytes -= e.Size
		*e = Sent{}
		r.first = (r.first + 1) & (len(r.ring) - 1)
	}
	r.n -= k
	r.base += uint64(k)
	if r.n == 0 {
		r.first = 0
	}
	return k
}

// at returns the entry i places after the oldest; i < n.
func (r *record) at(i int) Sent { return r.ring[(r.first+i)&(len(r.ring)-1)] }

// release drops the ring of an empty record.
func (r *record) release() {
	if r.n == 0 {
		r.ring, r.first = nil, 0
	}
}

// drain returns every entry, oldest first, and empties the record.
func (r *record) drain() []Sent {
	out := make([]Sent, r.n)
	r.copyTo(out)
	*r = record{}
	return out
}
