package main

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/tether-go/tether/bench
cpu: AMD EPYC
BenchmarkReceive/size=16B/impl=raw-gobwas-2         	19696508	        60.00 ns/op	 268.98 MB/s	       0 B/op	       0 allocs/op
BenchmarkReceive/size=16B/impl=tether-transport-2   	18730021	        50.00 ns/op	 275.12 MB/s	       0 B/op	       0 allocs/op
BenchmarkReceive/size=16B/impl=gorilla-2            	12145326	       120.0 ns/op	 186.23 MB/s	       8 B/op	       1 allocs/op
BenchmarkReceive/size=16B/impl=raw-gobwas-2         	19696508	        40.00 ns/op	 268.98 MB/s	       0 B/op	       0 allocs/op
BenchmarkReceive/size=16B/impl=tether-transport-2   	18730021	        50.00 ns/op	 275.12 MB/s	       0 B/op	       0 allocs/op
BenchmarkReceive/size=16B/impl=gorilla-2            	12145326	       80.0 ns/op	 186.23 MB/s	       8 B/op	       1 allocs/op
BenchmarkReceive/size=1KiB/impl=tether-transport-2  	1780875	       576.7 ns/op	1775.75 MB/s	       0 B/op	       0 allocs/op
BenchmarkSend/goroutines=8/impl=raw-gobwas-2        	 9563190	       100.0 ns/op	 468.45 MB/s	         0.001068 writes/msg	      48 B/op	       2 allocs/op
BenchmarkSend/goroutines=8/impl=tether-transport-2  	 2517373	       400.0 ns/op	 134.67 MB/s	         0.002111 writes/msg	      16 B/op	       1 allocs/op
BenchmarkOther-2                                    	 1000	       1.0 ns/op
--- FAIL: something unrelated
PASS
ok  	github.com/tether-go/tether/bench	43.151s
`

func TestParse(t *testing.T) {
	rep, err := parse(strings.NewReader(sample))
	require.NoError(t, err)
	require.Equal(t, []string{"goos: linux", "goarch: amd64", "pkg: github.com/tether-go/tether/bench", "cpu: AMD EPYC"}, rep.headers)
	require.Len(t, rep.families, 2, "BenchmarkOther has no impl segment and is skipped")

	recv := rep.families[0]
	assert.Equal(t, "Receive", recv.name)
	require.Len(t, recv.groups, 2)
	assert.Equal(t, "size=16B", recv.groups[0].name)
	assert.Equal(t, "size=1KiB", recv.groups[1].name)
	require.Len(t, recv.groups[0].figures, 3)
	raw := recv.groups[0].figures[0]
	assert.Equal(t, "raw-gobwas", raw.impl, "the -GOMAXPROCS suffix is cut")
	assert.Equal(t, []float64{60, 40}, raw.samples["ns/op"])

	send := rep.families[1]
	assert.Equal(t, []string{"ns/op", "MB/s", "writes/msg", "B/op", "allocs/op"}, send.units)
	assert.Equal(t, []float64{0.002111}, send.groups[0].figures[1].samples["writes/msg"])
}

func TestRender(t *testing.T) {
	rep, err := parse(strings.NewReader(sample))
	require.NoError(t, err)
	var out bytes.Buffer
	render(&out, rep, "raw-gobwas")
	got := out.String()

	// Medians: raw 50, tether 50, gorilla 100; ratios raw/impl.
	assert.Contains(t, got, "| size=16B | raw-gobwas | 50 | 20.0% | 1.00 | 0 | 0 | 2 |")
	assert.Contains(t, got, "| size=16B | tether-transport | 50 | 0.0% | 1.00 | 0 | 0 | 2 |")
	assert.Contains(t, got, "| size=16B | gorilla | 100 | 20.0% | 0.50 | 1 | 8 | 2 |")
	// No reference in the group: no ratio.
	assert.Contains(t, got, "| size=1KiB | tether-transport | 577 | – | – | 0 | 0 | 1 |")
	// Extra metrics get their own column.
	assert.Contains(t, got, "| group | impl | ns/op | ± | ratio vs raw-gobwas | allocs/op | B/op | writes/msg | runs |")
	assert.Contains(t, got, "| goroutines=8 | tether-transport | 400 | – | 0.25 | 1 | 16 | 0.00211 | 1 |")
	assert.NotContains(t, got, "BenchmarkOther")
}

func TestRenderOtherReference(t *testing.T) {
	rep, err := parse(strings.NewReader(sample))
	require.NoError(t, err)
	var out bytes.Buffer
	render(&out, rep, "tether-transport")
	assert.Contains(t, out.String(), "| size=16B | gorilla | 100 | 20.0% | 0.50 | 1 | 8 | 2 |")
	assert.Contains(t, out.String(), "| goroutines=8 | raw-gobwas | 100 | – | 4.00 | 2 | 48 | 0.00107 | 1 |")
}

func TestMedian(t *testing.T) {
	assert.True(t, math.IsNaN(median(nil)))
	assert.Equal(t, 2.0, median([]float64{3, 1, 2}))
	assert.Equal(t, 2.5, median([]float64{4, 1, 3, 2}))
	in := []float64{3, 1, 2}
	median(in)
	assert.Equal(t, []float64{3, 1, 2}, in, "median does not reorder its input")
}

func TestSplitName(t *testing.T) {
	fam, grp, impl, ok := splitName("Send/goroutines=8/impl=raw-gobwas/extra=1")
	require.True(t, ok)
	assert.Equal(t, "Send", fam)
	assert.Equal(t, "goroutines=8/extra=1", grp)
	assert.Equal(t, "raw-gobwas", impl)
	_, _, _, ok = splitName("Send/goroutines=8")
	assert.False(t, ok)
}

func TestNum(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want string
	}{
		{0, "0"}, {1, "1"}, {12.345, "12.35"}, {576.7, "577"}, {0.001068, "0.00107"}, {math.NaN(), "–"},
	} {
		assert.Equal(t, c.want, num(c.in), "num(%v)", c.in)
	}
}

const plainSample = `BenchmarkIdle/conns=50/impl=tether-2  	1	 175705 ns/op	 36209 B/conn	 2.000 goroutines/conn
BenchmarkIdle/conns=50/impl=tether-2  	1	 185705 ns/op	 36409 B/conn	 2.000 goroutines/conn
BenchmarkIdle/conns=50/impl=gorilla-2 	1	 631595 ns/op	 14254 B/conn	 2.000 goroutines/conn
`

func TestRenderPlain(t *testing.T) {
	rep, err := parse(strings.NewReader(plainSample))
	require.NoError(t, err)
	var out bytes.Buffer
	renderPlain(&out, rep)
	got := out.String()
	assert.Contains(t, got, "| group | impl | ns/op | B/conn | goroutines/conn | runs |")
	assert.Contains(t, got, "| conns=50 | tether | 180705 | 36309 | 2 | 2 |")
	assert.Contains(t, got, "| conns=50 | gorilla | 631595 | 14254 | 2 | 1 |")
	assert.NotContains(t, got, "ratio")
}
