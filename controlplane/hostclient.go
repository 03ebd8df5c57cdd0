package controlplane

import (
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
)

// HostQPS and HostBurst are the rate limit of the control plane's host client (the
// syncer's): one token bucket for all its requests, whatever the resource. A client
// built from a rest.Config without a RateLimiter gets a bucket per resource kind
// (controller-runtime makes a REST client per kind), so a tenant's syncer could send
// its limit once per kind it writes; with one bucket its host rate is one number.
// A pod costs two host writes (the pod and its token Secret), so the bucket lets 1,000
// pods through in about 8 s; the syncer bench's took 15.6 s, so the bucket no longer sets
// the pace. Fairness between tenants is the host API server's
// (API Priority and Fairness: each syncer's service account is a flow of its own in
// workload-low by default), so this limit bounds one tenant's rate, not the host's load.
const (
	HostQPS   = 200
	HostBurst = 400
)

// HostRateLimit gives cfg one token bucket of its QPS and Burst, HostQPS and HostBurst
// where those are zero, unless it has a RateLimiter of its own.
func HostRateLimit(cfg *rest.Config) {
	if cfg.RateLimiter != nil {
		return
	}
	if cfg.QPS == 0 {
		cfg.QPS = HostQPS
	}
	if cfg.Burst == 0 {
		cfg.Burst = HostBurst
	}
	cfg.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(cfg.QPS, cfg.Burst)
}
