// Package bench measures tenantry against real components, with medians of several runs and side-by-side peers.
package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Figure is one measured (or missing) number.
type Figure struct {
	Name   string    `json:"name"`
	Value  float64   `json:"value,omitempty"`
	Unit   string    `json:"unit,omitempty"`
	Runs   []float64 `json:"runs,omitempty"`
	Target string    `json:"target,omitempty"`
	// Ratios are tenantry / peer, each peer measured in the same session.
	Ratios  []Ratio `json:"ratios,omitempty"`
	Missing string  `json:"missing,omitempty"` // why there is no number
	Note    string  `json:"note,omitempty"`
	// System, Metric and Tenants identify side-by-side figures, for the chart.
	System  string `json:"system,omitempty"`
	Metric  string `json:"metric,omitempty"`
	Tenants int    `json:"tenants,omitempty"`
}

// Ratio is a tenantry figure divided by a peer's.
type Ratio struct {
	Peer  string  `json:"peer"`
	Value float64 `json:"value"`
}

// Report is one `make bench` run.
type Report struct {
	Date    time.Time `json:"date"`
	Machine string    `json:"machine"`
	Figures []Figure  `json:"figures"`
}

// median returns the median of values (the mean of the middle two for an even count).
func median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	s := append([]float64(nil), values...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// measured builds a figure from several runs.
func measured(name, unit, target string, runs []float64) Figure {
	return Figure{Name: name, Unit: unit, Target: target, Runs: runs, Value: median(runs)}
}

// withRatio adds the ratio of f to a peer's figure measured in the same session, when
// both were measured.
func withRatio(f Figure, peer string, p Figure) Figure {
	if p.Missing == "" && p.Value > 0 && f.Missing == "" && f.Value > 0 {
		f.Ratios = append(f.Ratios, Ratio{Peer: peer, Value: f.Value / p.Value})
	}
	return f
}

// WriteTable prints the report as a table.
func (r *Report) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FIGURE\tMEDIAN\tRUNS\tTARGET\tRATIO\tNOTE")
	for _, f := range r.Figures {
		value := fmt.Sprintf("%.3g %s", f.Value, f.Unit)
		if f.Missing != "" {
			value = "missing"
		}
		var ratios []string
		for _, r := range f.Ratios {
			ratios = append(ratios, fmt.Sprintf("%.2fx %s", r.Value, r.Peer))
		}
		ratio := dash(strings.Join(ratios, ", "))
		note := f.Note
		if f.Missing != "" {
			note = f.Missing
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", f.Name, value, len(f.Runs), dash(f.Target), ratio, note)
	}
	_ = tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Save writes the report as latest.json, a dated copy and chart.svg in dir.
func (r *Report) Save(dir string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the report: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	for _, name := range []string{"latest.json", r.Date.Format("2006-01-02T150405") + ".json"} {
		if err := os.WriteFile(filepath.Join(dir, name), append(data, '\n'), 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	var chart strings.Builder
	if err := r.WriteChart(&chart); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "chart.svg"), []byte(chart.String()), 0o644); err != nil {
		return fmt.Errorf("writing chart.svg: %w", err)
	}
	return nil
}

// MergeInto keeps the figures of dir/latest.json that this report did not measure, so a
// partial run (e.g. -tenants none) updates its own figures only.
func (r *Report) MergeInto(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, "latest.json"))
	if err != nil {
		return fmt.Errorf("reading the report to merge into: %w", err)
	}
	var old Report
	if err := json.Unmarshal(data, &old); err != nil {
		return fmt.Errorf("decoding %s: %w", filepath.Join(dir, "latest.json"), err)
	}
	mine := map[string]bool{}
	for _, f := range r.Figures {
		mine[f.Name] = true
	}
	var merged []Figure
	for _, f := range old.Figures {
		if !mine[f.Name] {
			merged = append(merged, f)
		}
	}
	r.Figures = append(merged, r.Figures...)
	return nil
}
