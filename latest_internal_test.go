package tether

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tether-go/tether/transport"
)

// TestLatestDoesNotPinALargeMessage: the copy Latest keeps is made afresh
// for a message less than half the size of a large one before it, so an
// idle client does not pin the largest message it ever received (an outside
// review: 15 MiB of heap a client after one 15 MiB message and two tiny
// ones). Small messages still reuse it.
func TestLatestDoesNotPinALargeMessage(t *testing.T) {
	var c Client[[]byte]
	c.setLatest(transport.Binary, bytes.Repeat([]byte{'x'}, 15<<20))
	c.setLatest(transport.Text, []byte("tiny"))
	assert.Less(t, cap(c.latestRaw), latestReuse, "the 15 MiB copy is let go")
	assert.Equal(t, "tiny", string(c.latestRaw))

	c.setLatest(transport.Text, bytes.Repeat([]byte{'y'}, 1000))
	before := &c.latestRaw[0]
	c.setLatest(transport.Text, []byte("small"))
	assert.Same(t, before, &c.latestRaw[0], "a small copy is reused")
	assert.Equal(t, "small", string(c.latestRaw))
}
