package feedtest

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestMessages: the same index gives the same bytes, valid JSON envelopes
// of the three kinds, about 100 bytes each; a batch is their JSON array.
func TestMessages(t *testing.T) {
	kinds := map[string]int{}
	for i := range 30 {
		m := Message(i)
		require.True(t, bytes.Equal(m, Message(i)))
		var e struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		require.NoError(t, json.Unmarshal(m, &e))
		kinds[e.Type]++
		assert.InDelta(t, 100, len(m), 30)
	}
	assert.Equal(t, map[string]int{"system": 10, "process": 10, "custom": 10}, kinds)
	var batch []json.RawMessage
	require.NoError(t, json.Unmarshal(Batch(4, 5), &batch))
	require.Len(t, batch, 5)
	assert.JSONEq(t, string(Message(6)), string(batch[2]))
}
