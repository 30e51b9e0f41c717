package doccheck

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

// check runs Check on a tree made of files, each a path and its contents.
func check(t *testing.T, files map[string]string) []Problem {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, text := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(text)}
	}
	problems, err := Check(fsys)
	require.NoError(t, err)
	return problems
}
