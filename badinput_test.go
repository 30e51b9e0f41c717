package tether_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/websocket"
)

// statusServer answers every request with status, header and a body.
func statusServer(t *testing.T, status int, header http.Header, body string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// hostile returns a server that completes the handshake and sends b.
func hostile(b []byte) func(*testing.T) string {
	return func(t *testing.T) string {
		return newRawServer(t, func(w io.Writer) { _, _ = w.Write(b) }).url
	}
}

func tlsServer(t *testing.T) string {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _, _, _ = ws.UpgradeHTTP(r, w)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return "wss" + strings.TrimPrefix(srv.URL, "https")
}

// TestBadInput: each case ends in a typed error, with no panic, no leak
// (goleak in TestMain), and nothing lost from the send buffer: every message
// sent before the failure is delivered, still queued, or reported.
func TestBadInput(t *testing.T) {
	type outcome int
	const (
		gaveUp   outcome = iota // the policy stops: Closed, cause matches want
		retrying                // the policy retries: Waiting, cause matches want
		kept                    // the connection stays Open, the error is on the error stream
	)
	cases := []struct {
		name    string
		url     func(*testing.T) string
		opts    []tether.Option
		outcome outcome
		want    []error       // errors.Is targets on the cause
		as      []any         // errors.As targets on the cause
		floor   time.Duration // least delay of a retry
	}{
		{name: "unknown scheme", url: func(*testing.T) string { return "ftp://example.invalid/feed" },
			outcome: gaveUp, want: []error{transport.ErrBadTarget, websocket.ErrBadURL, policy.ErrTerminalError}},
		{name: "400", url: func(t *testing.T) string { return statusServer(t, 400, nil, "bad") },
			outcome: gaveUp, want: []error{policy.ErrTerminalHTTPStatus}, as: []any{new(*transport.HandshakeError)}},
		{name: "401 without credentials", url: func(t *testing.T) string { return statusServer(t, 401, nil, "") },
			outcome: gaveUp, want: []error{policy.ErrUnauthorized}},
		{name: "403 without credentials", url: func(t *testing.T) string { return statusServer(t, 403, nil, "") },
			outcome: gaveUp, want: []error{policy.ErrUnauthorized}},
		{name: "404", url: func(t *testing.T) string { return statusServer(t, 404, nil, "") },
			outcome: gaveUp, want: []error{policy.ErrTerminalHTTPStatus}},
		{name: "429 with Retry-After", url: func(t *testing.T) string {
			return statusServer(t, 429, http.Header{"Retry-After": {"7"}}, "")
		}, outcome: retrying, as: []any{new(*transport.HandshakeError)}, floor: 7 * time.Second},
		{name: "500", url: func(t *testing.T) string { return statusServer(t, 500, nil, "") },
			outcome: retrying, as: []any{new(*transport.HandshakeError)}},
		{name: "503 with Retry-After", url: func(t *testing.T) string {
			return statusServer(t, 503, http.Header{"Retry-After": {"30"}}, "")
		}, outcome: retrying, floor: 30 * time.Second},
		{name: "not a WebSocket server", url: func(t *testing.T) string { return statusServer(t, 200, nil, "<html>") },
			outcome: gaveUp, want: []error{policy.ErrTerminalHTTPStatus}},
		{name: "TLS failure", url: tlsServer, outcome: gaveUp, as: []any{new(*tls.CertificateVerificationError)},
			want: []error{transport.ErrCertificate, policy.ErrTerminalError}},
		{name: "wrong subprotocol", url: func(t *testing.T) string { return hostile(nil)(t) },
			opts: []tether.Option{tether.WithSubprotocols("v2.tether")}, outcome: gaveUp,
			want: []error{transport.ErrSubprotocol, policy.ErrTerminalError}},
		{name: "oversized message", url: hostile(frame(ws.OpBinary, true, make([]byte, 2048), false, 0)),
			opts:    []tether.Option{tether.WithTransport(mustWS(t, websocket.WithMaxMessageSize(1024)))},
			outcome: gaveUp, want: []error{transport.ErrMessageTooLarge, policy.ErrTerminalCloseCode}},
		{name: "invalid UTF-8", url: hostile(frame(ws.OpText, true, []byte{0xff, 0xfe}, false, 0)),
			outcome: gaveUp, want: []error{transport.ErrInvalidUTF8, policy.ErrTerminalCloseCode}},
		{name: "malformed JSON", url: hostile(frame(ws.OpText, true, []byte(`{"sensor":`), false, 0)),
			outcome: kept, as: []any{new(*stream.DecodeError)}},
		{name: "close frame with an invalid code", url: hostile(frame(ws.OpClose, true, []byte{0x03, 0xED}, false, 0)),
			outcome: gaveUp, want: []error{transport.ErrProtocol, policy.ErrTerminalCloseCode}},
		{name: "reserved opcode", url: hostile(frame(ws.OpCode(0x3), true, []byte("x"), false, 0)),
			outcome: gaveUp, want: []error{transport.ErrProtocol}},
		{name: "masked server frame", url: hostile(frame(ws.OpText, true, []byte("x"), true, 0)),
			outcome: gaveUp, want: []error{transport.ErrProtocol}},
		{name: "RSV bit without extension", url: hostile(frame(ws.OpText, true, []byte("x"), false, 0x4)),
			outcome: gaveUp, want: []error{transport.ErrProtocol}},
		{name: "fragmented ping", url: hostile(frame(ws.OpPing, false, []byte("x"), false, 0)),
			outcome: gaveUp, want: []error{transport.ErrProtocol}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var drops []tether.Drop
			clk := newFastClock()
			opts := append([]tether.Option{
				tether.WithAutoConnect(false), tether.WithoutHeartbeat(), tether.WithClock(clk),
				tether.OnDrop(func(d tether.Drop) { mu.Lock(); drops = append(drops, d); mu.Unlock() }),
			}, tc.opts...)
			c, err := tether.New[Reading](tc.url(t), opts...)
			require.NoError(t, err)
			errs := c.Errors(context.Background())
			trs := c.Transitions(context.Background())
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			const sent = 3
			for i := range sent {
				require.NoError(t, c.Send(ctx, map[string]int{"n": i}))
			}
			// Connect waits for Open, which a retrying case never reaches.
			connected := make(chan error, 1)
			cctx, stopConnect := context.WithCancel(ctx)
			go func() { connected <- c.Connect(cctx) }()
			defer func() { stopConnect(); <-connected }()
			// Wait for the outcome.
			var cause error
			switch tc.outcome {
			case kept:
				cause = firstOf[*stream.DecodeError](t, errs)
				assert.Equal(t, fsm.Open, c.State(), "the connection stays open")
			case gaveUp:
				cause = awaitTransition(t, trs, fsm.Closed).Cause
			case retrying:
				cause = awaitTransition(t, trs, fsm.Waiting).Cause
				require.NoError(t, clk.BlockUntil(ctx, 1))
				assert.GreaterOrEqual(t, clk.Pending()[0], tc.floor, "Retry-After is honoured")
			}
			require.Error(t, cause)
			for _, w := range tc.want {
				assert.ErrorIs(t, cause, w)
			}
			for _, target := range tc.as {
				assert.ErrorAs(t, cause, target)
			}
			require.NoError(t, c.Close(ctx))
			waitDone(t, c) // OnDrop has run for every drop

			// Nothing lost: every message is queued-then-reported or written;
			// a written one the peer never confirmed is reported too.
			mu.Lock()
			defer mu.Unlock()
			reported := map[uint64]bool{}
			for _, d := range drops {
				assert.False(t, reported[d.ID], "reported twice: %d", d.ID)
				reported[d.ID] = true
				assert.True(t, errors.Is(d.Reason, tether.ErrClosed) || errors.Is(d.Reason, tether.ErrPossiblyLost),
					"reason %v", d.Reason)
			}
			if tc.outcome != kept {
				assert.Len(t, reported, sent, "each message is accounted for")
			}
		})
	}
}

