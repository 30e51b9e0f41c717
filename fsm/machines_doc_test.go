package fsm_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/fsm"
)

// TestMachinesGuideRuns keeps docs/machines.md true: each of its Go blocks
// is part of door_example_test.go, whose examples check their output, and
// its Mermaid block is what the door's definition draws.
func TestMachinesGuideRuns(t *testing.T) {
	guide, err := os.ReadFile("../docs/machines.md")
	require.NoError(t, err)
	src, err := os.ReadFile("door_example_test.go")
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```\n").FindAllSubmatch(guide, -1)
	require.Len(t, blocks, 3)
	for _, b := range blocks {
		assert.Contains(t, string(src), string(b[1]), "a Go block of docs/machines.md is not in door_example_test.go")
	}
	keypad := ""
	want, err := doorDef(&keypad).Diagram(fsm.Mermaid)
	require.NoError(t, err)
	assert.Contains(t, string(guide), "```mermaid\n"+want+"```\n")
}
