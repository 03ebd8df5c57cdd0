package framework

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tenantry/tenantry/internal/standin"
)

// RunKubelet runs the stand-in kubelet k (standin.Kubelet.Run: a pass over its namespace
// every interval) until stop is called or the test ends, logging its errors to the test.
// The Node is the caller's to create.
func RunKubelet(t testing.TB, k *standin.Kubelet, interval time.Duration) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { k.Run(ctx, interval, func(err error) { t.Logf("kubelet %s: %v", k.Node, err) }) })
	stop = sync.OnceFunc(func() { cancel(); wg.Wait() })
	t.Cleanup(stop)
	return stop
}
