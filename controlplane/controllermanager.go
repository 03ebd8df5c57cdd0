package controlplane

import (
	"path/filepath"

	"github.com/tenantry/tenantry/internal/supervise"
)

// controllers are kube-controller-manager's controllers in a virtual cluster: all but node
// lifecycle, IPAM, TTL and the volume binder, attacher and expander, since the syncer's
// pseudo-nodes have no kubelet and the host runs the real volumes. The names are the
// canonical ones both pinned versions know; the cloud node lifecycle controller is not
// named because 1.37 removed it (naming it fails the start) and it is a no-op without a
// cloud provider in 1.36.
const controllers = "*,-node-ipam-controller,-node-lifecycle-controller,-persistentvolume-binder-controller," +
	"-persistentvolume-attach-detach-controller,-persistentvolume-expander-controller,-ttl-controller"

// controllerManagerSpec runs kube-controller-manager with its own client certificate's
// kubeconfig, serving its health endpoint on a loopback port.
func (c *Config) controllerManagerSpec(p *PKI, kubeconfig string, port int) supervise.Spec {
	return supervise.Spec{
		Name: "kube-controller-manager",
		Path: filepath.Join(c.BinDir, "kube-controller-manager"),
		Env:  []string{"GOGC=" + itoa(helperGOGC)},
		Args: []string{
			"--kubeconfig=" + kubeconfig, "--authentication-kubeconfig=" + kubeconfig,
			"--authorization-kubeconfig=" + kubeconfig, "--controllers=" + controllers,
			"--leader-elect=false", "--use-service-account-credentials",
			"--service-account-private-key-file=" + p.Path("sa.key"), "--root-ca-file=" + p.Path("ca.crt"),
			"--cluster-signing-cert-file=" + p.Path("ca.crt"), "--cluster-signing-key-file=" + p.Path("ca.key"),
			"--service-cluster-ip-range=" + c.ServiceCIDR,
			"--bind-address=127.0.0.1", "--secure-port=" + itoa(port),
		},
	}
}
