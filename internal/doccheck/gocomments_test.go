package doccheck

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestGoCommentsNamingMissingDocsAreReported(t *testing.T) {
	got := check(t, map[string]string{
		"docs/present.md": "# Present\n",
		"x/x.go": "// Package x: see docs/present.md\n" +
			"// and docs/missing.md for the rules,\n" +
			"package x\n\n" +
			"/* The brief is DESIGN.md. */\n" +
			"var v = 1 // the rule is in present.md\n",
	})
	assert.Equal(t, []Problem{
		{File: "x/x.go", Line: 2, Ref: "docs/missing.md", Kind: MissingFile},
		{File: "x/x.go", Line: 5, Ref: "DESIGN.md", Kind: MissingFile},
	}, got)
}

func TestGoCodeAndCodeBlocksAreNotRead(t *testing.T) {
	got := check(t, map[string]string{
		"x/x.go": "// Package x reads net/http/transport.go's rules.\n" +
			"//\n" +
			"//\tgo run ./cmd/ratios > out/missing.md\n" +
			"package x\n\n" +
			"const doc = \"docs/missing.md\"\n",
	})
	assert.Empty(t, got)
}
