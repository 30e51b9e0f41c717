package tether_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/adapters"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/transport"
	tws "github.com/tether-go/tether/transport/websocket"
)

// muteServer completes the handshake, writes first, then reads and
// discards everything, never answering a ping or a close and never closing
// the TCP connection until the test ends.
func muteServer(t *testing.T, first []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				if _, err := ws.Upgrade(c); err != nil {
					return
				}
				if _, err := c.Write(first); err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, bufio.NewReader(c))
			})
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "ws://" + ln.Addr().String() + "/feed"
}

// TestClientRaisedCloseIsNotRelabelled: after the client fails a
// connection itself (a message over the size limit: 1009, terminal by the
// default rules) toward a peer that never answers the close, the client
// used to wait out the close timeout while still Open; a heartbeat
// deadline in that window fired heartbeat_timeout with close code 0 and
// the policy retried. The connection now ends at once with its own cause,
// and the policy gives up on 1009.
func TestClientRaisedCloseIsNotRelabelled(t *testing.T) {
	cases := []struct {
		name  string
		first []byte
		code  transport.StatusCode
		cause error
	}{
		{"1009 message too big", frame(ws.OpBinary, true, make([]byte, 4096), false, 0), transport.StatusMessageTooBig, transport.ErrMessageTooLarge},
		{"1007 invalid UTF-8", frame(ws.OpText, true, []byte{0xff, 0xfe}, false, 0), transport.StatusInvalidPayloadData, transport.ErrInvalidUTF8},
		{"1002 reserved opcode", frame(ws.OpCode(3), true, nil, false, 0), transport.StatusProtocolError, transport.ErrProtocol},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url := muteServer(t, tc.first)
			tr, err := tws.New(tws.WithProxy(nil), tws.WithMaxMessageSize(1024), tws.WithCloseTimeout(time.Hour))
			require.NoError(t, err)
			c, err := tether.New[[]byte](url, tether.WithTransport(tr), tether.WithAutoConnect(false),
				tether.WithHeartbeat(policy.Heartbeat{Mode: policy.PingFrame, Interval: 100 * time.Millisecond, PongTimeout: 50 * time.Millisecond}))
			require.NoError(t, err)
			defer shutDown(t, c)
			trs := c.Transitions(context.Background())
			defer trs.Close()

			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			_ = c.Connect(ctx) // may return the cause if the failure comes first
			waitState(t, c, fsm.Closed)

			var failure, end fsm.Transition
			for tr := range trs.All() {
				assert.NotEqual(t, fsm.EventHeartbeatTimeout, tr.Event, "the client's own close is not relabelled: %v", tr)
				if tr.From == fsm.Open {
					failure = tr
				}
				if tr.To == fsm.Closed {
					end = tr
					break
				}
			}
			assert.Equal(t, fsm.EventGiveUp, end.Event)
			assert.Equal(t, uint16(tc.code), end.CloseCode, "the give-up carries the code it gave up on")
			require.Error(t, failure.Cause, "the connection ended with a cause")
			code, ok := transport.CloseCode(failure.Cause)
			require.True(t, ok, "%v", failure.Cause)
			assert.Equal(t, tc.code, code)
			assert.ErrorIs(t, failure.Cause, tc.cause)
			err = c.Err()
			assert.ErrorIs(t, err, policy.ErrTerminalCloseCode, "the policy gave up on the code the wire carried")
			assert.False(t, errors.Is(err, adapters.ErrHeartbeatTimeout))
		})
	}
}
