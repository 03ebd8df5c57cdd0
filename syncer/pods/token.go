package pods

import (
	"context"
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/api/podtokens"
	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/syncer/synccontext"
	"github.com/tenantry/tenantry/syncer/translate"
)

// tokenKind marks token Secrets in AnnotationKind, so the secrets syncer leaves them alone.
const tokenKind = "ServiceAccountToken"

// Annotations of a token Secret: when its tokens were issued and when the first of them
// expires (RFC 3339), so a restarted syncer knows when to refresh them.
const (
	AnnotationTokenIssued  = wellknown.VClusterAnnotationTokenIssued
	AnnotationTokenExpires = wellknown.VClusterAnnotationTokenExpires
)

// ensureToken makes sure the host pod's token Secret exists, belongs to this virtual pod,
// holds every token the pod mounts and is not due for a refresh. confirm says a Secret
// missing from the host cache may yet exist (the host pod is not brand new): see
// readTokenSecret.
func ensureToken(ctx context.Context, sc *synccontext.Context, vPod, hPod *corev1.Pod, confirm bool) error {
	sources := tokenSources(&vPod.Spec)
	if len(sources) == 0 {
		return nil
	}
	key := client.ObjectKey{Namespace: hPod.Namespace, Name: TokenSecretName(hPod.Name)}
	existing, err := readTokenSecret(ctx, sc, key, confirm)
	if err != nil {
		return err
	}
	if existing != nil && current(existing, vPod, hPod, sources, sc.Tokens, time.Now()) {
		return nil
	}
	secret, err := tokenSecret(ctx, sc, vPod, hPod, sources)
	if err != nil {
		return err
	}
	if existing == nil {
		return sc.CreateHost(ctx, vPod, secret)
	}
	secret.ResourceVersion = existing.ResourceVersion
	err = sc.UpdateHost(ctx, vPod, secret)
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("token secret %s was deleted: %w", key.Name, synccontext.ErrNotCached)
	}
	return err
}

// readTokenSecret reads a token Secret from the host cache, nil if there is none. With
// confirm, a miss is read again from the host API: the cache lags behind the syncer's own
// create, and the sync that follows a new host pod would otherwise request every token
// again from the virtual API server for a Secret the host refuses to create twice.
func readTokenSecret(ctx context.Context, sc *synccontext.Context, key client.ObjectKey, confirm bool) (*corev1.Secret, error) {
	var s corev1.Secret
	err := sc.Host.Get(ctx, key, &s)
	if apierrors.IsNotFound(err) && confirm {
		err = sc.HostReader.Get(ctx, key, &s)
	}
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading token secret %s: %w", key.Name, err)
	}
	return &s, nil
}

// current reports whether a token Secret belongs to the virtual and host pods, holds a
// token for every source and is not due for a refresh at now. A Secret without issue and
// expiry times (one-year tokens of earlier versions) is due; a finished pod's tokens are
// not refreshed (the kubelet's rule too).
func current(s *corev1.Secret, vPod, hPod *corev1.Pod, sources []tokenSource, t podtokens.Tokens, now time.Time) bool {
	if s.Annotations[translate.AnnotationUID] != string(vPod.UID) || !ownedBy(s, hPod) {
		return false
	}
	for _, src := range sources {
		if len(s.Data[src.key]) == 0 {
			return false
		}
	}
	refresh, ok := refreshAt(s, t)
	return ok && (now.Before(refresh) || finished(vPod))
}

// finished reports whether all of a pod's containers have terminated for good.
func finished(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}

// refreshAt is when the tokens of a token Secret are due, from its annotations.
func refreshAt(s *corev1.Secret, t podtokens.Tokens) (time.Time, bool) {
	issued, err1 := time.Parse(time.RFC3339, s.Annotations[AnnotationTokenIssued])
	expires, err2 := time.Parse(time.RFC3339, s.Annotations[AnnotationTokenExpires])
	if err1 != nil || err2 != nil {
		return time.Time{}, false
	}
	return t.RefreshAt(issued, expires), true
}

