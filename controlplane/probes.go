package controlplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes"

	"github.com/tenantry/tenantry/internal/supervise"
)

// probes serves /healthz (liveness: the supervisor runs) and /readyz (the virtual API
// server answers its /readyz, once the kubeconfig Secret has been written and the
// controller manager's controllers have started).
type probes struct {
	supervisor *supervise.Supervisor

	mu      sync.Mutex
	virtual kubernetes.Interface
}

// setReady records that the kubeconfig Secret is written and the controllers run, with the
// client /readyz checks.
func (p *probes) setReady(virtual kubernetes.Interface) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.virtual = virtual
}

func (p *probes) healthz(w http.ResponseWriter, _ *http.Request) {
	if !p.supervisor.Running() {
		http.Error(w, "supervisor stopped", http.StatusServiceUnavailable)
		return
	}
	_, _ = fmt.Fprintf(w, "ok (restarts: %v)\n", p.supervisor.Restarts())
}

func (p *probes) readyz(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	virtual := p.virtual
	p.mu.Unlock()
	if virtual == nil {
		http.Error(w, "starting: the virtual API server or the kubeconfig Secret is not ready", http.StatusServiceUnavailable)
		return
	}
	if err := apiReady(r.Context(), virtual); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	_, _ = fmt.Fprintln(w, "ok")
}

// listen serves the probes on addr until shutdown is called.
func (p *probes) listen(ctx context.Context, addr string) (shutdown func(), err error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", p.healthz)
	mux.HandleFunc("GET /readyz", p.readyz)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for probes on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logr.FromContextOrDiscard(ctx).Error(err, "probe server stopped")
		}
	}()
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, nil
}
