package localcluster

import (
	"fmt"
	"os"
	"path/filepath"
)

// DefaultKubernetesVersion is the host Kubernetes version; it matches client-go v0.37.
const DefaultKubernetesVersion = "v1.37.2"

// KubernetesVersions lists the Kubernetes versions `make components` builds, newest first.
var KubernetesVersions = []string{"v1.37.2", "v1.36.3"}

// HostKubernetesVersion is $TENANTRY_KUBERNETES_VERSION, or DefaultKubernetesVersion:
// the whole suite can run against another pinned minor.
func HostKubernetesVersion() string {
	if v := os.Getenv("TENANTRY_KUBERNETES_VERSION"); v != "" {
		return v
	}
	return DefaultKubernetesVersion
}

// ComponentsDir returns where `make components` linked the pinned binaries:
// $TENANTRY_COMPONENTS, or bin/components at the repository root.
func ComponentsDir() (string, error) {
	if dir := os.Getenv("TENANTRY_COMPONENTS"); dir != "" {
		return dir, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "hack", "components.sh")); err == nil {
			return filepath.Join(dir, "bin", "components"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no repository root above the working directory; set TENANTRY_COMPONENTS")
		}
		dir = parent
	}
}

// binary returns the path of a component binary, or an error telling how to build it.
func binary(component, name string) (string, error) {
	dir, err := ComponentsDir()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, component, name)
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("component %s/%s not built (run `make components`): %w", component, name, err)
	}
	return path, nil
}

// Available reports whether the pinned binaries for a host control plane are built.
func Available() error {
	for _, c := range [][2]string{{"kubernetes-" + HostKubernetesVersion(), "kube-apiserver"}, {"etcd", "etcd"}} {
		if _, err := binary(c[0], c[1]); err != nil {
			return err
		}
	}
	return nil
}
