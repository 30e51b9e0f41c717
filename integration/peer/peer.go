package peer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Script is the peer's path relative to the integration directory.
const Script = "peer/ws-server.mjs"

// RPCScript is the JSON-RPC peer (npm rpc-websockets), for WithScript.
const RPCScript = "peer/rpc-server.mjs"

// StartTimeout bounds how long Start waits for the LISTEN line. Node starts
// in well under a second; the margin is for loaded CI machines.
const StartTimeout = 30 * time.Second

// waitDelay bounds how long Stop waits for the killed process's output to
// end before exec closes the pipes itself.
const waitDelay = 10 * time.Second

// Peer is a running ws-server.mjs process. Its methods are safe for
// concurrent use.
type Peer struct {
	port   int
	scheme string // "ws" or "wss"

	cmd    *exec.Cmd
	cancel context.CancelFunc
	stdin  io.WriteCloser // held open: the peer exits when it ends
	stderr *lockedBuffer

	mu      sync.Mutex
	events  []Event
	changed chan struct{} // closed and replaced when events grows
	exited  chan struct{} // closed when stdout has ended (the process is gone)

	stopOnce sync.Once
	stopErr  error
}

// Start runs the peer and returns once it listens. It returns an error
// matching ErrNodeMissing or ErrWSMissing when Node.js or the ws package is
// not installed, and one matching ErrExited or ErrStartTimeout (with the
// peer's stderr) when the peer does not come up. Call Stop when done.
//
// Safe for concurrent use.
func Start(opts ...Option) (*Peer, error) {
	o := options{node: "node"}
	for _, opt := range opts {
		opt.apply(&o)
	}
	node, err := exec.LookPath(o.node)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNodeMissing, err)
	}
	dir := o.dir
	if dir == "" {
		if dir, err = findDir(); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ws", "package.json")); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWSMissing, err)
	}

	script := Script
	if o.script != "" {
		script = o.script
	}
	args := append([]string{script, "--port", strconv.Itoa(o.port)}, o.args...)
	scheme := "ws"
	if o.certFile != "" || o.keyFile != "" {
		args = append(args, "--cert", o.certFile, "--key", o.keyFile)
		scheme = "wss"
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = dir
	cmd.WaitDelay = waitDelay
	p := &Peer{
		scheme:  scheme,
		cmd:     cmd,
		cancel:  cancel,
		stderr:  &lockedBuffer{},
		changed: make(chan struct{}),
		exited:  make(chan struct{}),
	}
	cmd.Stderr = p.stderr
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		cancel()
		return nil, fmt.Errorf("peer: stdin pipe: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, fmt.Errorf("peer: stdout pipe: %w", err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("peer: start %s: %w", node, err)
	}

	listening := make(chan int, 1)
	go p.readOutput(stdout, listening)

	timer := time.NewTimer(StartTimeout)
	defer timer.Stop()
	select {
	case p.port = <-listening:
		return p, nil
	case <-p.exited:
		err = ErrExited
	case <-timer.C:
		err = ErrStartTimeout
	}
	_ = p.Stop()
	return nil, fmt.Errorf("%w; stderr:\n%s", err, p.Stderr())
}

// StartT starts a peer for t: it fails t at once when the peer cannot start
// (a missing Node.js or ws package included), and stops the peer when t
// ends, logging its stderr if t failed.
//
// Call it from the test's goroutine.
func StartT(t testing.TB, opts ...Option) *Peer {
	t.Helper()
	p, err := Start(opts...)
	if err != nil {
		t.Fatalf("cannot start the ws peer: %v", err)
	}
	t.Cleanup(func() {
		_ = p.Stop()
		if t.Failed() {
			if s := p.Stderr(); s != "" {
				t.Logf("ws peer stderr:\n%s", s)
			}
		}
	})
	return p
}

// Port is the TCP port the peer listens on.
//
// Safe for concurrent use.
func (p *Peer) Port() int { return p.port }

// Addr is the peer's address, "127.0.0.1:<port>".
//
// Safe for concurrent use.
func (p *Peer) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)) }

// URL returns the ws:// or wss:// URL of pathAndQuery on the peer, such as
// p.URL("/close?code=4001&reason=bye").
//
// Safe for concurrent use.
func (p *Peer) URL(pathAndQuery string) string {
	return p.scheme + "://" + p.Addr() + pathAndQuery
}

// Stop kills the peer and waits until the process and the goroutine reading
// its output have ended. Events received before remain readable. Only the
// first call does anything; every call returns the first one's result: nil,
// or the error that shows the process did not end as killed.
//
// Safe for concurrent use.
func (p *Peer) Stop() error {
	p.stopOnce.Do(func() {
		p.cancel()
		<-p.exited // the reader is done with stdout: Wait may close it
		err := p.cmd.Wait()
		if ee, ok := errors.AsType[*exec.ExitError](err); ok && !ee.Exited() {
			err = nil // ended by our signal, as intended
		}
		p.stopErr = err
	})
	return p.stopErr
}

// Stderr returns what the peer has written to stderr so far.
//
// Safe for concurrent use.
func (p *Peer) Stderr() string { return p.stderr.String() }

// findDir finds the integration directory: the working directory or the
// closest parent holding the peer script.
func findDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("peer: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, Script)); err == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("peer: %s not found in %s or a parent", Script, wd)
		}
	}
}

// readOutput reads the LISTEN line, then one event per line, until stdout
// ends.
func (p *Peer) readOutput(stdout io.Reader, listening chan<- int) {
	defer close(p.exited)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			first = false
			if port, ok := strings.CutPrefix(line, "LISTEN "); ok {
				if n, err := strconv.Atoi(port); err == nil {
					listening <- n
					continue
				}
			}
		}
		p.add(parseEvent(line))
	}
	_, _ = io.Copy(io.Discard, stdout) // a line too long: drain to EOF
}

// lockedBuffer is a bytes.Buffer written by exec's copying goroutine and
// read by tests.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
