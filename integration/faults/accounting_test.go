package faults

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
)

// accounting is the fate of every message of a test.
type accounting struct {
	// Client to server.
	sent          int // Send calls
	sendErrs      int // Send returned an error: the caller was told at once
	received      int // distinct messages the server received
	lost          int // Send returned nil, the server never received it
	reported      int // messages reported on the error stream (*tether.DropError, *tether.PossiblyLostError)
	reportedAgain int // reported, yet the server received them (possibly lost, not lost)
	disconnected  int // Send called while the client was not Open, and accepted
	// Server to client.
	serverSent  int // messages the server sent without error
	clientGot   int // messages the client received
	tailsLost   int // connections whose last messages never reached the client
	leftOpen    int // transitions out of Open (drops, heartbeat timeouts, the user's close)
	opens       int // transitions to Open
	heardConns  int // connections the client received messages on
	sendErrKind map[string]int
	sendErrText []string // the first few errors Send returned, other than ErrClosed
}

func (a accounting) String() string {
	kinds := make([]string, 0, len(a.sendErrKind))
	for k, n := range a.sendErrKind {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(kinds)
	return fmt.Sprintf("client->server: sent %d (while disconnected %d), Send errors %d [%s] %q, received %d, "+
		"lost %d, all of them reported; reported %d (of which received anyway %d); "+
		"server->client: sent %d, received %d, connections heard %d, tails lost %d, drops/closes %d, opens %d",
		a.sent, a.disconnected, a.sendErrs, strings.Join(kinds, " "), a.sendErrText, a.received, a.lost, a.reported, a.reportedAgain,
		a.serverSent, a.clientGot, a.heardConns, a.tailsLost, a.leftOpen, a.opens)
}

// finish stops the traffic, closes the client, and checks the loss
// accounting of the whole test:
//
//   - every message Send accepted arrived at the server or was reported on
//     the error stream as a *tether.DropError or in a
//     *tether.PossiblyLostError (waiting, within the
//     deadline, for the reports of the last connection);
//   - none arrived twice, and they arrived in the order they were sent;
//   - every message carried its pad intact, both ways;
//   - on each connection the client received the server's messages without
//     a gap from the first one on; only the tail of a connection can be
//     missing, and only on connections the client saw end (as many as the
//     transitions out of Open);
//   - the client heard from no more connections than it opened.
func (r *rig) finish() accounting {
	r.t.Helper()
	r.snd.halt()
	closeCtx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(r.t, r.c.Close(closeCtx))
	return r.account()
}

// account checks the accounting (see finish) once the client is closed or
// the traffic stopped.
func (r *rig) account() accounting {
	r.t.Helper()
	recs := r.snd.records()
	covered := func() (missing []int) {
		for i, s := range recs {
			if s.err == nil && !r.srv.has(i+1) && !r.rec.reported(s.id) {
				missing = append(missing, i+1)
			}
		}
		return missing
	}
	if err := r.bell.until(r.ctx, func() bool { return len(covered()) == 0 }); err != nil {
		m := covered()
		require.Failf(r.t, "messages lost silently",
			"%d messages accepted by Send never reached the server and were never reported, first %v",
			len(m), m[:min(len(m), 20)])
	}

	a := accounting{sent: len(recs), sendErrKind: map[string]int{}}
	snap := r.srv.snapshot()
	counts := make(map[int]int, len(snap.got))
	for _, q := range snap.got {
		counts[q]++
	}
	for i, s := range recs {
		seq := i + 1
		if s.err != nil {
			a.sendErrs++
			a.sendErrKind[errKind(s.err)]++
			if errKind(s.err) == "other" && len(a.sendErrText) < 3 {
				a.sendErrText = append(a.sendErrText, s.err.Error())
			}
			assert.Zero(r.t, counts[seq], "message %d: Send returned %v, yet the server received it", seq, s.err)
			continue
		}
		if s.disconnected {
			a.disconnected++
		}
		if counts[seq] == 0 {
			a.lost++
		}
		if r.rec.reported(s.id) {
			a.reported++
			if counts[seq] > 0 {
				a.reportedAgain++
			}
		}
	}
	a.received = len(counts)
	for seq, n := range counts {
		assert.Equal(r.t, 1, n, "message %d arrived %d times", seq, n)
		assert.True(r.t, seq >= 1 && seq <= len(recs), "message %d arrived but was never sent", seq)
	}
	for i := 1; i < len(snap.got); i++ {
		if !assert.Less(r.t, snap.got[i-1], snap.got[i], "messages arrived out of order at position %d", i) {
			break
		}
	}
	assert.Zero(r.t, snap.badPad, "client messages arrived with a damaged pad")
	assert.Zero(r.t, snap.badJSON, "client messages arrived that were not JSON")
	assert.Zero(r.t, snap.kitLost, "the test server's queue discarded client messages: a loss of the rig, not of the client")

	// Server to client.
	trs := r.rec.transitionsAfter(0)
	for _, tr := range trs {
		if tr.From == fsm.Open {
			a.leftOpen++
		}
		if tr.To == fsm.Open {
			a.opens++
		}
	}
	r.rec.mu.Lock()
	gaps := append([]string(nil), r.rec.gaps...)
	interleaved, badPad := r.rec.interleaved, r.rec.badPad
	a.clientGot, a.heardConns = r.rec.received, len(r.rec.heard)
	for _, conn := range r.rec.heard {
		if snap.sent[conn] > r.rec.next[conn] {
			a.tailsLost++
		}
	}
	r.rec.mu.Unlock()
	for _, n := range snap.sent {
		a.serverSent += n
	}
	assert.Empty(r.t, gaps, "server messages missing in the middle of a connection: lost silently")
	assert.Zero(r.t, interleaved, "a message from an older connection arrived after a newer one")
	assert.Zero(r.t, badPad, "server messages arrived with a damaged pad")
	assert.LessOrEqual(r.t, a.heardConns, a.opens, "messages from more connections than the client opened")
	assert.LessOrEqual(r.t, a.tailsLost, a.leftOpen, "server messages lost on a connection the client did not see end")
	return a
}

// errKind names the error Send returned, for the report.
func errKind(err error) string {
	switch {
	case errors.Is(err, tether.ErrClosed):
		return "ErrClosed"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "ctx"
	}
	return "other"
}
