package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centrifugal/centrifuge"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// A helper is this test binary started again as a server process, so a
// benchmark measures its clients alone: the server's heap, goroutines and
// file descriptors are another process's. TestMain turns the binary into a
// helper when helperEnv is set.
const (
	// helperEnv selects the server: helperWS or helperCentrifuge.
	helperEnv = "TETHER_BENCH_HELPER"
	// helperPingEnv is the ping interval of the centrifuge server (a
	// time.Duration); its pong timeout is half of it.
	helperPingEnv = "TETHER_BENCH_HELPER_PING"

	// helperWS is a gobwas/ws server that reads everything, answers pings
	// with pongs and close frames with close frames, and sends nothing.
	helperWS = "ws"
	// helperCentrifuge is a github.com/centrifugal/centrifuge node whose
	// WebSocket endpoint is at /connection/websocket; it accepts every
	// connection and pings each one every helperPingEnv.
	helperCentrifuge = "centrifuge"
	// helperWSDeflate is helperWS that accepts permessage-deflate as
	// offered and sends a burst of the feed first (compression_idle_test.go).
	helperWSDeflate = "ws-deflate"
)

// helperProc is a running helper process.
type helperProc struct {
	addr  string // host:port
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startHelper starts a helper process of the given kind and returns once it
// listens. Stop it with stop.
func startHelper(tb testing.TB, kind string, ping time.Duration) *helperProc {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), helperEnv+"="+kind, helperPingEnv+"="+ping.String())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		_ = stdin.Close()
		_ = cmd.Wait()
		tb.Fatalf("helper %s did not start: %q, %v", kind, line, err)
	}
	return &helperProc{addr: addr, cmd: cmd, stdin: stdin}
}

// stop ends the helper (closing its stdin is the signal) and waits for it.
func (h *helperProc) stop() {
	_ = h.stdin.Close()
	_ = h.cmd.Wait()
}

// runHelper is the helper process's main: it serves until its stdin
// closes, then exits.
func runHelper(kind string) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	switch kind {
	case helperWS:
		srv := newWSServer(ln)
		defer srv.close()
	case helperWSDeflate:
		srv := newWSServerWith(ln, serveDeflateWS)
		defer srv.close()
	case helperCentrifuge:
		ping, err := time.ParseDuration(os.Getenv(helperPingEnv))
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			return 1
		}
		stop, err := serveCentrifuge(ln, ping)
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			return 1
		}
		defer stop()
	default:
		fmt.Fprintln(os.Stderr, "helper: unknown kind", kind)
		return 1
	}
	fmt.Printf("listening %s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes it
	return 0
}

// wsServer is the helperWS server, also used in-process by the storm and
// detection benchmarks: every connection is upgraded with gobwas/ws and
// served by serveWS on its own goroutine.
type wsServer struct {
	ln    net.Listener
	wg    sync.WaitGroup
	serve func(net.Conn)

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func newWSServer(ln net.Listener) *wsServer { return newWSServerWith(ln, serveWS) }

// newWSServerWith is newWSServer with serve in place of serveWS.
func newWSServerWith(ln net.Listener, serve func(net.Conn)) *wsServer {
	s := &wsServer{ln: ln, conns: map[net.Conn]struct{}{}, serve: serve}
	s.wg.Go(s.accept)
	return s
}

func (s *wsServer) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Go(func() {
			s.serve(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		})
	}
}

// close stops accepting, drops every connection without a close frame (a
// crash, as the clients see it) and waits for the handlers to return.
func (s *wsServer) close() {
	_ = s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// serveWS upgrades c, then reads until the connection fails: data is
// discarded, pings answered, a close frame echoed.
func serveWS(c net.Conn) {
	defer c.Close()
	if _, err := ws.Upgrade(c); err != nil {
		return
	}
	serveFrames(c, ws.StateServerSide)
}

// serveFrames is serveWS after the upgrade, reading in state (with
// ws.StateExtended, frames with RSV bits are accepted and discarded).
func serveFrames(c net.Conn, state ws.State) {
	ctl := wsutil.ControlFrameHandler(c, ws.StateServerSide)
	rd := &wsutil.Reader{Source: bufio.NewReaderSize(c, 512), State: state}
	for {
		h, err := rd.NextFrame()
		if err != nil {
			return
		}
		if h.OpCode.IsControl() {
			if ctl(h, rd) != nil {
				return
			}
			continue
		}
		if rd.Discard() != nil {
			return
		}
	}
}

// centrifugePath is where serveCentrifuge serves WebSocket connections.
const centrifugePath = "/connection/websocket"

// serveCentrifuge runs a centrifuge node on ln that accepts every
// connection (as user "bench") and pings it every ping, expecting the pong
// within ping/2. The protocol tells the client the interval in whole
// seconds, so ping is rounded up to a second.
func serveCentrifuge(ln net.Listener, ping time.Duration) (stop func(), err error) {
	ping = max(time.Second, ping.Round(time.Second))
	node, err := centrifuge.New(centrifuge.Config{LogLevel: centrifuge.LogLevelNone})
	if err != nil {
		return nil, err
	}
	pp := &centrifuge.PingPongConfig{PingInterval: ping, PongTimeout: ping / 2}
	node.OnConnecting(func(context.Context, centrifuge.ConnectEvent) (centrifuge.ConnectReply, error) {
		return centrifuge.ConnectReply{
			Credentials:    &centrifuge.Credentials{UserID: "bench"},
			PingPongConfig: pp,
		}, nil
	})
	node.OnConnect(func(*centrifuge.Client) {})
	if err := node.Run(); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(centrifugePath, centrifuge.NewWebsocketHandler(node, centrifuge.WebsocketConfig{}))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "helper:", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Close()
		_ = node.Shutdown(ctx)
	}, nil
}
