package localcluster

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// RSS returns the resident memory of every running component (the node's too), in bytes,
// by name. Containers and their shims are not counted.
func (c *Cluster) RSS() map[string]int64 {
	procs := c.procs
	if c.node != nil {
		procs = append(append([]*process{}, procs...), c.node.procs...)
	}
	out := map[string]int64{}
	for _, p := range procs {
		if done, _ := p.Exited(); done {
			continue
		}
		if rss, err := processRSS(p.Pid()); err == nil {
			out[p.Name()] = rss
		}
	}
	return out
}

// processRSS reads VmRSS from /proc/PID/status.
func processRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("reading status of %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parsing VmRSS of %d: %w", pid, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS for %d", pid)
}

// NodePodsRSS is the resident memory of every container on the real node (shims excluded):
// total_rss of the kubelet's kubepods memory cgroup.
func (c *Cluster) NodePodsRSS() (int64, error) {
	if c.node == nil {
		return 0, fmt.Errorf("the cluster has no node")
	}
	return cgroupTotalRSS("/sys/fs/cgroup/memory" + c.node.cgroupRoot + "/kubepods/memory.stat")
}
