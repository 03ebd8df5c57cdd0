package bench

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// barPanel is one of the chart's bar panels: real-node figures compared per system.
type barPanel struct {
	title   string
	metrics []metric
}

// barPanels are the chart's last panels: the node figures, then the pod loads.
var barPanels = []barPanel{
	{"On a real node (labels: value, unit)", []metric{
		{"node-ready", "API ready", "s"},
		{"node-deploy", "Deployment", "s"},
		{"node-rss", "RSS idle", "MiB"},
		{"node-rss-deploy", "RSS busy", "MiB"},
	}},
	{"Pod loads on the node", []metric{
		{"load-pods-host", "1,000 to host", "s"},
		{"load-pods-running", "all Running", "s"},
		{"load-intensive", "pod-intensive", "s"},
		{"load-rss", "RSS after", "MiB"},
	}},
}

// drawBarPanel draws p's figures as grouped bars: one group per metric, one bar per
// system, each group on its own linear scale (its largest bar full height).
func drawBarPanel(b *strings.Builder, x0 float64, p barPanel, figs []Figure, systems []string) {
	fmt.Fprintf(b, `<text x="%.0f" y="20" font-weight="bold">%s</text>`+"\n", x0+marginL, p.title)
	fmt.Fprintf(b, `<rect x="%.0f" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", x0+marginL, marginT, plotW, plotH)
	values := barValues(figs, p.metrics)
	if len(values) == 0 {
		fmt.Fprintf(b, `<text x="%.0f" y="%d">no data</text>`+"\n", x0+marginL+10, marginT+20)
		return
	}
	shown := 0 // systems with a node figure get a bar slot, in the legend's colors
	for _, s := range systems {
		if hasNodeValue(values, s) {
			shown++
		}
	}
	groupW := float64(plotW) / float64(len(p.metrics))
	barW := (groupW - 10) / float64(max(shown, 1))
	for g, m := range p.metrics {
		gx := x0 + marginL + groupW*float64(g) + 5
		top := 0.0
		for _, v := range values[m.key] {
			top = math.Max(top, v)
		}
		slot := 0
		for i, s := range systems {
			if !hasNodeValue(values, s) {
				continue
			}
			slot++
			v, ok := values[m.key][s]
			if !ok || top == 0 {
				continue
			}
			h := float64(plotH-20) * v / top
			x, y := gx+barW*float64(slot-1), float64(marginT+plotH)-h
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %.3g %s</title></rect>`+"\n",
				x, y, barW-2, h, chartColors[i%len(chartColors)], s, v, m.unit)
			fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="9">%.3g</text>`+"\n", x+barW/2, y-3, v)
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s (%s)</text>`+"\n", gx+groupW/2-5, marginT+plotH+15, m.label, m.unit)
	}
}

// barValues maps metric → system → median, for the measured figures of metrics.
func barValues(figs []Figure, metrics []metric) map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	for _, f := range figs {
		if f.System == "" || f.Missing != "" || f.Value <= 0 || !slices.ContainsFunc(metrics, func(m metric) bool { return m.key == f.Metric }) {
			continue
		}
		if out[f.Metric] == nil {
			out[f.Metric] = map[string]float64{}
		}
		out[f.Metric][f.System] = f.Value
	}
	return out
}

func hasNodeValue(values map[string]map[string]float64, system string) bool {
	for _, bySystem := range values {
		if _, ok := bySystem[system]; ok {
			return true
		}
	}
	return false
}
