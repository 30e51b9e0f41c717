package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/fsm"
)

// TestBinaryExitsOnSIGINTWhileStdoutIsBlocked is the reported case end to
// end (issue 13): the built binary, its standard output an OS pipe nobody
// reads, a feed flooding it, a real SIGINT. It used to be still running
// 40 s later.
func TestBinaryExitsOnSIGINTWhileStdoutIsBlocked(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "tether")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	srv := newFloodServer(t, floodCount, floodSize)
	pr, pw, err := os.Pipe() // nobody reads pr
	require.NoError(t, err)
	defer pr.Close()
	stderr := newWatch()
	cmd := exec.Command(bin, "dial", "-stdin=false", "-heartbeat", "500ms", "-pong-timeout", "400ms", srv.url)
	cmd.Stdout = pw
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	require.NoError(t, pw.Close()) // the child has its own copy
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	reaped := false
	defer func() { // whatever happens, no process is left behind
		if !reaped {
			_ = cmd.Process.Kill()
			<-exited
		}
	}()

	recvWithin(t, srv.sent, "the whole flood to be read while standard output is blocked")
	srv.pingsAfter(t, 3)
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	select {
	case err := <-exited:
		reaped = true
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			require.FailNowf(t, "exit status", "%v; stderr:\n%s", err, stderr.String())
		}
		require.NoError(t, err)
	case <-time.After(interruptDeadline):
		require.FailNowf(t, "the binary ignored SIGINT", "still running %s later; stderr:\n%s", interruptDeadline, stderr.String())
	}
	assert.NotContains(t, stderr.String(), fsm.EventHeartbeatTimeout.String(), "no false heartbeat timeout")
	assert.Contains(t, stderr.String(), "messages not printed: standard output did not keep up")
}
