package bench

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// panel is one plot of the chart: a metric against tenant count, one line per system.
type panel struct {
	metric, title, unit string
}

var chartPanels = []panel{
	{"cold", "Cold reconcile (time until everything applied)", "s"},
	{"change", "One-tenant change, commit to applied", "s"},
	{"rss", "Controller peak RSS", "MiB"},
}

var chartColors = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"}

const (
	panelW, panelH = 360, 260
	marginL        = 60
	marginT        = 40
	plotW, plotH   = panelW - marginL - 20, panelH - marginT - 50
)

// WriteChart draws the side-by-side figures as an SVG: one panel per metric, tenant
// count on the x axis and the value on a log y axis, one line per system; and last the
// real-node figures and the pod loads (tenantry and vcluster) as bars.
func (r *Report) WriteChart(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n",
		panelW*(len(chartPanels)+len(barPanels)), panelH+60)
	systems := r.chartSystems()
	for i, p := range chartPanels {
		drawPanel(&b, float64(i*panelW), p, r.series(p.metric, systems), systems)
	}
	for i, p := range barPanels {
		drawBarPanel(&b, float64((len(chartPanels)+i)*panelW), p, r.Figures, systems)
	}
	drawLegend(&b, systems)
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// series maps system → tenant count → median, for one metric.
func (r *Report) series(metric string, systems []string) map[string]map[int]float64 {
	out := map[string]map[int]float64{}
	for _, s := range systems {
		out[s] = map[int]float64{}
	}
	for _, f := range r.Figures {
		if f.Metric == metric && f.Missing == "" && f.Value > 0 {
			out[f.System][f.Tenants] = f.Value
		}
	}
	return out
}

func (r *Report) chartSystems() []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range r.Figures {
		if f.System != "" && !seen[f.System] {
			seen[f.System] = true
			out = append(out, f.System)
		}
	}
	return out
}

func drawPanel(b *strings.Builder, x0 float64, p panel, series map[string]map[int]float64, systems []string) {
	counts, lo, hi := extent(series)
	fmt.Fprintf(b, `<text x="%.0f" y="20" font-weight="bold">%s (%s)</text>`+"\n", x0+marginL, p.title, p.unit)
	fmt.Fprintf(b, `<rect x="%.0f" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", x0+marginL, marginT, plotW, plotH)
	if len(counts) == 0 {
		fmt.Fprintf(b, `<text x="%.0f" y="%d">no data</text>`+"\n", x0+marginL+10, marginT+20)
		return
	}
	xOf := func(n int) float64 { return x0 + marginL + float64(plotW)*position(counts, n) }
	yOf := func(v float64) float64 {
		return float64(marginT+plotH) - float64(plotH)*(math.Log10(v)-lo)/(hi-lo)
	}
	for _, n := range counts {
		fmt.Fprintf(b, `<text x="%.0f" y="%d" text-anchor="middle">%d</text>`+"\n", xOf(n), marginT+plotH+15, n)
	}
	fmt.Fprintf(b, `<text x="%.0f" y="%d" text-anchor="middle">tenants</text>`+"\n", x0+marginL+plotW/2, marginT+plotH+30)
	for e := math.Ceil(lo); e <= hi; e++ {
		fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="end">%g</text>`+"\n", x0+marginL-5, yOf(math.Pow(10, e))+4, math.Pow(10, e))
	}
	for i, s := range systems {
		drawLine(b, series[s], counts, xOf, yOf, chartColors[i%len(chartColors)])
	}
}

func drawLine(b *strings.Builder, pts map[int]float64, counts []int, xOf func(int) float64, yOf func(float64) float64, color string) {
	var path []string
	for _, n := range counts {
		v, ok := pts[n]
		if !ok {
			continue
		}
		path = append(path, fmt.Sprintf("%.1f,%.1f", xOf(n), yOf(v)))
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%.3g</title></circle>`+"\n", xOf(n), yOf(v), color, v)
	}
	if len(path) > 1 {
		fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(path, " "), color)
	}
}

func drawLegend(b *strings.Builder, systems []string) {
	for i, s := range systems {
		x := 20 + (i%3)*360
		y := panelH + 15 + (i/3)*18
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n",
			x, y, chartColors[i%len(chartColors)], x+18, y+10, s)
	}
}

// extent returns the tenant counts in order and the log10 range of the values, padded.
func extent(series map[string]map[int]float64) ([]int, float64, float64) {
	seen := map[int]bool{}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, pts := range series {
		for n, v := range pts {
			seen[n] = true
			lo, hi = math.Min(lo, math.Log10(v)), math.Max(hi, math.Log10(v))
		}
	}
	var counts []int
	for n := range seen {
		counts = append(counts, n)
	}
	sort.Ints(counts)
	if len(counts) == 0 {
		return nil, 0, 1
	}
	return counts, math.Floor(lo), math.Max(math.Ceil(hi), math.Floor(lo)+1)
}

// position places n on a log x axis between the smallest and largest count.
func position(counts []int, n int) float64 {
	first, last := math.Log10(float64(counts[0])), math.Log10(float64(counts[len(counts)-1]))
	if last == first {
		return 0.5
	}
	return 0.05 + 0.9*(math.Log10(float64(n))-first)/(last-first)
}
