package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Units with a column of their own; every other unit a benchmark reports
// (writes/msg, p50-ns...) gets a column after them. MB/s is left out: it is
// ns/op seen from the message size.
const (
	unitNs     = "ns/op"
	unitAllocs = "allocs/op"
	unitBytes  = "B/op"
	unitMBs    = "MB/s"
)

// render writes one markdown table per family.
func render(w io.Writer, rep *report, ref string) {
	if len(rep.headers) > 0 {
		fmt.Fprintf(w, "```\n%s\n```\n\n", strings.Join(rep.headers, "\n"))
	}
	fmt.Fprintf(w, "Medians over the runs of each figure; ± is the largest distance of a run from the median. "+
		"ratio = %s ns/op ÷ the figure's ns/op in the same group (above 1 is faster than %s).\n", ref, ref)
	for _, f := range rep.families {
		renderFamily(w, f, ref)
	}
}

func renderFamily(w io.Writer, f *family, ref string) {
	var extra []string
	for _, u := range f.units {
		switch u {
		case unitNs, unitAllocs, unitBytes, unitMBs:
		default:
			extra = append(extra, u)
		}
	}
	cols := append([]string{"group", "impl", unitNs, "±", "ratio vs " + ref, unitAllocs, unitBytes}, extra...)
	cols = append(cols, "runs")
	fmt.Fprintf(w, "\n### %s\n\n", f.name)
	writeRow(w, cols)
	sep := make([]string, len(cols))
	for i := range sep {
		sep[i] = "---"
		if i >= 2 {
			sep[i] = "---:"
		}
	}
	writeRow(w, sep)
	for _, g := range f.groups {
		refNs := math.NaN()
		for _, fig := range g.figures {
			if fig.impl == ref {
				refNs = median(fig.samples[unitNs])
			}
		}
		for _, fig := range g.figures {
			ns := median(fig.samples[unitNs])
			row := []string{
				g.name,
				fig.impl,
				num(ns),
				spread(fig.samples[unitNs]),
				ratio(refNs, ns),
				num(median(fig.samples[unitAllocs])),
				num(median(fig.samples[unitBytes])),
			}
			for _, u := range extra {
				row = append(row, num(median(fig.samples[u])))
			}
			row = append(row, strconv.Itoa(len(fig.samples[unitNs])))
			writeRow(w, row)
		}
	}
}

// renderPlain writes one markdown table per family without ratios: for
// the benchmarks that are not loops (one run measures a fixed amount of
// work), the median of every unit they reported, in the order reported.
func renderPlain(w io.Writer, rep *report) {
	if len(rep.headers) > 0 {
		fmt.Fprintf(w, "```\n%s\n```\n\n", strings.Join(rep.headers, "\n"))
	}
	fmt.Fprintf(w, "Medians over the runs of each figure.\n")
	for _, f := range rep.families {
		cols := append([]string{"group", "impl"}, f.units...)
		cols = append(cols, "runs")
		fmt.Fprintf(w, "\n### %s\n\n", f.name)
		writeRow(w, cols)
		sep := make([]string, len(cols))
		for i := range sep {
			sep[i] = "---"
			if i >= 2 {
				sep[i] = "---:"
			}
		}
		writeRow(w, sep)
		for _, g := range f.groups {
			for _, fig := range g.figures {
				row := []string{g.name, fig.impl}
				for _, u := range f.units {
					row = append(row, num(median(fig.samples[u])))
				}
				row = append(row, strconv.Itoa(len(fig.samples[f.units[0]])))
				writeRow(w, row)
			}
		}
	}
}

func writeRow(w io.Writer, cells []string) {
	fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
}

// median returns the median of xs, or NaN when there are none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// spread returns the largest distance of a sample from the median, as a
// percentage of the median.
func spread(xs []float64) string {
	m := median(xs)
	if len(xs) < 2 || math.IsNaN(m) || m == 0 {
		return "–"
	}
	d := 0.0
	for _, x := range xs {
		d = max(d, math.Abs(x-m))
	}
	return fmt.Sprintf("%.1f%%", 100*d/m)
}

func ratio(refNs, ns float64) string {
	if math.IsNaN(refNs) || math.IsNaN(ns) || ns == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", refNs/ns)
}

// num formats a value for the table: no decimals for whole numbers and
// from 100 up, two decimals from 1, three significant digits below.
func num(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "–"
	case v == 0:
		return "0"
	case a >= 100 || v == math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}
