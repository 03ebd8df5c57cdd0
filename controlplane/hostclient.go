package controlplane

import "k8s.io/client-go/rest"

// HostQPS and HostBurst are the rate limit of the control plane's host client (the
// syncer's). client-go's default, 5 and 10, held the syncer to 5 pods a second in the
// syncer benchmark.
const (
	HostQPS   = 50
	HostBurst = 100
)

// HostRateLimit gives cfg HostQPS and HostBurst unless it has a rate limit of its own.
func HostRateLimit(cfg *rest.Config) {
	if cfg.QPS == 0 {
		cfg.QPS = HostQPS
	}
	if cfg.Burst == 0 {
		cfg.Burst = HostBurst
	}
}
