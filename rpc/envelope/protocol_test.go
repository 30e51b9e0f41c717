package envelope_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/rpc"
	"github.com/tether-go/tether/rpc/envelope"
	"github.com/tether-go/tether/stream"
)

func TestEncode(t *testing.T) {
	p := envelope.New()
	b, err := p.Request(7, "job.start", map[string]string{"job": "42"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"job.start","id":7,"data":{"job":"42"}}`, string(b))
	b, err = p.Notify("hello", nil)
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"hello"}`, string(b))
	b, err = p.Subscribe(8, "jobs/42", nil)
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"subscribe","id":8,"topic":"jobs/42"}`, string(b))
	b, err = p.Unsubscribe(9, "jobs/42", "jobs/42")
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"unsubscribe","id":9,"topic":"jobs/42"}`, string(b))
	key, err := p.Subscribed("jobs/42", json.RawMessage(`null`))
	require.NoError(t, err)
	assert.Equal(t, "jobs/42", key)

	// A request is still an envelope: stream decodes its type and data.
	env, err := stream.DecodeEnvelope(nil, mustRequest(t, p))
	require.NoError(t, err)
	assert.Equal(t, "job.start", env.Type)
	assert.JSONEq(t, `{"job":"42"}`, string(env.Data))
}

func mustRequest(t *testing.T, p envelope.Protocol) []byte {
	b, err := p.Request(1, "job.start", map[string]string{"job": "42"})
	require.NoError(t, err)
	return b
}

func TestClassify(t *testing.T) {
	p := envelope.New()
	for _, tc := range []struct {
		name    string
		payload string
		kind    rpc.Kind
		id      uint64
		key     string
		data    string
		code    int
		bad     bool
	}{
		{"reply", `{"type":"job.start","id":7,"data":{"ok":true},"timestamp":"2026-01-01T00:00:00Z"}`, rpc.Reply, 7, "", `{"ok":true}`, 0, false},
		{"ack", `{"type":"ack","id":7}`, rpc.Reply, 7, "", `null`, 0, false},
		{"error", `{"type":"error","id":7,"error":{"code":404,"message":"no such job"}}`, rpc.Reply, 7, "", "", 404, false},
		{"both", `{"type":"x","id":7,"data":1,"error":{"code":1,"message":"x"}}`, rpc.Reply, 7, "", "", 0, true},
		{"largest id", `{"type":"x","id":18446744073709551615,"data":1}`, rpc.Reply, 18446744073709551615, "", `1`, 0, false},
		{"notification", `{"type":"job.progress","topic":"jobs/42","data":{"pct":50}}`, rpc.Notification, 0, "jobs/42", `{"pct":50}`, 0, false},
		{"plain envelope", `{"type":"metrics","data":{"cpu":1}}`, rpc.Other, 0, "", "", 0, false},
		{"not json", `hello`, rpc.Other, 0, "", "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := p.Classify([]byte(tc.payload))
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

// TestPlainEnvelopesWithIDFlowOn: an envelope whose "id" is not a
// positive integer (the server's own record id, say) is no reply: it
// flows on to the tether client's streams, with or without a "topic".
// (Ids 0, negative or not numbers were read as replies to no request and
// reported as *rpc.UnknownReplyError, never reaching a router.)
func TestPlainEnvelopesWithIDFlowOn(t *testing.T) {
	p := envelope.New()
	for _, id := range []string{`0`, `-1`, `"abc"`, `"7"`, `7.0`, `7e0`, `-0`, `18446744073709551616`,
		`true`, `[7]`, `{"n":7}`, `null`} {
		in := p.Classify([]byte(`{"type":"item","id":` + id + `,"data":{"level":"x"}}`))
		assert.Equal(t, rpc.Other, in.Kind, "id %s", id)
	}
	// A notification has no "id" (or a null one): with an id that is not
	// one of ours it is neither, and flows on too.
	assert.Equal(t, rpc.Other, p.Classify([]byte(`{"type":"item","id":"abc","topic":"jobs/42","data":1}`)).Kind)
	assert.Equal(t, rpc.Notification, p.Classify([]byte(`{"type":"item","id":null,"topic":"jobs/42","data":1}`)).Kind)
}

// TestParamsEncodeError: params that do not encode give a
// *stream.EncodeError naming their type, as tether's Send does. (It was
// encoding/json's raw error.)
func TestParamsEncodeError(t *testing.T) {
	p := envelope.New()
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
}
