package localcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// NodeContainer is a container the node's containerd is running for a pod.
type NodeContainer struct {
	ID, Pod, Namespace, Name string
	cgroup                   string // its cgroup path, under each controller's root
}

// RunningContainers lists the containers the node's containerd runs (tasks in state
// RUNNING) for pods of namespace, sandboxes excluded: what a user would see with crictl.
func (c *Cluster) RunningContainers(ctx context.Context, namespace string) ([]NodeContainer, error) {
	if c.node == nil {
		return nil, errors.New("the cluster has no node")
	}
	running, err := c.node.runningTasks(ctx)
	if err != nil {
		return nil, err
	}
	filter := fmt.Sprintf(`labels."io.kubernetes.pod.namespace"==%s`, namespace)
	out, err := c.node.ctr(ctx, "containers", "list", "-q", filter)
	if err != nil {
		return nil, fmt.Errorf("listing containers of %s: %w", namespace, err)
	}
	var list []NodeContainer
	for _, id := range strings.Fields(out) {
		if !running[id] {
			continue
		}
		info, err := c.node.containerInfo(ctx, id)
		if err != nil {
			return nil, err
		}
		if info.Labels["io.cri-containerd.kind"] == "sandbox" {
			continue
		}
		list = append(list, NodeContainer{ID: id, Namespace: namespace, cgroup: info.Spec.Linux.CgroupsPath,
			Pod: info.Labels["io.kubernetes.pod.name"], Name: info.Labels["io.kubernetes.container.name"]})
	}
	return list, nil
}

// runningTasks is the set of container IDs whose task is RUNNING.
func (n *node) runningTasks(ctx context.Context) (map[string]bool, error) {
	out, err := n.ctr(ctx, "tasks", "list")
	if err != nil {
		return nil, fmt.Errorf("listing tasks: %w", err)
	}
	running := map[string]bool{}
	for _, line := range strings.Split(out, "\n")[1:] {
		if f := strings.Fields(line); len(f) == 3 && f[2] == "RUNNING" {
			running[f[0]] = true
		}
	}
	return running, nil
}

// containerInfo is what `ctr containers info` says of a container that the node needs.
type containerInfo struct {
	Labels map[string]string
	Spec   struct {
		Linux struct {
			CgroupsPath string `json:"cgroupsPath"`
		} `json:"linux"`
	}
}

// containerInfo reads a container's labels and cgroup path from `ctr containers info`.
func (n *node) containerInfo(ctx context.Context, id string) (*containerInfo, error) {
	out, err := n.ctr(ctx, "containers", "info", id)
	if err != nil {
		return nil, fmt.Errorf("reading container %s: %w", id, err)
	}
	var info containerInfo
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		return nil, fmt.Errorf("decoding container %s: %w", id, err)
	}
	return &info, nil
}
