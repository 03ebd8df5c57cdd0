// Command tenantry-vcluster runs a tenant's virtual control plane in its StatefulSet pod.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/tenantry/tenantry/controlplane"
)

func main() {
	started := time.Now()
	configPath := flag.String("config", controlplane.DefaultConfigPath, "the vcluster config file")
	hostKubeconfig := flag.String("host-kubeconfig", "", "kubeconfig of the host cluster; empty means in-cluster")
	flag.Parse()
	if err := run(started, *configPath, *hostKubeconfig); err != nil {
		fmt.Fprintln(os.Stderr, "tenantry-vcluster:", err)
		os.Exit(1)
	}
}

func run(started time.Time, configPath, hostKubeconfig string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	log := zap.New(zap.WriteTo(os.Stderr))
	ctx = logr.NewContext(ctx, log)
	cfg, err := controlplane.LoadConfig(configPath)
	if err != nil {
		return err
	}
	host, err := hostConfig(hostKubeconfig)
	if err != nil {
		return err
	}
	controlplane.HostRateLimit(host)
	log.Info("starting", "vcluster", cfg.Name, "namespace", cfg.HostNamespace, "dataDir", cfg.DataDir)
	return controlplane.Run(ctx, cfg, controlplane.Options{Host: host, Started: started})
}

func hostConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" {
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("in-cluster host config: %w", err)
		}
		return cfg, nil
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("host kubeconfig %s: %w", kubeconfig, err)
	}
	return cfg, nil
}
