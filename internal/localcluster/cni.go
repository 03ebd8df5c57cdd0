package localcluster

import (
	"encoding/json"
	"fmt"
	"os"
)

// PodCIDR is the node's pod network, served by the CNI bridge plugin with host-local IPAM.
const PodCIDR = "10.244.0.0/24"

// cniBinDir is where Debian's containernetworking-plugins puts the plugins.
const cniBinDir = "/usr/lib/cni"

// writeCNIConfig writes a bridge + host-local + portmap conflist; IPAM state stays in the
// node dir so two nodes never share it.
func (n *node) writeCNIConfig() error {
	conf := map[string]any{
		"cniVersion": "0.4.0",
		"name":       "tenantry",
		"plugins": []map[string]any{
			{
				"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
				"ipam": map[string]any{
					"type":    "host-local",
					"ranges":  [][]map[string]string{{{"subnet": PodCIDR}}},
					"routes":  []map[string]string{{"dst": "0.0.0.0/0"}},
					"dataDir": n.path("cni/ipam"),
				},
			},
			{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	data, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding CNI config: %w", err)
	}
	if err := os.MkdirAll(n.path("cni/conf"), 0o755); err != nil {
		return fmt.Errorf("creating CNI conf dir: %w", err)
	}
	if err := os.WriteFile(n.path("cni/conf/10-tenantry.conflist"), data, 0o600); err != nil {
		return fmt.Errorf("writing CNI config: %w", err)
	}
	return nil
}
