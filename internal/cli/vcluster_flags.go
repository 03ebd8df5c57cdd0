package cli

import (
	"github.com/spf13/pflag"

	"github.com/tenantry/tenantry/api/podtokens"
	"github.com/tenantry/tenantry/reconciler/render"
)

// vclusterFlags are the virtual cluster settings shared by agent and dev.
type vclusterFlags struct {
	enabled     bool
	image       string
	serviceCIDR string
	tokenSecs   int64
}

// addVClusterFlags registers --virtual-clusters (default on, with its help text),
// --vcluster-image, --service-cidr and --pod-token-seconds.
func addVClusterFlags(fl *pflag.FlagSet, f *vclusterFlags, on bool, help string) {
	fl.BoolVar(&f.enabled, "virtual-clusters", on, help)
	fl.StringVar(&f.image, "vcluster-image", render.DefaultVClusterImage, "image repository of the virtual clusters; the tag is the tenant's Kubernetes version (e.g. v1.37.2)")
	fl.StringVar(&f.serviceCIDR, "service-cidr", "", "override the host's service CIDR, which the agent discovers (the ServiceCIDR API); the virtual API servers share it so a Service keeps its ClusterIP. A value that differs from the discovered one stops the agent at start")
	fl.Int64Var(&f.tokenSecs, "pod-token-seconds", 0, "lifetime of the service account tokens the virtual clusters issue for their pods, 600 to 86400; they are refreshed at 80% of it (0: 3600)")
}

func (f *vclusterFlags) options() render.VClusterOptions {
	return render.VClusterOptions{ImageRepository: f.image, ServiceCIDR: f.serviceCIDR,
		Tokens: podtokens.Tokens{ExpirationSeconds: f.tokenSecs}}
}