func mustWS(t *testing.T, opts ...websocket.Option) transport.Transport {
	tr, err := websocket.New(opts...)
	require.NoError(t, err)
	return tr
}

// firstOf waits on the error stream for an error that errors.As finds as E.
func firstOf[E error](t *testing.T, s *stream.Subscription[error]) error {
	t.Helper()
	for {
		err := recv(t, s.C())
		var target E
		if errors.As(err, &target) {
			return err
		}
	}
}

// awaitTransition reads transitions until one reaches to.
func awaitTransition(t *testing.T, s *stream.Subscription[fsm.Transition], to fsm.State) fsm.Transition {
	t.Helper()
	for {
		if tr := recv(t, s.C()); tr.To == to {
			return tr
		}
	}
}

// TestAMalformedEnvelopeIsReportedOnce: a Client[stream.Envelope] with a
// router decodes each message as an envelope, and so does the router; a
// malformed one was reported twice, the same *stream.DecodeError each time
// (outside review). Undecodable data under a known type is reported once
// too, and the good messages around them are delivered.
func TestAMalformedEnvelopeIsReportedOnce(t *testing.T) {
	var burst []byte
	burst = append(burst, frame(ws.OpText, true, []byte(`{"type":"m","data":1}`), false, 0)...)
	burst = append(burst, frame(ws.OpText, true, []byte(`{"type":`), false, 0)...)                // no envelope
	burst = append(burst, frame(ws.OpText, true, []byte(`{"type":"m","data":"x"}`), false, 0)...) // data no int
	burst = append(burst, frame(ws.OpText, true, []byte(`{"type":"m","data":2}`), false, 0)...)
	srv := newRawServer(t, func(w io.Writer) { _, _ = w.Write(burst) })

	r := stream.NewRouter()
	got := make(chan int, 4)
	stream.Handle(r, "m", func(m stream.Message[int]) { got <- m.Data })
	var decodeErrs atomic.Int32
	c, err := tether.New[stream.Envelope](srv.url, tether.WithRouter(r), tether.WithAutoConnect(false),
		tether.OnError(func(err error) {
			if _, ok := errors.AsType[*stream.DecodeError](err); ok {
				decodeErrs.Add(1)
			}
		}))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, c.Connect(ctx))
	for _, want := range []int{1, 2} {
		select {
		case n := <-got:
			require.Equal(t, want, n)
		case <-ctx.Done():
			require.FailNow(t, "a good message was not delivered")
		}
	}
	require.NoError(t, c.Close(ctx))
	<-c.Done()
	assert.EqualValues(t, 2, decodeErrs.Load(), "one report per bad message")
}
