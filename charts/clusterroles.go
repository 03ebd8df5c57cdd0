package charts

import (
	"fmt"
	"io/fs"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// clusterRolesDir holds the fixed ClusterRoles, one file each, named after the role. The
// tenantry chart renders them (templates/clusterroles.yaml) and lets the agent bind them;
// the agent applies the same files when it may (dev, tests).
const clusterRolesDir = Tenantry + "/files/clusterroles"

// ClusterRoles returns the fixed ClusterRoles the agent binds to itself in tenant
// namespaces and to the virtual clusters' syncers, sorted by name.
func ClusterRoles() ([]*unstructured.Unstructured, error) {
	entries, err := fs.ReadDir(files, clusterRolesDir)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", clusterRolesDir, err)
	}
	var out []*unstructured.Unstructured
	for _, e := range entries {
		p := path.Join(clusterRolesDir, e.Name())
		data, err := files.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		objs, err := decode(p, data)
		if err != nil {
			return nil, err
		}
		if len(objs) != 1 || objs[0].GetKind() != "ClusterRole" || objs[0].GetName() != strings.TrimSuffix(e.Name(), ".yaml") {
			return nil, fmt.Errorf("%s: want one ClusterRole named after the file", p)
		}
		out = append(out, objs[0])
	}
	return out, nil
}

// AgentTenantRole is the fixed ClusterRole the agent binds to itself in each tenant
// namespace: what it manages there, without holding it cluster-wide.
const AgentTenantRole = "tenantry-agent-tenant"
