package doccheck

import (
	"path"
	"regexp"
	"strings"
)

// pathWord matches a run of the characters a repository path is made of.
var pathWord = regexp.MustCompile(`[A-Za-z0-9_./-]+`)

// urlWord matches a URL written out in the text, which is never a mention.
var urlWord = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s<>()\x60"']*`)

// mentionRule says which extensions a word must have to count as a mention.
type mentionRule struct {
	withDir []string // extensions of the paths with a directory
	bare    []string // extensions of the bare file names
}

// mentionMarkdown and mentionGo say which words [checker.mentions] checks:
// the ones that can only name a file of the repository. In Markdown, a path
// with a directory and a .md or .go extension (docs/reconnect.md,
// fsm/table.go); in Go comments, where a .go path may name a file of the
// standard library, only the .md ones. In both, a bare .md name (README.md).
// A path starting with / is not checked (it is not a repository path), nor a
// word inside a URL.
//
// A mention resolves when the file exists relative to the document's
// directory, to its module's root (the nearest directory with a go.mod) or to
// the repository's root, and, for a bare name, in docs/. A mention into a
// generated directory is not checked.
var (
	mentionMarkdown = mentionRule{withDir: []string{".md", ".go"}, bare: []string{".md"}}
	mentionGo       = mentionRule{withDir: []string{".md"}, bare: []string{".md"}}
)

// counts reports whether word is a mention under the rule.
func (r mentionRule) counts(word string) bool {
	if strings.HasPrefix(word, "/") {
		return false
	}
	ext := path.Ext(word)
	base := strings.TrimSuffix(path.Base(word), ext)
	if base == "" || strings.HasPrefix(base, ".") {
		return false
	}
	exts := r.bare
	if strings.Contains(word, "/") {
		exts = r.withDir
	}
	for _, e := range exts {
		if ext == e {
			return true
		}
	}
	return false
}

// mentions returns the mentions in text (the text of b, or a copy with the
// parts already checked blanked) of files that do not resolve.
func (c *checker) mentions(name string, b block, text string, rule mentionRule) []Problem {
	text = blank(text, indexes(urlWord.FindAllStringIndex(text, -1)))
	var problems []Problem
	for _, at := range pathWord.FindAllStringIndex(text, -1) {
		word := strings.TrimRight(text[at[0]:at[1]], ".")
		if !rule.counts(word) {
			continue
		}
		if kind := c.mention(name, word); kind != 0 {
			problems = append(problems, Problem{File: name, Line: b.lineOf(at[0]), Ref: word, Kind: kind})
		}
	}
	return problems
}

// mention returns what is wrong with the mention word in the file name, or 0
// when it resolves.
func (c *checker) mention(name, word string) Kind {
	bases := []string{path.Dir(name), c.module(name), "."}
	if !strings.Contains(word, "/") {
		bases = append(bases, "docs")
	}
	outside := true
	for _, base := range bases {
		p, inside := join(base, word)
		if !inside {
			continue
		}
		outside = false
		if isGenerated(p) || c.exists(p) {
			return 0
		}
	}
	if outside {
		return OutsideRepository
	}
	return MissingFile
}

// module returns the root of the module the file name is in: the nearest
// directory above it with a go.mod, or the repository's root.
func (c *checker) module(name string) string {
	for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
		if c.exists(path.Join(dir, "go.mod")) {
			return dir
		}
	}
	return "."
}

// indexes converts the [][]int of a regexp match list to ranges.
func indexes(m [][]int) [][2]int {
	r := make([][2]int, len(m))
	for i, at := range m {
		r[i] = [2]int{at[0], at[1]}
	}
	return r
}
