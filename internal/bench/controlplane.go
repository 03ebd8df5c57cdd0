package bench

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/tenantry/tenantry/test/cluster"
)

// controlPlaneFigures measures the tenant-shaped control plane (kube-apiserver over
// kine/SQLite) as a process: start to ready, and idle RSS. It stands in for the bundled
// virtual-cluster image until that exists.
func controlPlaneFigures(ctx context.Context, o Options) []Figure {
	var start, rss []float64
	for range o.Runs {
		c, err := cluster.Start(ctx, cluster.Options{Storage: cluster.Kine, NoControllerManager: true})
		if err != nil {
			return []Figure{{Name: "tenant-shaped control plane", Missing: err.Error()}}
		}
		start = append(start, c.StartupTime.Seconds())
		time.Sleep(5 * time.Second)
		total := 0.0
		for _, pid := range c.PIDs() {
			total += processRSS(pid)
		}
		rss = append(rss, total)
		c.Cleanup()
	}
	note := "kine/SQLite + kube-apiserver as local processes; not yet the bundled image"
	s := measured("tenant control plane start to ready", "s", "< 5 s", start)
	r := measured("tenant control plane idle RSS (apiserver + kine)", "MiB", "", rss)
	s.Note, r.Note = note, note
	return []Figure{s, r}
}

func processRSS(pid int) float64 {
	return procStatusMiB(fmt.Sprintf("/proc/%d/status", pid), "VmRSS:")
}

// procStatusMiB reads a kB field (VmRSS:, VmHWM:) of a /proc status file, in MiB.
func procStatusMiB(path, field string) float64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, field) {
			var kb float64
			_, _ = fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, field)), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}
