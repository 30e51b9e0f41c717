package transporttest

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/memory"
)

// MemorySubprotocol is the subprotocol the server of [MemoryHarness]
// selects when a dial offers it.
const MemorySubprotocol = "transporttest.v1"

// MemoryHarness returns a Harness over a fresh transport/memory server, to
// test the memory transport itself (wrap nil) or a transport built on
// another one: a decorator (logging, metrics, credentials) or a composite.
// wrap gets the memory server's transport and returns the transport under
// test, whose dials must reach that server.
//
// The Harness declares everything the memory transport does (Ping,
// PeerPing, CloseHandshake, [MemorySubprotocol]); a wrapper that gives up
// some of it changes Caps before returning the Harness. The server starts
// no goroutine, so there is nothing to stop.
func MemoryHarness(t *testing.T, wrap func(transport.Transport) transport.Transport) Harness {
	t.Helper()
	srv, err := memory.NewServer(memory.WithAutoAccept(), memory.WithSubprotocols(MemorySubprotocol))
	require.NoError(t, err)
	var tr transport.Transport = srv.Transport()
	if wrap != nil {
		tr = wrap(tr)
		require.NotNil(t, tr, "transporttest: wrap returned no transport")
	}
	return Harness{
		Transport: tr,
		Target:    transport.Target{URL: "memory://transporttest"},
		Accept: func(ctx context.Context) (Peer, error) {
			sc, err := srv.Accept(ctx)
			if err != nil {
				return nil, err
			}
			return sc, nil
		},
		Hang:        func() HungDial { return hangMemory(srv) },
		Subprotocol: MemorySubprotocol,
		Caps:        Capabilities{Ping: true, PeerPing: true, CloseHandshake: true},
	}
}

// memoryHang watches the dials a memory server answers with memory.Hang.
type memoryHang struct {
	srv  *memory.Server
	skip int // dials recorded before the hang

	mu   sync.Mutex
	took []*memory.ServerConn // the hung dials' ends, from Accept
}

// hangMemory makes every later dial of srv hang.
func hangMemory(srv *memory.Server) HungDial {
	srv.SetDefault(memory.Hang())
	h := &memoryHang{srv: srv, skip: len(srv.Dials())}
	return HungDial{Target: transport.Target{URL: "memory://transporttest/hang"}, Reached: h.reached, Released: h.released}
}

func (h *memoryHang) reached(ctx context.Context) error {
	_, err := h.srv.WaitDials(ctx, h.skip+1)
	return err
}

// released accepts the end of every hung dial and waits until each has
// ended: the server ends it with memory.ErrAbandoned when the client gives
// up.
func (h *memoryHang) released(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for len(h.took) < len(h.srv.Dials())-h.skip {
		sc, err := h.srv.Accept(ctx)
		if err != nil {
			return err
		}
		h.took = append(h.took, sc)
	}
	for _, sc := range h.took {
		select {
		case <-sc.Done():
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
