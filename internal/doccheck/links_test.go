package doccheck

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLinksResolveRelativeToTheirFile(t *testing.T) {
	got := check(t, map[string]string{
		"README.md": "# Title\n",
		"docs/a.md": "[b](b.md), [up](../README.md), [root](/README.md), [dir](../cmd)\n" +
			"![image](img/p.png) [titled](b.md \"a title\") [angled](<b.md>) [escaped](b%2Emd)\n",
		"docs/b.md":        "# B\n",
		"docs/img/p.png":   "",
		"cmd/tether/x.txt": "",
	})
	assert.Empty(t, got)
}

func TestLinksToMissingFilesAreReported(t *testing.T) {
	got := check(t, map[string]string{
		"docs/a.md": "# A\n\nSee [the design](DESIGN.md)\nand ![a plot](img/missing.png).\n\n[ref]: gone.md\n\n" +
			"[titled](titled.md \"a title\") [angled](<angled.md>)\n",
	})
	assert.Equal(t, []Problem{
		{File: "docs/a.md", Line: 3, Ref: "DESIGN.md", Link: true, Kind: MissingFile},
		{File: "docs/a.md", Line: 4, Ref: "img/missing.png", Link: true, Kind: MissingFile},
		{File: "docs/a.md", Line: 6, Ref: "gone.md", Link: true, Kind: MissingFile},
		{File: "docs/a.md", Line: 8, Ref: "titled.md", Link: true, Kind: MissingFile},
		{File: "docs/a.md", Line: 8, Ref: "angled.md", Link: true, Kind: MissingFile},
	}, got)
}

func TestLinksLeavingTheRepositoryAreReported(t *testing.T) {
	got := check(t, map[string]string{
		"docs/a.md": "[shared](../../shared/DESIGN.md)\n",
	})
	assert.Equal(t, []Problem{
		{File: "docs/a.md", Line: 1, Ref: "../../shared/DESIGN.md", Link: true, Kind: OutsideRepository},
	}, got)
}

func TestLinkAnchorsNeedAHeading(t *testing.T) {
	got := check(t, map[string]string{
		"docs/a.md": "# A\n\n## Fault matrix (issue 8)\n\n## Twice\n\n## Twice\n\n" +
			"[ok](#fault-matrix-issue-8) [ok](#twice-1) [ok](b.md#tether-dial) [ok](b.md#Tether-Dial)\n" +
			"[bad](#twice-2) [bad](b.md#nowhere) [not checked](b.go#L3)\n",
		"docs/b.md": "# B\n\n```\n# not a heading\n```\n\n## `tether dial`\n",
		"docs/b.go": "package docs\n",
	})
	assert.Equal(t, []Problem{
		{File: "docs/a.md", Line: 10, Ref: "#twice-2", Link: true, Kind: MissingAnchor},
		{File: "docs/a.md", Line: 10, Ref: "b.md#nowhere", Link: true, Kind: MissingAnchor},
	}, got)
}

func TestExternalLinksAreNotChecked(t *testing.T) {
	got := check(t, map[string]string{
		"a.md": "[web](https://example.invalid/missing.md) [mail](mailto:x@example.invalid) " +
			"<https://example.invalid/DESIGN.md> https://example.invalid/docs/gone.md\n",
	})
	assert.Empty(t, got)
}

func TestCodeIsNotALink(t *testing.T) {
	got := check(t, map[string]string{
		"a.md": "Call `tether.New[T](url, opts)` or `stream.Encode(codec, v) (payload,\nok)[x](nowhere)`.\n\n" +
			"```go\nc, _ := tether.New[T](srv.URL) // see [x](missing.md)\n```\n\n" +
			"~~~\n[y](gone.md)\n~~~\n",
	})
	assert.Empty(t, got)
}

func TestLinksIntoGeneratedDirectoriesAreNotChecked(t *testing.T) {
	got := check(t, map[string]string{
		"docs/a.md": "[summary](../bench/out/summary.md), written by make bench.\n",
	})
	assert.Empty(t, got)
}

func TestProblemsNameFileLineAndKind(t *testing.T) {
	link := Problem{File: "docs/a.md", Line: 3, Ref: "b.md#x", Link: true, Kind: MissingAnchor}
	assert.Equal(t, "docs/a.md:3: b.md#x links to an anchor that no heading of its file has", link.String())
	mention := Problem{File: "docs/a.md", Line: 5, Ref: "DESIGN.md", Kind: MissingFile}
	assert.Equal(t, "docs/a.md:5: DESIGN.md names a file that is not in the repository", mention.String())
}

func TestAnUnreadableTreeIsAnError(t *testing.T) {
	_, err := Check(os.DirFS(filepath.Join(t.TempDir(), "missing")))
	require.Error(t, err)
	assert.True(t, errors.Is(err, fs.ErrNotExist), "got %v", err)
}
