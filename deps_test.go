package tether_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A program that never uses Rx links neither rxgo nor what rxgo pulls in
// (testify, objx, yaml): Rx lives in package rx (issue 14, item 10). The
// quickstart stands for such a program; the core packages are checked too.
func TestCoreLinksNoRx(t *testing.T) {
	goBin, err := exec.LookPath("go")
	require.NoError(t, err, "the go command is needed to list dependencies")
	forbidden := []string{"github.com/reactivex/rxgo", "github.com/stretchr/testify", "github.com/stretchr/objx", "yaml"}
	for _, pkg := range []string{"./examples/quickstart", ".", "./stream"} {
		out, err := exec.Command(goBin, "list", "-deps", pkg).CombinedOutput()
		require.NoError(t, err, "go list -deps %s: %s", pkg, out)
		var found []string
		for dep := range strings.Lines(string(out)) {
			dep = strings.TrimSpace(dep)
			for _, f := range forbidden {
				if strings.Contains(dep, f) {
					found = append(found, dep)
				}
			}
		}
		require.Empty(t, found, "%s depends on packages a program without Rx must not link", pkg)
	}
}
