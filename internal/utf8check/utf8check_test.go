package utf8check

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestInvalidAt(t *testing.T) {
	for p, want := range map[string]int{
		"":                        -1,
		"café":                    -1,
		"\xff":                    0,
		"ab\xc3":                  2, // a rune cut short
		"caf\xc3\xa9\xed\xa0\x80": 5, // a surrogate
	} {
		assert.Equal(t, want, InvalidAt([]byte(p)), "%q", p)
	}
}
