package pods

import (
	"context"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/syncer/synccontext"
	"github.com/tenantry/tenantry/syncer/translate"
)

// tokenKind marks token Secrets in AnnotationKind, so the secrets syncer leaves them alone.
const tokenKind = "ServiceAccountToken"

// tokenSeconds is how long a pod's token lives; it is bound to the virtual pod, so it
// stops working when that pod is deleted.
const tokenSeconds = int64(365 * 24 * 3600)

// ensureToken makes sure the host pod's token Secret exists and belongs to this virtual pod.
func ensureToken(ctx context.Context, sc *synccontext.Context, vPod, hPod *corev1.Pod) error {
	if !hasTokenVolume(vPod) {
		return nil
	}
	key := client.ObjectKey{Namespace: hPod.Namespace, Name: TokenSecretName(hPod.Name)}
	var existing corev1.Secret
	err := sc.Host.Get(ctx, key, &existing)
	if err == nil && existing.Annotations[translate.AnnotationUID] == string(vPod.UID) && ownedBy(&existing, hPod) {
		return nil
	}
	if client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("reading token secret %s: %w", key.Name, err)
	}
	secret, err := tokenSecret(ctx, sc, vPod, hPod)
	if err != nil {
		return err
	}
	if existing.Name != "" {
		secret.ResourceVersion = existing.ResourceVersion
		return sc.UpdateHost(ctx, vPod, secret)
	}
	return sc.CreateHost(ctx, vPod, secret)
}

func hasTokenVolume(pod *corev1.Pod) bool {
	for _, v := range pod.Spec.Volumes {
		if isTokenVolume(v) {
			return true
		}
	}
	return false
}

// tokenSecret requests a token for the virtual pod's service account from the virtual
// API server and wraps it in a Secret owned by the host pod.
func tokenSecret(ctx context.Context, sc *synccontext.Context, vPod, hPod *corev1.Pod) (*corev1.Secret, error) {
	sa := vPod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: new(tokenSeconds),
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: vPod.Name, UID: vPod.UID},
	}}
	tr, err := sc.VirtualClientset.CoreV1().ServiceAccounts(vPod.Namespace).CreateToken(ctx, sa, req, metav1.CreateOptions{})
	if err != nil {
		return nil, sc.SyncError(vPod, fmt.Errorf("requesting a token for service account %s: %w", sa, err))
	}
	meta := metav1.ObjectMeta{Name: TokenSecretName(hPod.Name), Namespace: hPod.Namespace}
	meta.Labels = map[string]string{translate.LabelManagedBy: sc.VCluster, translate.LabelNamespace: vPod.Namespace}
	meta.Annotations = map[string]string{
		translate.AnnotationName: vPod.Name, translate.AnnotationNamespace: vPod.Namespace,
		translate.AnnotationUID: string(vPod.UID), translate.AnnotationKind: tokenKind,
	}
	if hPod.UID != "" {
		meta.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: hPod.Name, UID: hPod.UID}}
	}
	return &corev1.Secret{ObjectMeta: meta, Type: corev1.SecretTypeOpaque, Data: map[string][]byte{
		corev1.ServiceAccountTokenKey:     []byte(tr.Status.Token),
		corev1.ServiceAccountRootCAKey:    sc.VirtualCA,
		corev1.ServiceAccountNamespaceKey: []byte(vPod.Namespace),
	}}, nil
}

func ownedBy(secret *corev1.Secret, hPod *corev1.Pod) bool {
	for _, ref := range secret.OwnerReferences {
		if ref.UID == hPod.UID {
			return true
		}
	}
	return false
}
