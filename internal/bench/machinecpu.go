package bench

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// machineCPU is the CPU seconds every process on the machine has used so far, summed by
// name: its command, with " (pod)" for a process in a pod's cgroup, which tells the virtual
// cluster's kube-apiserver from the host's.
func machineCPU() map[string]float64 {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	out := map[string]float64{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if name := processName(pid); name != "" {
			out[name] += processCPU(pid)
		}
	}
	return out
}

// processName is a process's command, with " (pod)" when its cgroup is a pod's; "" once it
// has gone.
func processName(pid int) string {
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return ""
	}
	name := strings.TrimSpace(string(comm))
	if cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid)); err == nil && strings.Contains(string(cg), "kubepods") {
		name += " (pod)"
	}
	return name
}

// topCPU lists the n names that used the most CPU between two machineCPU readings, and
// the total, as "total 80.1 s: kube-apiserver 30.2, ...".
func topCPU(before, after map[string]float64, n int) string {
	type use struct {
		name string
		s    float64
	}
	var uses []use
	total := 0.0
	for name, s := range after {
		if d := s - before[name]; d >= 0.05 {
			uses = append(uses, use{name, d})
			total += d
		}
	}
	slices.SortFunc(uses, func(a, b use) int { return cmp.Compare(b.s, a.s) })
	parts := make([]string, 0, n)
	for _, u := range uses[:min(n, len(uses))] {
		parts = append(parts, fmt.Sprintf("%s %.1f", u.name, u.s))
	}
	return fmt.Sprintf("total %.1f s: %s", total, strings.Join(parts, ", "))
}
