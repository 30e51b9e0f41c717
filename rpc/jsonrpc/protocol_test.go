package jsonrpc_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/rpc"
	"github.com/tether-go/tether/rpc/jsonrpc"
	"github.com/tether-go/tether/stream"
)

func TestEncode(t *testing.T) {
	p := jsonrpc.New("eth")
	b, err := p.Request(7, "sum", []int{1, 2})
	require.NoError(t, err)
	assert.JSONEq(t, `{"jsonrpc":"2.0","method":"sum","params":[1,2],"id":7}`, string(b))
	b, err = p.Notify("ping", nil)
	require.NoError(t, err)
	assert.JSONEq(t, `{"jsonrpc":"2.0","method":"ping"}`, string(b))
	b, err = p.Subscribe(8, "logs", map[string]any{"address": "0x1"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"jsonrpc":"2.0","method":"eth_subscribe","params":["logs",{"address":"0x1"}],"id":8}`, string(b))
	b, err = p.Unsubscribe(9, "logs", "0xab")
	require.NoError(t, err)
	assert.JSONEq(t, `{"jsonrpc":"2.0","method":"eth_unsubscribe","params":["0xab"],"id":9}`, string(b))
	key, err := p.Subscribed("logs", json.RawMessage(`"0xab"`))
	require.NoError(t, err)
	assert.Equal(t, "0xab", key)
	require.NoError(t, p.Unsubscribed("logs", json.RawMessage(`true`)))
	require.ErrorIs(t, p.Unsubscribed("logs", json.RawMessage(`false`)), rpc.ErrRefused)

	w := jsonrpc.RPCWebSockets()
	b, err = w.Subscribe(3, "tick", nil)
	require.NoError(t, err)
	assert.JSONEq(t, `{"jsonrpc":"2.0","method":"rpc.on","params":["tick"],"id":3}`, string(b))
	_, err = w.Subscribe(3, "tick", []int{1})
	require.ErrorIs(t, err, jsonrpc.ErrEventParams)
	key, err = w.Subscribed("tick", json.RawMessage(`{"tick":"ok"}`))
	require.NoError(t, err)
	assert.Equal(t, "tick", key)
	_, err = w.Subscribed("tick", json.RawMessage(`{"tick":"socket has already been subscribed to event"}`))
	require.ErrorIs(t, err, rpc.ErrRefused)
	b, err = w.Unsubscribe(4, "tick", "tick")
	require.NoError(t, err)
	assert.JSONEq(t, `{"jsonrpc":"2.0","method":"rpc.off","params":["tick"],"id":4}`, string(b))

	_, err = (&jsonrpc.Protocol{}).Subscribe(1, "x", nil)
	require.ErrorIs(t, err, jsonrpc.ErrNoSubscriptions)
}

func TestClassify(t *testing.T) {
	eth, ws := jsonrpc.New("eth"), jsonrpc.RPCWebSockets()
	for _, tc := range []struct {
		name    string
		p       *jsonrpc.Protocol
		payload string
		kind    rpc.Kind
		id      uint64
		key     string
		data    string // result or notification data
		code    int    // error code
		bad     bool   // malformed
	}{
		{"result", eth, `{"jsonrpc":"2.0","id":5,"result":{"a":1}}`, rpc.Reply, 5, "", `{"a":1}`, 0, false},
		{"null result", eth, `{"jsonrpc":"2.0","id":5,"result":null}`, rpc.Reply, 5, "", `null`, 0, false},
		{"string id", eth, `{"jsonrpc":"2.0","id":"6","result":1}`, rpc.Reply, 6, "", `1`, 0, false},
		{"error", eth, `{"jsonrpc":"2.0","id":5,"error":{"code":-32601,"message":"Method not found"}}`, rpc.Reply, 5, "", "", -32601, false},
		{"null id", eth, `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}`, rpc.Reply, 0, "", "", -32700, false},
		{"both", eth, `{"jsonrpc":"2.0","id":5,"result":1,"error":{"code":1,"message":"x"}}`, rpc.Reply, 5, "", "", 0, true},
		{"neither", eth, `{"jsonrpc":"2.0","id":5}`, rpc.Reply, 5, "", "", 0, true},
		{"bad error", eth, `{"jsonrpc":"2.0","id":5,"error":"oops"}`, rpc.Reply, 5, "", "", 0, true},
		{"eth notification", eth, `{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"0xab","result":[1]}}`, rpc.Notification, 0, "0xab", `[1]`, 0, false},
		{"numeric subscription", eth, `{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":12,"result":true}}`, rpc.Notification, 0, "12", `true`, 0, false},
		{"server request", eth, `{"jsonrpc":"2.0","method":"other","params":[1]}`, rpc.Other, 0, "", "", 0, false},
		{"event elsewhere", eth, `{"notification":"tick","params":{"n":1}}`, rpc.Other, 0, "", "", 0, false},
		{"event", ws, `{"notification":"tick","params":{"n":1}}`, rpc.Notification, 0, "tick", `{"n":1}`, 0, false},
		{"event array", ws, `{"notification":"news","params":["x"]}`, rpc.Notification, 0, "news", `["x"]`, 0, false},
		{"not json", ws, `hello`, rpc.Other, 0, "", "", 0, false},
		{"array", ws, `[{"jsonrpc":"2.0","id":1,"result":1}]`, rpc.Other, 0, "", "", 0, false},
		{"no jsonrpc, result (1.0)", ws, `{"id":1,"result":1}`, rpc.Reply, 1, "", `1`, 0, false},
		{"jsonrpc 1.0, result", eth, `{"jsonrpc":"1.0","id":1,"result":1}`, rpc.Reply, 1, "", `1`, 0, false},
		{"1.0 result, error null", eth, `{"id":1,"result":1,"error":null}`, rpc.Reply, 1, "", `1`, 0, false},
		{"1.0 error, result null", eth, `{"id":1,"result":null,"error":{"code":3,"message":"no"}}`, rpc.Reply, 1, "", "", 3, false},
		{"no jsonrpc, no result or error", eth, `{"id":1,"type":"hello"}`, rpc.Other, 0, "", "", 0, false},
		{"2.0 result, error null", eth, `{"jsonrpc":"2.0","id":5,"result":1,"error":null}`, rpc.Reply, 5, "", `1`, 0, false},
		{"2.0 result null, error null", eth, `{"jsonrpc":"2.0","id":5,"result":null,"error":null}`, rpc.Reply, 5, "", `null`, 0, false},
		{"error null only", eth, `{"jsonrpc":"2.0","id":5,"error":null}`, rpc.Reply, 5, "", "", 0, true},
		{"string id with digits", eth, `{"jsonrpc":"2.0","id":"7","result":1}`, rpc.Reply, 7, "", `1`, 0, false},
		{"float id", eth, `{"jsonrpc":"2.0","id":1.0,"result":1}`, rpc.Reply, 0, "", `1`, 0, false},
		{"exponent id", eth, `{"jsonrpc":"2.0","id":1e0,"result":1}`, rpc.Reply, 0, "", `1`, 0, false},
		{"negative id", eth, `{"jsonrpc":"2.0","id":-1,"result":1}`, rpc.Reply, 0, "", `1`, 0, false},
		{"id too big", eth, `{"jsonrpc":"2.0","id":18446744073709551617,"result":1}`, rpc.Reply, 0, "", `1`, 0, false},
		{"zero id", eth, `{"jsonrpc":"2.0","id":0,"result":1}`, rpc.Reply, 0, "", `1`, 0, false},
		{"broken json", ws, `{"jsonrpc":"2.0","id":1,`, rpc.Other, 0, "", "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.p.Classify([]byte(tc.payload))
			require.Equal(t, tc.kind, in.Kind)
			assert.Equal(t, tc.id, in.ID)
			assert.Equal(t, tc.key, in.Key)
			assert.Equal(t, tc.bad, in.Malformed != nil)
			switch {
			case tc.code != 0:
				require.NotNil(t, in.Error)
				assert.Equal(t, tc.code, in.Error.Code)
			case tc.kind == rpc.Reply && !tc.bad:
				assert.JSONEq(t, tc.data, string(in.Result))
			case tc.kind == rpc.Notification:
				assert.JSONEq(t, tc.data, string(in.Data))
			}
		})
	}
}

