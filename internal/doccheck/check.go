// Package doccheck finds the references in the repository's documents that do
// not resolve inside the repository. Its test runs it on the whole tree, so
// `make test` fails when a document cites a file that is not there.
//
// It reads every *.md file and the comments of every *.go file, outside .git,
// node_modules, testdata and the generated bench/out, and reports:
//
//   - a relative Markdown link or image, [text](path) or ![alt](path), whose
//     path is not in the repository or leaves it, and an anchor
//     (after the # of a destination) that no heading of that Markdown file
//     has (GitHub's heading slugs);
//   - a plain mention of a file, in backticks or in the text, that is not in
//     the repository or leaves it (mentionMarkdown and mentionGo say which
//     words count);
//   - a test, benchmark, fuzz target or example a Markdown file names
//     (TestX, BenchmarkX, FuzzX, ExampleX) that no _test.go file declares.
//
// External links (anything with a scheme, such as https: or mailto:) are never
// fetched. Fenced code blocks in Markdown and code blocks (lines indented
// with a tab) in Go comments are not read: an example may name files of the
// reader's project.
package doccheck

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// Problem is one reference that does not resolve.
type Problem struct {
	File string // slash-separated, relative to the root
	Line int    // 1-based
	Ref  string // the reference as written: a link's destination, or the word
	Link bool   // Ref is a link's destination, not a mention in the text
	Kind Kind   // what is wrong with it
}

func (p Problem) String() string {
	verb := "names"
	if p.Link {
		verb = "links to"
	}
	return fmt.Sprintf("%s:%d: %s %s %s", p.File, p.Line, p.Ref, verb, p.Kind)
}

// Kind says what is wrong with a reference.
type Kind int

const (
	// MissingFile: the file is not in the repository.
	MissingFile Kind = iota + 1
	// OutsideRepository: the path leaves the repository.
	OutsideRepository
	// MissingAnchor: no heading of the Markdown file has the anchor.
	MissingAnchor
	// MissingTest: no _test.go file of the repository declares the test,
	// benchmark, fuzz target or example a Markdown file names.
	MissingTest
)

func (k Kind) String() string {
	switch k {
	case MissingFile:
		return "a file that is not in the repository"
	case OutsideRepository:
		return "a file outside the repository"
	case MissingAnchor:
		return "an anchor that no heading of its file has"
	case MissingTest:
		return "a test that no _test.go file declares"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// skipped holds the names of the directories Check does not enter, wherever
// they are.
var skipped = map[string]bool{".git": true, "node_modules": true, "testdata": true}

// generated holds the directories, relative to the root, that `make bench`
// writes and git ignores: Check does not read them, and a reference into one
// is not checked, since a fresh clone does not have them.
var generated = []string{"bench/out"}

// Check reads the documents under the root of fsys and returns the references
// that do not resolve, by file and then line. An error means a file or
// directory could not be read.
func Check(fsys fs.FS) ([]Problem, error) {
	c := &checker{fsys: fsys, anchors: map[string]map[string]bool{}}
	var problems []Problem
	err := walkFiles(fsys, func(name string) error {
		var found []Problem
		var err error
		switch path.Ext(name) {
		case ".md":
			found, err = c.markdown(name)
		case ".go":
			found, err = c.goComments(name)
		}
		problems = append(problems, found...)
		return err
	})
	if err != nil {
		return problems, fmt.Errorf("doccheck: %w", err)
	}
	return problems, nil
}

// walkFiles calls visit with each file of fsys that Check reads, outside the
// skipped and generated directories, in lexical order.
func walkFiles(fsys fs.FS, visit func(name string) error) error {
	return fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name != "." && (skipped[d.Name()] || isGenerated(name)) {
				return fs.SkipDir
			}
			return nil
		}
		return visit(name)
	})
}

type checker struct {
	fsys    fs.FS
	anchors map[string]map[string]bool // the heading slugs of each Markdown file read so far
	tests   map[string]bool            // the tests the _test.go files declare, once read
}

// join resolves ref against the directory base; inside is false when the
// result leaves the root.
func join(base, ref string) (p string, inside bool) {
	p = path.Join(base, ref)
	return p, p != ".." && !strings.HasPrefix(p, "../")
}

func isGenerated(p string) bool {
	for _, g := range generated {
		if p == g || strings.HasPrefix(p, g+"/") {
			return true
		}
	}
	return false
}

func (c *checker) exists(p string) bool {
	_, err := fs.Stat(c.fsys, p)
	return err == nil
}
