package main

import (
	"bufio"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// report is everything parse keeps from the input, in the order it first
// appeared.
type report struct {
	headers  []string // "goos: linux", "cpu: ..."
	families []*family
}

// family is one top-level benchmark, such as Receive.
type family struct {
	name   string
	groups []*group
	units  []string // every unit reported in the family, first seen first
}

// group is the figures that are compared with each other, such as
// size=16B.
type group struct {
	name    string
	figures []*figure
}

// figure is one implementation in one group, with the values of all its
// runs, by unit.
type figure struct {
	impl    string
	samples map[string][]float64
}

// benchLine matches a result line: name, iterations, then value-unit pairs.
var benchLine = regexp.MustCompile(`^Benchmark(\S+)\s+(\d+)\s+(.+)$`)

// procSuffix is the -GOMAXPROCS suffix go test appends to names.
var procSuffix = regexp.MustCompile(`-\d+$`)

// parse reads go test -bench output.
func parse(r io.Reader) (*report, error) {
	rep := &report{}
	seenHeader := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		for _, h := range []string{"goos:", "goarch:", "pkg:", "cpu:"} {
			if strings.HasPrefix(line, h) && !seenHeader[line] {
				seenHeader[line] = true
				rep.headers = append(rep.headers, line)
			}
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		fam, grp, impl, ok := splitName(procSuffix.ReplaceAllString(m[1], ""))
		if !ok {
			continue
		}
		values, ok := parseValues(m[3])
		if !ok {
			continue
		}
		rep.add(fam, grp, impl, values)
	}
	return rep, sc.Err()
}

// splitName splits Family/a=1/impl=x/b=2 into Family, a=1/b=2 and x.
func splitName(name string) (fam, grp, impl string, ok bool) {
	parts := strings.Split(name, "/")
	var rest []string
	for _, p := range parts[1:] {
		if v, found := strings.CutPrefix(p, "impl="); found {
			impl = v
			continue
		}
		rest = append(rest, p)
	}
	if impl == "" {
		return "", "", "", false
	}
	return parts[0], strings.Join(rest, "/"), impl, true
}

type value struct {
	unit string
	v    float64
}

// parseValues parses "12.5 ns/op  80.1 MB/s  0 B/op".
func parseValues(s string) ([]value, bool) {
	f := strings.Fields(s)
	if len(f)%2 != 0 {
		return nil, false
	}
	out := make([]value, 0, len(f)/2)
	for i := 0; i < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return nil, false
		}
		out = append(out, value{unit: f[i+1], v: v})
	}
	return out, true
}

func (r *report) add(fam, grp, impl string, values []value) {
	var f *family
	for _, x := range r.families {
		if x.name == fam {
			f = x
		}
	}
	if f == nil {
		f = &family{name: fam}
		r.families = append(r.families, f)
	}
	var g *group
	for _, x := range f.groups {
		if x.name == grp {
			g = x
		}
	}
	if g == nil {
		g = &group{name: grp}
		f.groups = append(f.groups, g)
	}
	var fig *figure
	for _, x := range g.figures {
		if x.impl == impl {
			fig = x
		}
	}
	if fig == nil {
		fig = &figure{impl: impl, samples: map[string][]float64{}}
		g.figures = append(g.figures, fig)
	}
	for _, v := range values {
		if !slices.Contains(f.units, v.unit) {
			f.units = append(f.units, v.unit)
		}
		fig.samples[v.unit] = append(fig.samples[v.unit], v.v)
	}
}
