package controlplane

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// TestHostRateLimitIsOneBucket: the REST clients controller-runtime makes per kind from
// the host config share one rate limiter, so the syncer's host rate is HostQPS in all.
func TestHostRateLimitIsOneBucket(t *testing.T) {
	for _, tc := range []struct {
		name      string
		qps       float32
		burst     int
		wantQPS   float32
		wantBurst int
	}{
		{"defaults", 0, 0, HostQPS, HostBurst},
		{"set by the caller", 20, 40, 20, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &rest.Config{Host: "https://127.0.0.1:1", QPS: tc.qps, Burst: tc.burst}
			HostRateLimit(cfg)
			if cfg.QPS != tc.wantQPS || cfg.Burst != tc.wantBurst {
				t.Errorf("QPS/Burst = %v/%d, want %v/%d", cfg.QPS, cfg.Burst, tc.wantQPS, tc.wantBurst)
			}
			pods := limiterFor(t, cfg, corev1.SchemeGroupVersion.WithKind("Pod"))
			secrets := limiterFor(t, cfg, corev1.SchemeGroupVersion.WithKind("Secret"))
			if pods != secrets {
				t.Error("pods and secrets have a rate limiter each, want one for the host client")
			}
			if pods.QPS() != tc.wantQPS {
				t.Errorf("limiter QPS %v, want %v", pods.QPS(), tc.wantQPS)
			}
		})
	}
}

func limiterFor(t *testing.T, cfg *rest.Config, gvk schema.GroupVersionKind) flowcontrol.RateLimiter {
	t.Helper()
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := apiutil.RESTClientForGVK(gvk, false, false, cfg, scheme.Codecs, hc)
	if err != nil {
		t.Fatal(err)
	}
	return c.GetRateLimiter()
}
