package doccheck

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSlugIsGitHubs(t *testing.T) {
	for heading, want := range map[string]string{
		"Fault matrix (issue 8)":          "fault-matrix-issue-8",
		"`tether dial`":                   "tether-dial",
		"Retry-After and other floors":    "retry-after-and-other-floors",
		"tether version and help":         "tether-version-and-help",
		"[Linked](x.md) text":             "linked-text",
		"snake_case, Über cafés":          "snake_case-über-cafés",
		"Why it stopped?":                 "why-it-stopped",
		"The adapters' contract: a -- b ": "the-adapters-contract-a----b",
	} {
		assert.Equal(t, want, slug(heading), heading)
	}
}

func TestHeadingSlugs(t *testing.T) {
	got := headingSlugs("# Title #\n\nText\n## Twice\n\n## Twice\n\n```\n## Code\n```\n\n    ## Indented code\n#hashtag\n")
	assert.Equal(t, map[string]bool{"title": true, "twice": true, "twice-1": true}, got)
}
