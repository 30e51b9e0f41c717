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

// TestSecondInterruptKillsEvenWhenIgnoredAtStart: a second interrupt kills
// dial at once (exit 130), also when it was started with SIGINT ignored
// (a background job of a script), where restoring the default disposition
// restores "ignore". Here the server never answers the close frame, so
// without the second interrupt dial would wait out the close timeout and
// exit 0 (an outside test found exactly that, 3 of 3).
func TestSecondInterruptKillsEvenWhenIgnoredAtStart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to start the binary with SIGINT ignored")
	}
	bin := filepath.Join(t.TempDir(), "tether")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	srv := newServer(t)
	stderr := newWatch()
	cmd := exec.Command(sh, "-c", `trap "" INT; exec "$0" dial -stdin=false -heartbeat 0 "$1"`, bin, srv.URL)
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	reaped := false
	defer func() {
		if !reaped {
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	conn := accept(t, srv)
	conn.HoldClose() // the close frame is never answered
	stderr.waitFor(t, edge(fsm.Connecting, fsm.EventDialed, fsm.Open))

	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	stderr.waitFor(t, edge(fsm.Open, fsm.EventClose, fsm.Closing))
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	select {
	case err = <-exited:
		reaped = true
	case <-time.After(interruptDeadline):
		require.FailNowf(t, "still running", "%s after the second interrupt; stderr:\n%s", interruptDeadline, stderr.String())
	}
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "the second interrupt ends dial with a failure status")
	assert.Equal(t, 130, ee.ExitCode(), "128 + SIGINT; stderr:\n%s", stderr.String())
}
