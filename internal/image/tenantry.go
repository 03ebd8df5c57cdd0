package image

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// Paths inside the images.
const (
	AgentBinary    = "tenantry"
	VClusterBinary = "tenantry-vcluster"
	VClusterConfig = "/etc/tenantry/vcluster.yaml"
	BinDir         = "usr/local/bin"
)

// Source is the project URL in the images' labels.
const Source = "https://github.com/tenantry/tenantry"

// AgentSpec is the agent's image: /tenantry, run as `tenantry agent`.
func AgentSpec(ref, version, binary string) Spec {
	return Spec{
		Ref:        ref,
		Files:      append(baseFiles(), File{Path: AgentBinary, Source: binary, Mode: 0o755}),
		Entrypoint: []string{"/" + AgentBinary, "agent"},
		User:       nonRootUser(),
		Env:        []string{"HOME=/tmp", "TMPDIR=/tmp"},
		WorkingDir: "/tmp",
		Labels:     labels("tenantry agent", "Reconciles a Git repo of tenants into the host cluster.", version),
	}
}

// VClusterSpec is a virtual cluster's image for one Kubernetes version: /tenantry-vcluster
// with kube-apiserver and kube-controller-manager of that version and kine, from the
// components dir (bin/components). /data is the writable state dir.
func VClusterSpec(ref, kubeVersion, binary, components string) Spec {
	kube := filepath.Join(components, "kubernetes-"+kubeVersion)
	files := append(baseFiles(),
		File{Path: VClusterBinary, Source: binary, Mode: 0o755},
		File{Path: BinDir + "/kube-apiserver", Source: filepath.Join(kube, "kube-apiserver"), Mode: 0o755},
		File{Path: BinDir + "/kube-controller-manager", Source: filepath.Join(kube, "kube-controller-manager"), Mode: 0o755},
		File{Path: BinDir + "/kine", Source: filepath.Join(components, "kine", "kine"), Mode: 0o755},
		File{Path: "data", Dir: true, Mode: 0o750, UID: NonRoot, GID: NonRoot},
		File{Path: "etc/tenantry", Dir: true, Mode: 0o755},
	)
	return Spec{
		Ref:        ref,
		Files:      files,
		Entrypoint: []string{"/" + VClusterBinary, "--config", VClusterConfig},
		User:       nonRootUser(),
		Env:        []string{"PATH=/" + BinDir, "HOME=/data", "TMPDIR=/tmp"},
		WorkingDir: "/data",
		Labels: labels("tenantry virtual cluster "+kubeVersion,
			"A tenant's virtual control plane: kube-apiserver "+kubeVersion+" on kine, kube-controller-manager and the syncer.", kubeVersion),
	}
}

// baseFiles are in every image: a world-writable sticky /tmp and the passwd and group
// entries of the non-root user, so tools that look the user up find it.
func baseFiles() []File {
	id := strconv.Itoa(NonRoot)
	return []File{
		{Path: "tmp", Dir: true, Mode: 0o1777},
		{Path: "etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:" + id + ":" + id + ":nonroot:/home/nonroot:/sbin/nologin\n")},
		{Path: "etc/group", Mode: 0o644, Data: []byte("root:x:0:\nnonroot:x:" + id + ":\n")},
	}
}

func nonRootUser() string { return fmt.Sprintf("%d:%d", NonRoot, NonRoot) }

func labels(title, description, version string) map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":       title,
		"org.opencontainers.image.description": description,
		"org.opencontainers.image.version":     version,
		"org.opencontainers.image.source":      Source,
	}
}

// GoBuild builds a static, reproducible binary of pkg (e.g. ./cmd/tenantry) at out, with
// the flags of `make build` so the two share the build cache. The compiler writes no debug
// info, which the linker's -w would drop anyway.
func GoBuild(ctx context.Context, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-gcflags=all=-dwarf=false", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if data, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, data)
	}
	return nil
}
