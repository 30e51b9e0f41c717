package adapters

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestPayloadValueRoundTrip: a PayloadValue reports as the payload it
// stands for, boxing nothing; ownPayload re-points it at a copy; other
// values pass through.
func TestPayloadValueRoundTrip(t *testing.T) {
	p := []byte("héllo")
	assert.Equal(t, p, userValue(PayloadValue(p, false), len(p)))
	assert.Equal(t, "héllo", userValue(PayloadValue(p, true), len(p)))
	assert.Equal(t, []byte{}, userValue(PayloadValue(nil, false), 0))
	assert.Equal(t, "", userValue(PayloadValue([]byte{}, true), 0))
	assert.Equal(t, 42, userValue(42, 8))
	assert.Nil(t, userValue(nil, 3))

	cp := []byte("héllo")
	v := ownPayload(PayloadValue(p, false), cp)
	p[0] = 'X'
	assert.Equal(t, []byte("héllo"), userValue(v, len(cp)), "the copy, not the caller's slice")
	assert.Equal(t, "s", ownPayload("s", cp))

	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = PayloadValue(p, false) }))
}
