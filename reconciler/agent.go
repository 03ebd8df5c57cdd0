package reconciler

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/client"

	corev1 "k8s.io/api/core/v1"

	"github.com/tenantry/tenantry/notify"
	"github.com/tenantry/tenantry/reconciler/apply"
	"github.com/tenantry/tenantry/reconciler/loader"
	"github.com/tenantry/tenantry/reconciler/plan"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/reconciler/status"
)

// Client-side rate limits of the agent's host client: a cold start of a thousand tenants
// makes tens of thousands of requests; API Priority and Fairness protects the server.
const (
	DefaultQPS   = 500
	DefaultBurst = 1000
)

// DefaultWorkers is how many tenants reconcile at once: most of a tenant's time is spent
// waiting for health, not computing.
const DefaultWorkers = 8

// Options configures an Agent.
type Options struct {
	// Workers bounds how many tenants reconcile at once.
	Workers int
	// HealthTimeout bounds the health wait after an apply.
	HealthTimeout time.Duration
	// DetectOnly reports drift without correcting it, for every tenant.
	DetectOnly bool
	// MaxTenantDeletions is how many tenants one revision may remove (default 1).
	MaxTenantDeletions int
	// MaxTenantDeletionShare raises that limit to this share of all managed tenants
	// (0.1 lets 10 of 100 go); 0 keeps the count limit alone.
	MaxTenantDeletionShare float64
	// AllowMassDeletion overrides MaxTenantDeletions and MaxTenantDeletionShare.
	AllowMassDeletion bool
	// Notifier receives drift, failure and recovery events.
	Notifier notify.Notifier
	// Templates is the ConstraintTemplate library (policy.Library()); a repo's policies/
	// add to it and override templates of the same kind.
	Templates []*unstructured.Unstructured
	// RepoURL is the tenants repo, for commit links in notifications.
	RepoURL string
	// Instance names this agent on the Tenants it manages (label tenantry.dev/agent), so
	// several agents, or tests, can share a host cluster. Default "tenantry".
	Instance string
	// Metrics records the agent's Prometheus metrics (NewMetrics); nil records none.
	Metrics *Metrics
	// StalledAfter and StalledRevisions are the stalled rule: a tenant failing on every
	// attempt for StalledAfter (default 30m) or across StalledRevisions revisions in a
	// row (default 3) is alerted once as stalled.
	StalledAfter     time.Duration
	StalledRevisions int
	// VirtualClusters rolls out each tenant's virtual cluster (charts/vcluster) with its
	// other objects, and reports it in status.controlPlane.
	VirtualClusters bool
	// VCluster holds the host-wide settings of the virtual clusters.
	VCluster render.VClusterOptions
	// ProtectedNamespaces are host namespaces no tenant may claim besides the built-in
	// ones and defaults.yaml's: the agent's own (exact names or "prefix-*" globs).
	ProtectedNamespaces []string
	// RecordNamespace is the agent's own namespace, where it records the revision of each
	// completed pass (status.AgentRecord) once per commit; empty records none. Tenants are
	// written only when their own state changes either way.
	RecordNamespace string
}

// Agent reconciles a tenants repo into the host cluster: it wires the stages (loader,
// render, plan, apply, status) into passes, and owns what outlives a pass: alerts, the
// tenants last applied (for the drift check) and carried out in full (memo), and what it
// learned of the host.
type Agent struct {
	opts     Options
	client   client.Client
	apply    *apply.Manager
	recorder record.EventRecorder
	stopRec  func()
	alerts   *alerts
	host     *hostFacts
	applied  *appliedSet
	memo     *memo
	files    *loader.Cache // tenant files as parsed, so a pass parses only the changed
	versions versionWatch
	limits   plan.Limits // how many tenants one revision may remove
	recorded string      // the revision last written to the agent's record
}

// New builds an Agent for the host cluster behind cfg.
func New(cfg *rest.Config, opts Options) (*Agent, error) {
	if err := opts.VCluster.Tokens.Validate(); err != nil {
		return nil, fmt.Errorf("virtual clusters: %w", err)
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.HealthTimeout <= 0 {
		opts.HealthTimeout = 2 * time.Minute
	}
	if opts.MaxTenantDeletions <= 0 {
		opts.MaxTenantDeletions = 1
	}
	if opts.Instance == "" {
		opts.Instance = "tenantry"
	}
	if opts.Notifier == nil {
		opts.Notifier = notify.Nop{}
	}
	c, err := client.New(cfg, client.Options{Scheme: clientgoscheme.Scheme})
	if err != nil {
		return nil, fmt.Errorf("building the host client: %w", err)
	}
	rec, stop, err := newRecorder(cfg)
	if err != nil {
		return nil, err
	}
	return &Agent{opts: opts, client: c, versions: versionWatch{cfg: cfg}, apply: apply.New(c, opts.HealthTimeout), recorder: rec, stopRec: stop,
		alerts: newAlerts(opts), host: &hostFacts{serviceCIDR: opts.VCluster.ServiceCIDR}, applied: newAppliedSet(), memo: newMemo(), files: loader.NewCache(),
		limits: plan.Limits{MaxTenantDeletions: opts.MaxTenantDeletions, MaxTenantDeletionShare: opts.MaxTenantDeletionShare,
			AllowMassDeletion: opts.AllowMassDeletion}}, nil
}

// SetCommit records the author and message of the commit the next passes reconcile, so
// notifications can name them.
func (a *Agent) SetCommit(author, message string) { a.alerts.setCommit(author, message) }

// record writes the revision of a completed pass to the agent's record, once per revision.
func (a *Agent) record(ctx context.Context, rev string) error {
	if a.opts.RecordNamespace == "" || rev == a.recorded {
		return nil
	}
	if err := a.apply.ApplyObject(ctx, status.AgentRecord(a.opts.RecordNamespace, a.opts.Instance, rev)); err != nil {
		return fmt.Errorf("recording revision %s in %s/%s: %w", rev, a.opts.RecordNamespace, status.AgentRecordName(a.opts.Instance), err)
	}
	a.recorded = rev
	return nil
}

// Close flushes and stops the event recorder.
func (a *Agent) Close() {
	a.stopRec()
	a.versions.stop()
}

// Client returns the agent's host client.
func (a *Agent) Client() client.Client { return a.client }

func newRecorder(cfg *rest.Config) (record.EventRecorder, func(), error) {
	cs, err := typedcorev1.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("building the events client: %w", err)
	}
	b := record.NewBroadcaster()
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: cs.Events("")})
	rec := b.NewRecorder(runtime.NewScheme(), corev1.EventSource{Component: "tenantry-agent"})
	return rec, b.Shutdown, nil
}

// InstallCRDs server-side applies the Tenant CRD and waits for it to be established; with
// the rights to, it also applies the fixed ClusterRoles the tenantry chart ships.
func (a *Agent) InstallCRDs(ctx context.Context) error { return a.apply.InstallCRDs(ctx) }

// ApplyGuards server-side applies the host guards (policy/guards): the
// ValidatingAdmissionPolicies and bindings that refuse, in every tenant namespace, what
// none of its service accounts (the syncer's above all) may write. They are shared by all
// tenants and agents: applied once per pass before any tenant, never pruned by one.
func (a *Agent) ApplyGuards(ctx context.Context) error { return a.apply.ApplyGuards(ctx) }