// FuzzClassify: whatever a server sends, Classify does not panic, and a
// reply it reads is one of result, error or malformed.
func FuzzClassify(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":5,"result":1}`))
	f.Add([]byte(`{"notification":"tick","params":{"n":1}}`))
	f.Add([]byte(`{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"0x1","result":2}}`))
	ps := []*jsonrpc.Protocol{jsonrpc.New("eth"), jsonrpc.RPCWebSockets()}
	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, p := range ps {
			in := p.Classify(payload)
			if in.Kind == rpc.Reply {
				n := 0
				if in.Result != nil {
					n++
				}
				if in.Error != nil {
					n++
				}
				if in.Malformed != nil {
					n++
				}
				if n != 1 {
					t.Fatalf("reply %q classified with %d of result, error, malformed", payload, n)
				}
			}
		}
	})
}

// TestParamsEncodeError: params that do not encode give a
// *stream.EncodeError naming their type, as tether's Send does. (It was
// encoding/json's raw error.)
func TestParamsEncodeError(t *testing.T) {
	p := jsonrpc.New("eth")
	for name, encode := range map[string]func() ([]byte, error){
		"request":   func() ([]byte, error) { return p.Request(1, "x", make(chan int)) },
		"notify":    func() ([]byte, error) { return p.Notify("x", make(chan int)) },
		"subscribe": func() ([]byte, error) { return p.Subscribe(1, "x", make(chan int)) },
	} {
		_, err := encode()
		ee, ok := errors.AsType[*stream.EncodeError](err)
		require.True(t, ok, "%s: %T: %v", name, err, err)
		assert.Equal(t, "chan int", ee.Source, name)
	}
	// A subscription's params still follow the topic.
	b, err := p.Subscribe(2, "logs", map[string]int{"a": 1})
	require.NoError(t, err)
	assert.JSONEq(t, `{"jsonrpc":"2.0","method":"eth_subscribe","params":["logs",{"a":1}],"id":2}`, string(b))
}
