package adapters

// record holds a session's unconfirmed writes, oldest first, in a ring
// that grows by doubling: a busy connection writes into the same memory
// without moving what it holds. The session drops the ring when its
// heartbeat finds the connection quiet (see Session.Confirm), and at its
// end. It is not safe for concurrent use (Session.mu guards
// it).
type record struct {
	ring  []Sent // circular, its length a power of two, or nil while empty
	first int    // index of the oldest entry
	n     int    // entries held
	bytes int    // their payload bytes
}

// minRecordRing is the ring's length when it is first needed.
const minRecordRing = 64

// push appends e as the newest entry.
func (r *record) push(e Sent) {
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

// confirm forgets the entries from the oldest up to the first whose mark
// is above mark, clearing them so their values can be collected, and
// returns how many it forgot.
func (r *record) confirm(mark uint64) int {
	k := 0
	for r.n > 0 {
		e := &r.ring[r.first]
		if uint64(e.mark) > mark {
			break
		}
		r.bytes -= e.Size
		*e = Sent{}
		r.first = (r.first + 1) & (len(r.ring) - 1)
		r.n--
		k++
	}
	if r.n == 0 {
		r.first = 0
	}
	return k
}

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