// RequeueAfter implements types.Requeuer: a pod with tokens is synced again when they are
// due, so they are refreshed although nothing else changes. While the host cache lacks the
// Secret, the Secret watch brings the pod back instead.
func (Syncer) RequeueAfter(ctx context.Context, sc *synccontext.Context, vObj client.Object) (time.Duration, error) {
	vPod := vObj.(*corev1.Pod)
	if finished(vPod) || len(tokenSources(&vPod.Spec)) == 0 {
		return 0, nil
	}
	var s corev1.Secret
	key := client.ObjectKey{Namespace: sc.HostNamespace, Name: TokenSecretName(sc.Name(vPod.Name, vPod.Namespace))}
	if err := sc.Host.Get(ctx, key, &s); err != nil {
		return 0, client.IgnoreNotFound(err)
	}
	at, ok := refreshAt(&s, sc.Tokens)
	if !ok {
		return 0, nil
	}
	return max(time.Until(at), time.Second), nil
}

// tokenSecret requests every token of sources for the virtual pod's service account from
// the virtual API server, bound to the virtual pod, and wraps them in a Secret owned by
// the host pod.
func tokenSecret(ctx context.Context, sc *synccontext.Context, vPod, hPod *corev1.Pod, sources []tokenSource) (*corev1.Secret, error) {
	issued := time.Now().Truncate(time.Second)
	data := map[string][]byte{}
	var expires time.Time
	for _, src := range sources {
		tr, err := requestToken(ctx, sc, vPod, src)
		if err != nil {
			return nil, err
		}
		data[src.key] = []byte(tr.Status.Token)
		if exp := tr.Status.ExpirationTimestamp.Time; expires.IsZero() || exp.Before(expires) {
			expires = exp
		}
		if src.key == corev1.ServiceAccountTokenKey {
			data[corev1.ServiceAccountRootCAKey] = sc.VirtualCA
			data[corev1.ServiceAccountNamespaceKey] = []byte(vPod.Namespace)
		}
	}
	meta := metav1.ObjectMeta{Name: TokenSecretName(hPod.Name), Namespace: hPod.Namespace}
	meta.Labels = map[string]string{translate.LabelManagedBy: sc.VCluster, translate.LabelNamespace: vPod.Namespace}
	meta.Annotations = map[string]string{
		translate.AnnotationName: vPod.Name, translate.AnnotationNamespace: vPod.Namespace,
		translate.AnnotationUID: string(vPod.UID), translate.AnnotationKind: tokenKind,
		AnnotationTokenIssued: issued.UTC().Format(time.RFC3339), AnnotationTokenExpires: expires.UTC().Format(time.RFC3339),
	}
	if hPod.UID != "" {
		meta.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: hPod.Name, UID: hPod.UID}}
	}
	return &corev1.Secret{ObjectMeta: meta, Type: corev1.SecretTypeOpaque, Data: data}, nil
}

// requestToken asks the virtual API server for one token of the pod's service account.
func requestToken(ctx context.Context, sc *synccontext.Context, vPod *corev1.Pod, src tokenSource) (*authenticationv1.TokenRequest, error) {
	sa := vPod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: new(sc.Tokens.Lifetime(src.seconds)),
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: vPod.Name, UID: vPod.UID},
	}}
	if src.audience != "" {
		req.Spec.Audiences = []string{src.audience}
	}
	tr, err := sc.VirtualClientset.CoreV1().ServiceAccounts(vPod.Namespace).CreateToken(ctx, sa, req, metav1.CreateOptions{})
	if err != nil {
		return nil, sc.SyncError(vPod, fmt.Errorf("requesting a token for service account %s: %w", sa, err))
	}
	return tr, nil
}

func ownedBy(secret *corev1.Secret, hPod *corev1.Pod) bool {
	for _, ref := range secret.OwnerReferences {
		if ref.UID == hPod.UID {
			return true
		}
	}
	return false
}
