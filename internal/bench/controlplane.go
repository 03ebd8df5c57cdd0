package bench

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/tenantry/tenantry/internal/localcluster"
)

// controlPlaneFigures measures the tenant-shaped control plane (kube-apiserver over
// kine/SQLite) as a process: start to ready, and idle RSS. It stands in for the bundled
// virtual-cluster image until that exists.
func controlPlaneFigures(ctx context.Context, o Options) []Figure {
	var start, rss []float64
	for range o.Runs {
		c, err := localcluster.Start(ctx, localcluster.Options{Storage: localcluster.Kine, NoControllerManager: true})
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

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on Linux everywhere.
const clockTicks = 100

// processCPU is a process's user plus system CPU seconds so far, from /proc/<pid>/stat.
func processCPU(pid int) float64 {
	if pid <= 0 {
		return 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name is in parentheses and may hold spaces: count fields after it.
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0
	}
	var utime, stime float64
	_, _ = fmt.Sscanf(fields[11], "%f", &utime)
	_, _ = fmt.Sscanf(fields[12], "%f", &stime)
	return (utime + stime) / clockTicks
}
