package doccheck

import (
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"strings"
)

// block is a run of Markdown lines outside fenced code, up to a blank line:
// code spans and links do not cross one.
type block struct {
	text string
	line int // the line number of its first line
}

// lineOf returns the line number of the byte at offset i of b.text.
func (b block) lineOf(i int) int { return b.line + strings.Count(b.text[:i], "\n") }

// fence matches the line that opens or closes a fenced code block.
var fence = regexp.MustCompile("^ {0,3}(`{3,}|~{3,})")

// blocks splits a Markdown document into the blocks outside fenced code.
func blocks(doc string) []block {
	var out []block
	var cur []string
	start := 0
	flush := func() {
		if len(cur) > 0 {
			out = append(out, block{text: strings.Join(cur, "\n"), line: start})
		}
		cur = nil
	}
	open := "" // the fence of the code block we are in, if any
	for i, l := range strings.Split(doc, "\n") {
		if m := fence.FindStringSubmatch(l); m != nil {
			if open == "" {
				flush()
				open = m[1]
				continue
			}
			if m[1][0] == open[0] && len(m[1]) >= len(open) && strings.TrimSpace(l[strings.Index(l, m[1])+len(m[1]):]) == "" {
				open = ""
				continue
			}
		}
		switch {
		case open != "":
		case strings.TrimSpace(l) == "":
			flush()
		default:
			if len(cur) == 0 {
				start = i + 1
			}
			cur = append(cur, l)
		}
	}
	flush()
	return out
}

// codeSpans returns the [start, end) byte ranges of the inline code spans in
// s, backticks included: a run of n backticks up to the next run of exactly n.
func codeSpans(s string) [][2]int {
	var spans [][2]int
	run := func(i int) int { // the length of the backtick run at i
		n := 0
		for i+n < len(s) && s[i+n] == '`' {
			n++
		}
		return n
	}
	for i := 0; i < len(s); {
		n := run(i)
		if n == 0 {
			i++
			continue
		}
		end := -1
		for j := i + n; j < len(s); {
			if m := run(j); m == n {
				end = j + m
				break
			} else if m > 0 {
				j += m
			} else {
				j++
			}
		}
		if end < 0 { // no closing run: the backticks are literal
			i += n
			continue
		}
		spans = append(spans, [2]int{i, end})
		i = end
	}
	return spans
}

// blank returns s with the bytes in the given ranges replaced by spaces,
// newlines kept, so that offsets and line numbers stay the same.
func blank(s string, ranges [][2]int) string {
	b := []byte(s)
	for _, r := range ranges {
		for i := r[0]; i < r[1]; i++ {
			if b[i] != '\n' {
				b[i] = ' '
			}
		}
	}
	return string(b)
}

// linkTarget matches the destination of an inline link or image,
// "](dest)" or "](dest "title")", and the destination of a link reference
// definition, "[label]: dest"; the destination is group 1 or group 2.
var linkTarget = regexp.MustCompile(`(?m)\]\(\s*(<[^>\n]*>|[^\s()<>]*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)|^ {0,3}\[[^\]]+\]:\s*(<[^>\n]*>|\S+)`)

// scheme matches a destination or word that names its scheme: an external
// link, never fetched.
var scheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)

// markdown checks the links and the mentions of the Markdown file name.
func (c *checker) markdown(name string) ([]Problem, error) {
	data, err := fs.ReadFile(c.fsys, name)
	if err != nil {
		return nil, err
	}
	var problems []Problem
	for _, b := range blocks(string(data)) {
		prose := blank(b.text, codeSpans(b.text))
		var targets [][2]int
		for _, m := range linkTarget.FindAllStringSubmatchIndex(prose, -1) {
			at := [2]int{m[2], m[3]}
			if at[0] < 0 {
				at = [2]int{m[4], m[5]}
			}
			targets = append(targets, at)
			dest := strings.TrimSuffix(strings.TrimPrefix(prose[at[0]:at[1]], "<"), ">")
			kind, err := c.link(name, dest)
			if err != nil {
				return problems, err
			}
			if kind != 0 {
				problems = append(problems, Problem{File: name, Line: b.lineOf(at[0]), Ref: dest, Link: true, Kind: kind})
			}
		}
		// A link's destination was checked as a link; the mentions are the
		// rest of the text, code spans included.
		rest := blank(b.text, targets)
		problems = append(problems, c.mentions(name, b, rest, mentionMarkdown)...)
		cited, err := c.testNames(name, b, rest)
		problems = append(problems, cited...)
		if err != nil {
			return problems, err
		}
	}
	return problems, nil
}

// link returns what is wrong with the destination dest of a link in the
// Markdown file name, or 0 when it resolves. An error means the Markdown file
// it points to could not be read.
func (c *checker) link(name, dest string) (Kind, error) {
	if dest == "" || scheme.MatchString(dest) {
		return 0, nil
	}
	file, anchor, _ := strings.Cut(dest, "#")
	file, _, _ = strings.Cut(file, "?")
	if f, err := url.PathUnescape(file); err == nil {
		file = f
	}
	target := name
	if file != "" {
		base := path.Dir(name)
		if strings.HasPrefix(file, "/") { // GitHub resolves these from the root
			base, file = ".", file[1:]
		}
		p, inside := join(base, file)
		switch {
		case !inside:
			return OutsideRepository, nil
		case isGenerated(p):
			return 0, nil
		case !c.exists(p):
			return MissingFile, nil
		}
		target = p
	}
	if anchor == "" || path.Ext(target) != ".md" {
		return 0, nil
	}
	if a, err := url.PathUnescape(anchor); err == nil {
		anchor = a
	}
	slugs, err := c.slugs(target)
	if err != nil || slugs[strings.ToLower(anchor)] {
		return 0, err
	}
	return MissingAnchor, nil
}
