package rpc_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/rpc"
	"github.com/tether-go/tether/rpc/jsonrpc"
	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

// deadline bounds every wait: the tests wait for events, they do not
// measure time.
const deadline = 10 * time.Second

// rig is an rpc client over a tether client on the memory transport and a
// fake clock, speaking JSON-RPC 2.0 in the "test" namespace.
type rig struct {
	t   *testing.T
	srv *memory.Server
	clk *tethertest.FakeClock
	tc  *tether.Client[string]
	rc  *rpc.Client
}

func newRig(t *testing.T, topts ...tether.Option) *rig {
	t.Helper()
	return newRigVia(t, nil, topts...)
}

// newRigVia is newRig with the memory transport wrapped by wrap (when not
// nil), for a test that makes the client's side of a connection misbehave.
func newRigVia(t *testing.T, wrap func(transport.Transport) transport.Transport, topts ...tether.Option) *rig {
	t.Helper()
	srv, err := memory.NewServer(memory.WithAutoAccept())
	require.NoError(t, err)
	clk := tethertest.NewFakeClock(time.Time{})
	p, err := policy.New(policy.Constant(time.Second), policy.WithFloorSpread(0))
	require.NoError(t, err)
	rc := rpc.New(jsonrpc.New("test"), rpc.WithClock(clk))
	var tr transport.Transport = srv.Transport()
	if wrap != nil {
		tr = wrap(tr)
	}
	opts := append([]tether.Option{tether.WithTransport(tr), tether.WithClock(clk),
		tether.WithoutHeartbeat(), tether.WithReconnect(p)}, rc.Options()...)
	tc, err := tether.New[string]("memory://rpc", append(opts, topts...)...)
	require.NoError(t, err)
	require.True(t, rc.Bind(tc))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		assert.NoError(t, tc.Close(ctx))
		assert.NoError(t, rc.Close())
	})
	return &rig{t: t, srv: srv, clk: clk, tc: tc, rc: rc}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	t.Cleanup(cancel)
	return ctx
}

func (r *rig) accept() *server {
	r.t.Helper()
	sc, err := r.srv.Accept(ctxT(r.t))
	require.NoError(r.t, err)
	return &server{t: r.t, sc: sc}
}

// redial drops s's connection, steps the fake clock past the reconnect
// delay (1 s, the only timer then) and returns the next connection.
func (r *rig) redial(s *server) *server {
	r.t.Helper()
	s.sc.Drop()
	require.NoError(r.t, r.clk.BlockUntil(ctxT(r.t), 1))
	r.clk.Step(1e9)
	return r.accept()
}

// connect waits until the tether client is Open.
func (r *rig) connect() {
	r.t.Helper()
	require.NoError(r.t, r.tc.Connect(ctxT(r.t)))
}

// server is the fake JSON-RPC server's side of one connection.
type server struct {
	t  *testing.T
	sc *memory.ServerConn
}

// msg is what the fake server reads of a request.
type msg struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      uint64          `json:"id"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
}

// recv returns the next request, past the client's pings (its
// confirmation probes, one each 512 messages). Called from any goroutine:
// no require.
func (s *server) recv(ctx context.Context) (msg, error) {
	for {
		m, err := s.sc.Recv(ctx)
		if err != nil {
			return msg{}, err
		}
		if m.Type == transport.Ping || m.Type == transport.Pong {
			continue
		}
		var out msg
		return out, json.Unmarshal(m.Payload, &out)
	}
}

// mustRecv is recv on the test goroutine.
func (s *server) mustRecv() msg {
	s.t.Helper()
	m, err := s.recv(ctxT(s.t))
	require.NoError(s.t, err)
	return m
}

// send writes v as a text message.
func (s *server) send(ctx context.Context, v any) error {
	p, ok := v.(string)
	if !ok {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		p = string(b)
	}
	return s.sc.Send(ctx, transport.Text, []byte(p))
}

func (s *server) mustSend(v any) {
	s.t.Helper()
	require.NoError(s.t, s.send(ctxT(s.t), v))
}

// reply answers id with result.
func (s *server) reply(id uint64, result any) {
	s.t.Helper()
	s.mustSend(map[string]any{"jsonrpc": "2.0", "id": id, "result": result})
}

// notify sends a notification for subscription key.
func (s *server) notify(key string, v any) {
	s.t.Helper()
	s.mustSend(map[string]any{"jsonrpc": "2.0", "method": "test_subscription",
		"params": map[string]any{"subscription": key, "result": v}})
}

// states lists the To of each transition of a trace.
func states[S, E comparable](trace []fsm.TransitionOf[S, E]) []S {
	out := make([]S, 0, len(trace))
	for _, tr := range trace {
		out = append(out, tr.To)
	}
	return out
}

// waitAs reads the error stream until an error that is an E arrives.
func waitAs[E error](t *testing.T, sub interface{ C() <-chan error }) E {
	t.Helper()
	ctx := ctxT(t)
	for {
		select {
		case err, ok := <-sub.C():
			require.True(t, ok, "the error stream ended")
			if e, ok := errors.AsType[E](err); ok {
				return e
			}
		case <-ctx.Done():
			require.FailNow(t, "no error of the type wanted")
		}
	}
}

// waitErr reads the error stream until an error matching target arrives.
func waitErr(t *testing.T, sub interface{ C() <-chan error }, target error) error {
	t.Helper()
	ctx := ctxT(t)
	for {
		select {
		case err, ok := <-sub.C():
			require.True(t, ok, "the error stream ended")
			if errors.Is(err, target) {
				return err
			}
		case <-ctx.Done():
			require.FailNow(t, "no error matching", "%v", target)
		}
	}
}
