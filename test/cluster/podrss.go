package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// PodRSS is the resident memory of one pod's running containers on the real node (its
// sandbox and shims excluded): the sum of total_rss over each container's memory cgroup.
func (c *Cluster) PodRSS(ctx context.Context, namespace, pod string) (int64, error) {
	if c.node == nil {
		return 0, errors.New("the cluster has no node")
	}
	running, err := c.node.runningTasks(ctx)
	if err != nil {
		return 0, err
	}
	filter := fmt.Sprintf(`labels."io.kubernetes.pod.namespace"==%s,labels."io.kubernetes.pod.name"==%s,labels."io.cri-containerd.kind"==container`, namespace, pod)
	out, err := c.node.ctr(ctx, "containers", "list", "-q", filter)
	if err != nil {
		return 0, fmt.Errorf("listing containers of %s/%s: %w", namespace, pod, err)
	}
	var total int64
	counted := 0
	for _, id := range strings.Fields(out) {
		if !running[id] {
			continue
		}
		path, err := c.node.containerCgroup(ctx, id)
		if err != nil {
			return 0, err
		}
		rss, err := cgroupTotalRSS("/sys/fs/cgroup/memory" + path + "/memory.stat")
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

// containerCgroup reads a container's cgroup path from `ctr containers info`.
func (n *node) containerCgroup(ctx context.Context, id string) (string, error) {
	out, err := n.ctr(ctx, "containers", "info", id)
	if err != nil {
		return "", fmt.Errorf("reading container %s: %w", id, err)
	}
	var info struct {
		Spec struct {
			Linux struct {
				CgroupsPath string `json:"cgroupsPath"`
			} `json:"linux"`
		}
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		return "", fmt.Errorf("decoding container %s: %w", id, err)
	}
	if info.Spec.Linux.CgroupsPath == "" {
		return "", fmt.Errorf("container %s has no cgroup path", id)
	}
	return info.Spec.Linux.CgroupsPath, nil
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
