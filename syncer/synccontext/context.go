// Package synccontext holds what every kind's syncer shares: clients of both clusters and settings.
package synccontext

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/api/podtokens"
	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/syncer/translate"
)

// ReasonSyncError is the reason of the Warning event recorded on a virtual object that
// could not be synced.
const ReasonSyncError = "SyncError"

// Context is shared by every syncer of one virtual cluster. Its Translator's
// DisableChecks (tests of host-side guards only) makes every kind copy raw.
type Context struct {
	translate.Translator
	// Virtual reads from the virtual cluster's cache and writes to its API server.
	Virtual client.Client
	// VirtualReader reads the virtual API directly, to confirm an object is gone before
	// its host copy is deleted.
	VirtualReader client.Reader
	// VirtualClientset is for subresources controller-runtime does not cover (TokenRequest, binding).
	VirtualClientset kubernetes.Interface
	// Host reads from the host cache (HostNamespace, managed objects only) and writes to the host.
	Host client.Client
	// HostCache is the host informer cache behind Host, for watches.
	HostCache cache.Cache
	// HostReader reads the host API directly, uncached (host nodes).
	HostReader client.Reader
	// Recorder records events on virtual objects.
	Recorder record.EventRecorder

	Pods                   v1alpha1.PodPolicy
	Sync                   v1alpha1.Sync
	ServiceHost, DNSServer string
	ServicePort            int
	VirtualCA              []byte
	// KubeletPort is the syncer's kubelet API port, on loopback, that virtual nodes advertise.
	KubeletPort int
	// Tokens is the lifetime and refresh of pods' service account tokens.
	Tokens podtokens.Tokens
}

// SyncError records a Warning SyncError event on a virtual object and returns err.
func (c *Context) SyncError(vObj client.Object, err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	c.Recorder.Event(vObj, corev1.EventTypeWarning, ReasonSyncError, err.Error())
	return err
}

// ErrNotCached means the host object exists but the cache has not seen it yet: the sync
// is retried shortly, and it is not an error worth logging.
var ErrNotCached = errors.New("not in the host cache yet")

// CreateHost creates a host object for vObj; when the host refuses, the host's message
// is recorded on vObj as a SyncError event.
func (c *Context) CreateHost(ctx context.Context, vObj, hObj client.Object) error {
	err := c.Host.Create(ctx, hObj)
	if err == nil {
		return nil
	}
	if apierrors.IsAlreadyExists(err) && c.managedOnHost(ctx, hObj) {
		return fmt.Errorf("host %s exists but is not cached yet: %w", hObj.GetName(), ErrNotCached)
	}
	return c.SyncError(vObj, fmt.Errorf("the host refused %s: %w", hObj.GetName(), err))
}

// UpdateHost updates a host object, recording the host's refusal on vObj.
func (c *Context) UpdateHost(ctx context.Context, vObj, hObj client.Object) error {
	err := c.Host.Update(ctx, hObj)
	if err == nil || apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return err
	}
	return c.SyncError(vObj, fmt.Errorf("the host refused an update of %s: %w", hObj.GetName(), err))
}

// managedOnHost reads hObj's key from the host API and reports whether this vcluster owns it.
func (c *Context) managedOnHost(ctx context.Context, hObj client.Object) bool {
	live, ok := hObj.DeepCopyObject().(client.Object)
	if !ok {
		return false
	}
	if err := c.HostReader.Get(ctx, client.ObjectKeyFromObject(hObj), live); err != nil {
		return false
	}
	return c.Managed(live)
}

// Field indexes on virtual pods, registered by the pods syncer and used by the kinds
// pods reference.
const (
	IndexPodConfigMaps = "tenantry.pod.configmaps"
	IndexPodSecrets    = "tenantry.pod.secrets"
	IndexPodPVCs       = "tenantry.pod.pvcs"
	IndexPodNodeName   = "tenantry.pod.nodename"
	// IndexIngressSecrets indexes ingresses by TLS secret; registered by the ingresses syncer.
	IndexIngressSecrets = "tenantry.ingress.secrets"
	// IndexHostPodIP indexes the host cache's pods (this vcluster's) by pod IP; registered
	// by the endpoints syncer.
	IndexHostPodIP = "tenantry.host.pod.ip"
)

// Referenced reports whether any virtual pod in vObj's namespace references it by name
// through the pod index field.
func (c *Context) Referenced(ctx context.Context, field string, vObj client.Object) (bool, error) {
	found, err := c.AnyVirtualPod(ctx, client.InNamespace(vObj.GetNamespace()), client.MatchingFields{field: vObj.GetName()})
	if err != nil {
		return false, fmt.Errorf("listing pods that reference %s: %w", vObj.GetName(), err)
	}
	return found, nil
}

// AnyVirtualPod reports whether the virtual cache holds a pod matching opts. It reads one
// match, uncopied: a ConfigMap every pod mounts (kube-root-ca.crt) or a node every pod
// runs on would otherwise deep-copy every pod on each check, and a load of n pods would
// copy n² of them.
func (c *Context) AnyVirtualPod(ctx context.Context, opts ...client.ListOption) (bool, error) {
	var pods corev1.PodList
	opts = append(opts, client.Limit(1), client.UnsafeDisableDeepCopy)
	if err := c.Virtual.List(ctx, &pods, opts...); err != nil {
		return false, err
	}
	return len(pods.Items) > 0, nil
}
