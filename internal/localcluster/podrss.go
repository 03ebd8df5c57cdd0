package localcluster

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// PodRSS is the resident memory of one pod's running containers on the real node (its
// sandbox and shims excluded): the sum of total_rss over each container's memory cgroup.
func (c *Cluster) PodRSS(ctx context.Context, namespace, pod string) (int64, error) {
	list, err := c.RunningContainers(ctx, namespace)
	if err != nil {
		return 0, err
	}
	var total int64
	counted := 0
	for _, ctr := range list {
		if ctr.Pod != pod {
			continue
		}
		if ctr.cgroup == "" {
			return 0, fmt.Errorf("container %s has no cgroup path", ctr.ID)
		}
		rss, err := cgroupTotalRSS("/sys/fs/cgroup/memory" + ctr.cgroup + "/memory.stat")
		if err != nil {
			return 0, err
		}
		total += rss
		counted++
	}
	if counted == 0 {
		return 0, fmt.Errorf("no running container of pod %s/%s on the node", namespace, pod)
	}
	return total, nil
}

// cgroupTotalRSS reads total_rss from a v1 memory.stat file, in bytes.
func cgroupTotalRSS(path string) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", path, err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "total_rss "); ok {
			n, err := strconv.ParseInt(rest, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parsing total_rss in %s: %w", path, err)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("no total_rss in %s", path)
}
