package doccheck

import (
	"io/fs"
	"path"
	"regexp"
	"strings"
)

// testWord matches the name of a Go test, benchmark, fuzz target or
// example as the documents cite it (TestLosslessByDefault, Example_compose).
var testWord = regexp.MustCompile(`\b(?:Test|Benchmark|Fuzz|Example)(?:[A-Z_][A-Za-z0-9_]*)?\b`)

// testFunc matches the declaration of one in a _test.go file.
var testFunc = regexp.MustCompile(`(?m)^func ((?:Test|Benchmark|Fuzz|Example)[A-Za-z0-9_]*)\(`)

// testNames returns the names in text of tests that no _test.go file of the
// repository declares: a document that cites a test by name keeps citing one
// that exists when the test is renamed. An error means a file could not be
// read.
func (c *checker) testNames(name string, b block, text string) ([]Problem, error) {
	var problems []Problem
	for _, at := range testWord.FindAllStringIndex(text, -1) {
		word := text[at[0]:at[1]]
		if word == "Test" || word == "Benchmark" || word == "Fuzz" || word == "Example" {
			continue // the word itself, not a name
		}
		declared, err := c.declaredTests()
		if err != nil {
			return problems, err
		}
		if !declared[word] {
			problems = append(problems, Problem{File: name, Line: b.lineOf(at[0]), Ref: word, Kind: MissingTest})
		}
	}
	return problems, nil
}

// declaredTests returns the names of the tests, benchmarks, fuzz targets
// and examples declared in the repository's _test.go files, read once.
func (c *checker) declaredTests() (map[string]bool, error) {
	if c.tests != nil {
		return c.tests, nil
	}
	tests := map[string]bool{}
	err := walkFiles(c.fsys, func(name string) error {
		if !strings.HasSuffix(path.Base(name), "_test.go") {
			return nil
		}
		src, err := fs.ReadFile(c.fsys, name)
		if err != nil {
			return err
		}
		for _, m := range testFunc.FindAllStringSubmatch(string(src), -1) {
			tests[m[1]] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.tests = tests
	return tests, nil
}
