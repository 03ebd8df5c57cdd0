package localcluster

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// killShims kills the containerd shims serving this node's containerd: they outlive it.
func (n *node) killShims() {
	for _, pid := range n.shimPIDs() {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// shimPIDs finds the running containerd shims whose command line names this node's socket.
func (n *node) shimPIDs() []int {
	var pids []int
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range procs {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		cmdline := strings.ReplaceAll(string(data), "\x00", " ")
		if !strings.Contains(cmdline, "containerd-shim") || !strings.Contains(cmdline, n.socket()) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(f))); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// unmountAll detaches every mount under dir, deepest first: overlay rootfs, shm, pod
// network namespaces and the kubelet's volume mounts.
func unmountAll(dir string) {
	mounts := mountsUnder(dir)
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i]) > len(mounts[j]) })
	for _, m := range mounts {
		_ = syscall.Unmount(m, syscall.MNT_DETACH)
	}
}

// mountsUnder lists the mount points under dir, from /proc/self/mountinfo.
func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer func() { _ = f.Close() }()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && (fields[4] == dir || strings.HasPrefix(fields[4], dir+"/")) {
			out = append(out, fields[4])
		}
	}
	return out
}

// removeCgroups kills any process left in the node's cgroup root (a container whose shim
// died first is reparented to init but stays in its cgroup), then removes the root in
// every cgroup hierarchy, deepest first.
func removeCgroups(root string) {
	killCgroupProcs("/sys/fs/cgroup/pids" + root)
	hierarchies, _ := filepath.Glob("/sys/fs/cgroup/*")
	hierarchies = append(hierarchies, "/sys/fs/cgroup")
	for _, h := range hierarchies {
		var dirs []string
		_ = filepath.WalkDir(filepath.Join(h, root), func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			rmdirRetry(dirs[i])
		}
	}
}

// killCgroupProcs SIGKILLs every process in the cgroup tree at dir.
func killCgroupProcs(dir string) {
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.Name() != "cgroup.procs" {
			return nil
		}
		data, _ := os.ReadFile(p)
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		return nil
	})
}

// rmdirRetry removes a cgroup, retrying for up to 2 s while its killed processes exit.
func rmdirRetry(dir string) {
	for range 20 {
		if err := syscall.Rmdir(dir); err == nil || !errors.Is(err, syscall.EBUSY) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// removeLogLinks removes the kubelet's /var/log/containers links into the node's pod logs.
func removeLogLinks(podLogs string) {
	links, _ := filepath.Glob("/var/log/containers/*.log")
	for _, l := range links {
		if target, err := os.Readlink(l); err == nil && strings.HasPrefix(target, podLogs+"/") {
			_ = os.Remove(l)
		}
	}
}

// leftovers lists what the node's clean-up failed to remove: its namespace, mounts under
// its dir, shims of its containerd and its cgroups.
func (n *node) leftovers() error {
	var left []string
	if _, err := os.Stat("/run/netns/" + n.ns.name); err == nil {
		left = append(left, "network namespace "+n.ns.name)
	}
	if t := n.netpolLeftover(); t != "" {
		left = append(left, t)
	}
	for _, m := range mountsUnder(n.dir) {
		left = append(left, "mount "+m)
	}
	if pids := n.shimPIDs(); len(pids) > 0 {
		left = append(left, fmt.Sprintf("containerd shims %v", pids))
	}
	if _, err := os.Stat("/sys/fs/cgroup/memory" + n.cgroupRoot); err == nil {
		left = append(left, "cgroup "+n.cgroupRoot)
	}
	if len(left) > 0 {
		return fmt.Errorf("the node left behind: %s", strings.Join(left, "; "))
	}
	return nil
}
