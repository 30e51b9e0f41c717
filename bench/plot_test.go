package bench

import (
	"fmt"
	"image/color"
	"path/filepath"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// The colours of the jitter modes, the same in every plot.
var jitterColors = []color.Color{
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, // none: red
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, // full: blue
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, // equal: green
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, // decorrelated: purple
}

func jitterColor(r stormResult) color.Color {
	for i, j := range stormJitters {
		if j == r.jitter {
			return jitterColors[i]
		}
	}
	return color.Black
}

// plotStormHistogram writes storm-<jitter>.png into dir: how many clients
// were Open again in each bin of time since the crash, with the moment the
// server came back marked. The time axis ends at last, so the plots of all
// modes share it.
func plotStormHistogram(dir string, r stormResult, p stormParams, last time.Duration) error {
	pl := plot.New()
	pl.Title.Text = fmt.Sprintf("Reconnect storm, %d clients, jitter %s", len(r.opens), r.jitter)
	pl.X.Label.Text = "seconds since the server crashed"
	pl.Y.Label.Text = fmt.Sprintf("clients open again per %s", p.bin)

	nbins := int(r.opens[len(r.opens)-1]/p.bin) + 1
	bins := make([]plotter.HistogramBin, nbins)
	w := p.bin.Seconds()
	for i := range bins {
		bins[i].Min = float64(i) * w
		bins[i].Max = float64(i+1) * w
	}
	ymax := 0.0
	for _, t := range r.opens {
		bin := &bins[int(t/p.bin)]
		bin.Weight++
		ymax = max(ymax, bin.Weight)
	}
	h := &plotter.Histogram{Bins: bins, Width: w, FillColor: jitterColor(r)}
	h.LineStyle.Width = 0
	pl.Add(h)
	if err := addServerBack(pl, p.down, ymax); err != nil {
		return err
	}
	pl.Legend.Top = true
	pl.X.Min = 0
	pl.X.Max = (last + p.bin).Seconds()
	pl.Y.Min = 0
	return pl.Save(16*vg.Centimeter, 9*vg.Centimeter, filepath.Join(dir, fmt.Sprintf("storm-%s.png", r.jitter)))
}

// plotStormCDF writes storm-cdf.png into dir: for every jitter mode, the
// share of clients reconnected against the time since their drop.
func plotStormCDF(dir string, results []stormResult, p stormParams) error {
	pl := plot.New()
	pl.Title.Text = fmt.Sprintf("Reconnect times after a %s outage, %d clients", p.down, len(results[0].reconnect))
	pl.X.Label.Text = "seconds from the drop to the next Open"
	pl.Y.Label.Text = "share of clients reconnected"
	pl.Legend.Top = false
	pl.Legend.Left = false
	for _, r := range results {
		n := len(r.reconnect)
		xys := make(plotter.XYs, 0, 2*n+1)
		xys = append(xys, plotter.XY{X: 0, Y: 0})
		for i, d := range r.reconnect {
			// A step: the share rises from i/n to (i+1)/n at d.
			xys = append(xys, plotter.XY{X: d.Seconds(), Y: float64(i) / float64(n)},
				plotter.XY{X: d.Seconds(), Y: float64(i+1) / float64(n)})
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return err
		}
		l.Color = jitterColor(r)
		l.Width = vg.Points(1.5)
		pl.Add(l)
		pl.Legend.Add(r.jitter.String(), l)
	}
	if err := addServerBack(pl, p.down, 1); err != nil {
		return err
	}
	pl.X.Min = 0
	pl.Y.Min = 0
	pl.Y.Max = 1
	return pl.Save(16*vg.Centimeter, 9*vg.Centimeter, filepath.Join(dir, "storm-cdf.png"))
}

// addServerBack draws a dashed vertical line where the server listened
// again.
func addServerBack(pl *plot.Plot, down time.Duration, ymax float64) error {
	l, err := plotter.NewLine(plotter.XYs{{X: down.Seconds(), Y: 0}, {X: down.Seconds(), Y: ymax}})
	if err != nil {
		return err
	}
	l.Color = color.Gray{Y: 0x80}
	l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	pl.Add(l)
	pl.Legend.Add("server back", l)
	return nil
}
