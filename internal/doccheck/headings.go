package doccheck

import (
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// heading matches an ATX heading, "## Text", and its optional closing hashes.
var heading = regexp.MustCompile(`^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`)

// inlineLink matches a link or image in a heading, to keep only its text.
var inlineLink = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)

// slugs returns the anchors of the headings of the Markdown file name.
func (c *checker) slugs(name string) (map[string]bool, error) {
	if s, ok := c.anchors[name]; ok {
		return s, nil
	}
	data, err := fs.ReadFile(c.fsys, name)
	if err != nil {
		return nil, err
	}
	s := headingSlugs(string(data))
	c.anchors[name] = s
	return s, nil
}

// headingSlugs returns the anchors GitHub gives the headings of a Markdown
// document: each heading's slug, and a repeated slug followed by -1, -2, ...
func headingSlugs(doc string) map[string]bool {
	slugs := map[string]bool{}
	seen := map[string]int{}
	for _, b := range blocks(doc) {
		for _, l := range strings.Split(b.text, "\n") {
			m := heading.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			s := slug(m[1])
			if n := seen[s]; n > 0 {
				slugs[s+"-"+strconv.Itoa(n)] = true
			} else {
				slugs[s] = true
			}
			seen[s]++
		}
	}
	return slugs
}

// slug is GitHub's anchor for a heading: its text in lower case, without the
// characters other than letters, marks, numbers, connectors (such as _),
// hyphens and spaces, and each space a hyphen.
func slug(text string) string {
	text = strings.ToLower(strings.TrimSpace(inlineLink.ReplaceAllString(text, "$1")))
	var b strings.Builder
	for _, r := range text {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-', unicode.IsLetter(r), unicode.IsMark(r), unicode.IsNumber(r), unicode.Is(unicode.Pc, r):
			b.WriteRune(r)
		}
	}
	return b.String()
}
