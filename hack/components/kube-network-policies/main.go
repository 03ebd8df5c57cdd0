// Command kube-network-policies runs the pinned upstream NetworkPolicy controller
// (sigs.k8s.io/kube-network-policies/pkg/networkpolicy) with a kubeconfig: upstream's own
// main only knows the in-cluster config, and the test bed's node runs it as a process.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	networkinglisters "k8s.io/client-go/listers/networking/v1"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/kube-network-policies/pkg/networkpolicy"
)

func main() { os.Exit(run()) }

func run() int {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the API server to watch")
	nodeName := flag.String("hostname-override", "", "name of the Node this runs on")
	queueID := flag.Int("nfqueue-id", 100, "number of the nfqueue used")
	metrics := flag.String("metrics-bind-address", "127.0.0.1:9080", "address of the metrics server")
	failOpen := flag.Bool("fail-open", false, "accept packets when the controller is not running")
	klog.InitFlags(flag.CommandLine)
	flag.Parse()
	if *kubeconfig == "" || *nodeName == "" {
		fmt.Fprintln(os.Stderr, "kube-network-policies: --kubeconfig and --hostname-override are required")
		return 2
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if err := serve(ctx, *kubeconfig, *metrics, networkpolicy.Config{
		FailOpen: *failOpen, QueueID: *queueID, NodeName: *nodeName, NetfilterBug1766Fix: true,
	}); err != nil {
		klog.ErrorS(err, "kube-network-policies failed")
		return 1
	}
	return 0
}

// serve runs the controller until ctx ends; the controller removes its nftables table on return.
func serve(ctx context.Context, kubeconfig, metrics string, cfg networkpolicy.Config) error {
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("loading %s: %w", kubeconfig, err)
	}
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		return fmt.Errorf("creating client: %w", err)
	}
	factory := informers.NewSharedInformerFactory(client, 0)
	ctrl, err := networkpolicy.NewController(client,
		factory.Networking().V1().NetworkPolicies(), factory.Core().V1().Namespaces(),
		factory.Core().V1().Pods(), nil, nil, nil, nil, cfg)
	if err != nil {
		return fmt.Errorf("creating controller: %w", err)
	}
	go serveMetrics(metrics, factory.Networking().V1().NetworkPolicies().Lister())
	done := make(chan error, 1)
	go func() { done <- ctrl.Run(ctx) }()
	factory.Start(ctx.Done())
	select {
	case err := <-done:
		if ctx.Err() == nil {
			return fmt.Errorf("controller stopped: %w", err)
		}
	case <-ctx.Done():
		select {
		case err := <-done:
			if err != nil {
				klog.ErrorS(err, "controller stopped")
			}
		case <-time.After(5 * time.Second):
		}
	}
	return nil
}

// serveMetrics serves the metrics and, for the test bed, /networkpolicies: the
// namespace/name of each NetworkPolicy the controller's informer holds, one a line.
func serveMetrics(addr string, policies networkinglisters.NetworkPolicyLister) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.Handler())
	mux.HandleFunc("/networkpolicies", func(w http.ResponseWriter, _ *http.Request) {
		list, err := policies.List(labels.Everything())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		for _, np := range list {
			_, _ = fmt.Fprintf(w, "%s/%s\n", np.Namespace, np.Name)
		}
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		klog.ErrorS(err, "metrics server")
	}
}
