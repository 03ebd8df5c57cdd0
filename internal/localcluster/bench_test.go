package localcluster_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/tenantry/tenantry/internal/localcluster"
)

// BenchmarkControlPlaneStartup reports the median time to a ready control plane, for the
// host shape (etcd + kube-apiserver + kube-controller-manager) and the tenant shape
// (kine/SQLite + kube-apiserver), over five starts each.
func BenchmarkControlPlaneStartup(b *testing.B) {
	shapes := []struct {
		name string
		opts localcluster.Options
	}{
		{"host", localcluster.Options{}},
		{"tenant-kine", localcluster.Options{Storage: localcluster.Kine, NoControllerManager: true}},
	}
	for _, s := range shapes {
		b.Run(s.name, func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				for range 5 {
					c, err := localcluster.Start(context.Background(), s.opts)
					if err != nil {
						b.Fatal(err)
					}
					times = append(times, c.StartupTime)
					c.Cleanup()
				}
			}
			sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
			b.ReportMetric(times[len(times)/2].Seconds(), "median-s")
			b.ReportMetric(times[len(times)-1].Seconds(), "max-s")
		})
	}
}
