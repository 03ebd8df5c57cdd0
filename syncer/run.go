package syncer

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/tenantry/tenantry/syncer/configmaps"
	"github.com/tenantry/tenantry/syncer/controller"
	"github.com/tenantry/tenantry/syncer/endpoints"
	"github.com/tenantry/tenantry/syncer/events"
	"github.com/tenantry/tenantry/syncer/ingresses"
	"github.com/tenantry/tenantry/syncer/kubeletapi"
	"github.com/tenantry/tenantry/syncer/networkpolicies"
	"github.com/tenantry/tenantry/syncer/nodes"
	"github.com/tenantry/tenantry/syncer/pods"
	"github.com/tenantry/tenantry/syncer/pvcs"
	"github.com/tenantry/tenantry/syncer/secrets"
	"github.com/tenantry/tenantry/syncer/services"
	"github.com/tenantry/tenantry/syncer/storageclasses"
	"github.com/tenantry/tenantry/syncer/synccontext"
	"github.com/tenantry/tenantry/syncer/translate"
	"github.com/tenantry/tenantry/syncer/types"
)

// Run syncs until ctx is done. Start-up is a full resync of both clusters.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	log := logr.FromContextOrDiscard(ctx).WithValues("vcluster", cfg.Name)
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return fmt.Errorf("building the scheme: %w", err)
	}
	mgr, err := manager.New(cfg.Virtual, manager.Options{
		Scheme: scheme, Logger: log, Metrics: metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0", Controller: ctrlconfig.Controller{SkipNameValidation: new(true)},
	})
	if err != nil {
		return fmt.Errorf("connecting to the virtual cluster: %w", err)
	}
	host, err := hostCluster(cfg, scheme, log)
	if err != nil {
		return err
	}
	if err := mgr.Add(host); err != nil {
		return fmt.Errorf("adding the host cluster: %w", err)
	}
	sc, stop, err := newContext(cfg, mgr, host, scheme)
	if err != nil {
		return err
	}
	defer stop()
	if err := register(mgr, host.GetCache(), sc); err != nil {
		return err
	}
	log.Info("syncer starting", "hostNamespace", cfg.HostNamespace)
	if err := mgr.Start(logr.NewContext(ctx, log)); err != nil {
		return fmt.Errorf("running the syncer: %w", err)
	}
	return nil
}

func (c Config) validate() error {
	switch {
	case c.Virtual == nil || c.Host == nil:
		return errors.New("syncer: the virtual and host configs are required")
	case c.Name == "" || c.HostNamespace == "":
		return errors.New("syncer: the vcluster name and host namespace are required")
	}
	return nil
}

// hostCluster caches only HostNamespace and, there, only objects this vcluster manages
// (events excepted): a namespaced Role is enough.
func hostCluster(cfg Config, scheme *runtime.Scheme, log logr.Logger) (cluster.Cluster, error) {
	managed := labels.SelectorFromSet(labels.Set{translate.LabelManagedBy: cfg.Name})
	host, err := cluster.New(cfg.Host, func(o *cluster.Options) {
		o.Scheme, o.Logger = scheme, log.WithName("host")
		o.Cache = cache.Options{
			DefaultNamespaces:    map[string]cache.Config{cfg.HostNamespace: {}},
			DefaultLabelSelector: managed,
			ByObject:             hostByObject(cfg),
		}
	})
	if err != nil {
		return nil, fmt.Errorf("connecting to the host cluster: %w", err)
	}
	return host, nil
}

// hostByObject lifts the managed-by restriction for events and, when the tenant file
// asks for them, for the host's cluster-scoped nodes and storage classes.
func hostByObject(cfg Config) map[client.Object]cache.ByObject {
	out := map[client.Object]cache.ByObject{&corev1.Event{}: {Label: labels.Everything()}}
	if cfg.Sync.Nodes.Enabled {
		out[&corev1.Node{}] = cache.ByObject{Label: labels.SelectorFromSet(cfg.Sync.Nodes.NodeSelector)}
	}
	if cfg.Sync.HostStorageClasses {
		out[&storagev1.StorageClass{}] = cache.ByObject{Label: labels.Everything()}
	}
	return out
}

func newContext(cfg Config, mgr manager.Manager, host cluster.Cluster, scheme *runtime.Scheme) (*synccontext.Context, func(), error) {
	cs, err := kubernetes.NewForConfig(cfg.Virtual)
	if err != nil {
		return nil, nil, fmt.Errorf("virtual clientset: %w", err)
	}
	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: cs.CoreV1().Events("")})
	sc := &synccontext.Context{
		Translator: translate.Translator{VCluster: cfg.Name, HostNamespace: cfg.HostNamespace, DisableChecks: cfg.DisableChecks},
		Virtual:    mgr.GetClient(), VirtualReader: mgr.GetAPIReader(), VirtualClientset: cs,
		Host: host.GetClient(), HostCache: host.GetCache(), HostReader: host.GetAPIReader(),
		Recorder: broadcaster.NewRecorder(scheme, corev1.EventSource{Component: "tenantry-syncer"}),
		Pods:     cfg.Pods, Sync: cfg.Sync, ServiceHost: cfg.ServiceHost, ServicePort: cfg.ServicePort,
		DNSServer: cfg.DNSServer, VirtualCA: cfg.VirtualCA, KubeletPort: cfg.KubeletPort, Tokens: cfg.Tokens,
	}
	if sc.KubeletPort == 0 {
		sc.KubeletPort = kubeletapi.DefaultPort
	}
	return sc, broadcaster.Shutdown, nil
}

// register wires every kind the tenant file asks for.
func register(mgr manager.Manager, hostCache cache.Cache, sc *synccontext.Context) error {
	for _, s := range toHost(sc) {
		if err := controller.Register(mgr, hostCache, sc, s); err != nil {
			return err
		}
	}
	fromHost := []func(manager.Manager, *synccontext.Context) error{nodes.Register, events.Register}
	if sc.Sync.Nodes.Enabled {
		fromHost = append(fromHost, nodes.RegisterReal)
	}
	if sc.Sync.HostStorageClasses {
		fromHost = append(fromHost, storageclasses.Register)
	}
	for _, register := range fromHost {
		if err := register(mgr, sc); err != nil {
			return err
		}
	}
	return nil
}

// toHost lists the virtual-to-host kinds; pods come first, their indexes serve the others.
func toHost(sc *synccontext.Context) []types.ToHost {
	out := []types.ToHost{pods.Syncer{}, configmaps.Syncer{}, secrets.Syncer{}, services.Syncer{},
		endpoints.Syncer{}, pvcs.Syncer{}}
	if sc.Sync.Ingresses {
		out = append(out, ingresses.Syncer{})
	}
	if sc.Sync.NetworkPolicies {
		out = append(out, networkpolicies.Syncer{})
	}
	return out
}
