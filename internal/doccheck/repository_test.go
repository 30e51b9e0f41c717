package doccheck

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRepositoryReferencesResolve runs the check on the whole repository:
// every link in its Markdown files, and every file they or the Go comments
// name, is in the repository. Each failure names the file and the line.
func TestRepositoryReferencesResolve(t *testing.T) {
	problems, err := Check(os.DirFS("../.."))
	require.NoError(t, err)
	for _, p := range problems {
		assert.Fail(t, "a reference does not resolve", p.String())
	}
}
