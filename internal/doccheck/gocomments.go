package doccheck

import (
	"go/scanner"
	"go/token"
	"io/fs"
	"strings"
)

// goComments checks the mentions in the comments of the Go file name. A
// comment line indented with a tab is code in a doc comment (as gofmt writes
// it), and is not read.
func (c *checker) goComments(name string) ([]Problem, error) {
	src, err := fs.ReadFile(c.fsys, name)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var s scanner.Scanner
	// No error handler: a file that does not compile still has its comments read.
	s.Init(fset.AddFile(name, -1, len(src)), src, nil, scanner.ScanComments)
	var problems []Problem
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			return problems, nil
		}
		if tok != token.COMMENT {
			continue
		}
		line := fset.Position(pos).Line
		for i, l := range strings.Split(lit, "\n") {
			l = strings.TrimPrefix(strings.TrimPrefix(l, "//"), "/*")
			if strings.HasPrefix(l, "\t") {
				continue
			}
			problems = append(problems, c.mentions(name, block{text: l, line: line + i}, l, mentionGo)...)
		}
	}
}
