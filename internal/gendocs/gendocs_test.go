package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/rpc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestGeneratedDocsAreFresh fails when a generated document differs from what
// the code generates. Fix it with `make docs`.
func TestGeneratedDocsAreFresh(t *testing.T) {
	for name, render := range documents {
		got, err := os.ReadFile(filepath.Join("..", "..", name))
		require.NoError(t, err, "%s is missing: run make docs", name)
		assert.Equal(t, render(), string(got), "%s is stale: run make docs", name)
	}
}

func TestLifecycleDocumentsEveryRule(t *testing.T) {
	doc := lifecycle()
	mermaid, err := fsm.Diagram(fsm.Mermaid)
	require.NoError(t, err)
	assert.Contains(t, doc, "```mermaid\n"+mermaid+"```")
	for _, r := range fsm.Table() {
		assert.Contains(t, doc, "| `"+r.From.String()+"` | `"+r.Event.String()+"` | `"+r.To.String()+"` | "+r.Meaning+" |")
	}
	for _, s := range fsm.States() {
		assert.NotEmpty(t, stateMeanings[s], "state %s needs a meaning", s)
	}
}

func TestRPCMachinesDocumentEveryRule(t *testing.T) {
	doc := rpcMachines()
	for _, d := range []interface {
		Diagram(fsm.Format) (string, error)
	}{rpc.RequestDef(), rpc.SubscriptionDef()} {
		mermaid, err := d.Diagram(fsm.Mermaid)
		require.NoError(t, err)
		assert.Contains(t, doc, "```mermaid\n"+mermaid+"```")
	}
	for _, r := range rpc.RequestDef().Rules {
		assert.Contains(t, doc, "| `"+r.From.String()+"` | `"+r.Event.String()+"` | `"+r.To.String()+"` | "+r.Meaning+" |")
	}
	for _, r := range rpc.SubscriptionDef().Rules {
		assert.Contains(t, doc, "| `"+r.From.String()+"` | `"+r.Event.String()+"` | `"+r.To.String()+"` | "+r.Meaning+" |")
	}
}
