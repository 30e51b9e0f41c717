package doccheck

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMentionsOfMissingFilesAreReported(t *testing.T) {
	got := check(t, map[string]string{
		"docs/a.md": "# A\n\nThe bad-input rule (DESIGN.md's) is in\n`docs/missing.md` and fsm/gone.go.\n",
	})
	assert.Equal(t, []Problem{
		{File: "docs/a.md", Line: 3, Ref: "DESIGN.md", Kind: MissingFile},
		{File: "docs/a.md", Line: 4, Ref: "docs/missing.md", Kind: MissingFile},
		{File: "docs/a.md", Line: 4, Ref: "fsm/gone.go", Kind: MissingFile},
	}, got)
}

func TestMentionsLeavingTheRepositoryAreReported(t *testing.T) {
	got := check(t, map[string]string{
		"a.md": "the design brief (`../shared/DESIGN.md`)\n",
	})
	assert.Equal(t, []Problem{{File: "a.md", Line: 1, Ref: "../shared/DESIGN.md", Kind: OutsideRepository}}, got)
}

func TestMentionsResolveFromTheFileItsModuleOrTheRoot(t *testing.T) {
	got := check(t, map[string]string{
		"README.md":            "See docs/guide.md, guide.md, README.md and fsm/table.go.\n",
		"docs/guide.md":        "See guide.md, ../README.md, README.md, docs/guide.md and sub/notes/n.md.\n",
		"fsm/table.go":         "package fsm\n",
		"sub/go.mod":           "module example.invalid/sub\n",
		"sub/notes/n.md":       "See notes/n.md, n.md and ../docs/guide.md.\n",
		"sub/cmd/x/doc.go":     "// See notes/n.md and docs/guide.md.\npackage main\n",
		"sub/cmd/x/README.md":  "See notes/n.md.\n",
		"bench/go.mod":         "module example.invalid/bench\n",
		"bench/cmd/r/doc.go":   "// Writes out/ratios.md, a generated file.\npackage main\n",
		"docs/generated.md":    "The figures are in bench/out/summary.md.\n",
		"docs/sentence-end.md": "The end is docs/guide.md.\n",
	})
	assert.Empty(t, got)
}

func TestWordsThatAreNotRepositoryPathsAreNotMentions(t *testing.T) {
	got := check(t, map[string]string{
		"a.md": "Put it in main.go or x_test.go; see /etc/tether/conf.md,\n" +
			"https://example.invalid/docs/gone.md, every docs/*.md, `*.md`, .md files,\n" +
			"stream.Decode and go.mod.\n\n" +
			"```sh\ncat docs/gone.md cmd/app/main.go\n```\n",
	})
	assert.Empty(t, got)
}

func TestCitedTestsThatNoFileDeclaresAreReported(t *testing.T) {
	got := check(t, map[string]string{
		"docs/a.md": "`TestKept` and BenchmarkKept hold it; TestRenamed did,\nand `Example_gone` showed it. A Test, an Example.\n\n" +
			"```go\nfunc TestOfTheReader(t *testing.T) {}\n```\n",
		"pkg/a_test.go": "package pkg\n\nfunc TestKept(t *testing.T) {}\n\nfunc BenchmarkKept(b *testing.B) {}\n",
	})
	assert.Equal(t, []Problem{
		{File: "docs/a.md", Line: 1, Ref: "TestRenamed", Kind: MissingTest},
		{File: "docs/a.md", Line: 2, Ref: "Example_gone", Kind: MissingTest},
	}, got)
}
