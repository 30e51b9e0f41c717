package main

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tether-go/tether/fsm"
)

// interruptDeadline is how soon the CLI must exit after an interrupt,
// whatever its output does: generous, the machine is shared.
const interruptDeadline = 10 * time.Second

// floodCount and floodSize make a flood of 32 MiB: four times the output
// queue, and more than the socket buffers hold, so a client that stopped
// reading would never let it all through.
const (
	floodCount = 8192
	floodSize  = 4 << 10
)

// TestDialKeepsReadingAndExitsOnInterruptWhileStdoutIsBlocked (issue 13):
// with standard output a pipe nobody reads, dial used to stop reading the
// connection (false heartbeat timeouts) and to ignore the interrupt. Now
// the whole flood is read, the heartbeat goes on unharmed, the interrupt
// ends the program at once with exit 0, and the messages that could not be
// printed are counted on standard error.
func TestDialKeepsReadingAndExitsOnInterruptWhileStdoutIsBlocked(t *testing.T) {
	srv := newFloodServer(t, floodCount, floodSize)
	pr, pw := io.Pipe() // nobody reads pr: every write to pw blocks
	t.Cleanup(func() { _ = pr.Close() })
	s := startOut(t, pw, "dial", "-stdin=false", "-heartbeat", "500ms", "-pong-timeout", "400ms", srv.url)

	recvWithin(t, srv.sent, "the whole flood to be read while standard output is blocked")
	srv.pingsAfter(t, 3) // three heartbeats with standard output still blocked

	s.cancel() // SIGINT
	assert.Equal(t, exitOK, s.waitWithin(t, interruptDeadline))
	stderr := s.stderr.String()
	assert.NotContains(t, stderr, fsm.EventHeartbeatTimeout.String(), "no false heartbeat timeout")
	assert.Contains(t, stderr, "messages not printed: standard output did not keep up")
}
