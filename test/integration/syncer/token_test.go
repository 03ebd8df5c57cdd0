package syncer_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenantry/tenantry/api/podtokens"
	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/syncer/pods"
	"github.com/tenantry/tenantry/test/framework"
)

// TestPodTokensRefreshed: a pod's default token and its projected vault token are issued by
// the virtual API server into the host token Secret, bound to the virtual pod; the vault
// token carries its audience and the platform's lifetime at most; both are refreshed at the
// refresh time, and the new tokens are valid. A restarted syncer keeps tokens that are not due.
func TestPodTokensRefreshed(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "team-tok", v1alpha1.PodPolicy{})
	tn.cfg.Tokens = podtokens.Tokens{ExpirationSeconds: 600, RefreshSeconds: 3}
	tn.start(t)
	ns := tn.virtual.NewNamespace(t)
	waitServiceAccount(t, tn, ns)
	pod := simplePod("app")
	pod.Spec.Volumes = []corev1.Volume{{Name: "vault", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
			Audience: "vault", ExpirationSeconds: new(int64(7200)), Path: "vault-token"}}}}}}}
	pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "vault", MountPath: "/vault"}}
	if _, err := tn.v.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	hp := waitHostPod(t, tn, "app", ns)
	if hp.Spec.AutomountServiceAccountToken == nil || *hp.Spec.AutomountServiceAccountToken {
		t.Errorf("host pod automounts a host token")
	}
	first := waitTokenSecret(t, tn, hp.Name, func(*corev1.Secret) bool { return true })
	checkTokens(t, tn, ns, first)

	second := waitTokenSecret(t, tn, hp.Name, func(s *corev1.Secret) bool {
		return string(s.Data["token"]) != string(first.Data["token"]) && string(s.Data["token.vault.0"]) != string(first.Data["token.vault.0"])
	})
	checkTokens(t, tn, ns, second)
	if second.Annotations[pods.AnnotationTokenIssued] <= first.Annotations[pods.AnnotationTokenIssued] {
		t.Errorf("issue time %s after refresh, was %s", second.Annotations[pods.AnnotationTokenIssued], first.Annotations[pods.AnnotationTokenIssued])
	}

	tn.stop()
	last := waitTokenSecret(t, tn, hp.Name, func(*corev1.Secret) bool { return true })
	tn.cfg.Tokens.RefreshSeconds = 0 // due at 80% of 600 s: a restarted syncer must keep the tokens
	tn.start(t)
	time.Sleep(5 * time.Second)
	now := waitTokenSecret(t, tn, hp.Name, func(*corev1.Secret) bool { return true })
	if now.ResourceVersion != last.ResourceVersion {
		t.Errorf("the restarted syncer re-issued tokens that were not due (issued %s, was %s)",
			now.Annotations[pods.AnnotationTokenIssued], last.Annotations[pods.AnnotationTokenIssued])
	}
	replacesLegacySecret(t, tn, ns, now)
}

// replacesLegacySecret makes the token Secret look like one of an earlier version (a
// one-year token, no issue or expiry time): the syncer replaces it at once.
func replacesLegacySecret(t *testing.T, tn *tenant, ns string, s *corev1.Secret) {
	t.Helper()
	legacy := s.DeepCopy()
	delete(legacy.Annotations, pods.AnnotationTokenIssued)
	delete(legacy.Annotations, pods.AnnotationTokenExpires)
	legacy.Data["token"] = []byte("one-year")
	if _, err := tn.h.CoreV1().Secrets(tn.hostNS).Update(context.Background(), legacy, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	replaced := waitTokenSecret(t, tn, strings.TrimSuffix(s.Name, ".token"), func(s *corev1.Secret) bool {
		return s.Annotations[pods.AnnotationTokenIssued] != "" && string(s.Data["token"]) != "one-year"
	})
	checkTokens(t, tn, ns, replaced)
}

func waitServiceAccount(t *testing.T, tn *tenant, ns string) {
	t.Helper()
	framework.Eventually(t, 30*time.Second, "service account default in "+ns, func() (bool, error) {
		_, err := tn.v.CoreV1().ServiceAccounts(ns).Get(context.Background(), "default", metav1.GetOptions{})
		return err == nil, nil
	})
}

// waitTokenSecret waits for the host pod's token Secret to satisfy ok.
func waitTokenSecret(t *testing.T, tn *tenant, hostPod string, ok func(*corev1.Secret) bool) *corev1.Secret {
	t.Helper()
	var s *corev1.Secret
	framework.Eventually(t, 30*time.Second, "token secret of "+hostPod, func() (bool, error) {
		var err error
		s, err = tn.h.CoreV1().Secrets(tn.hostNS).Get(context.Background(), pods.TokenSecretName(hostPod), metav1.GetOptions{})
		return err == nil && ok(s), nil
	})
	return s
}

// checkTokens reviews the Secret's tokens with the virtual API server: the default token
// for the API's audience, the vault token for "vault" only, both for the pod's service
// account and bound to the virtual pod; the vault token lives 600 s, not the 7200 s asked.
func checkTokens(t *testing.T, tn *tenant, ns string, s *corev1.Secret) {
	t.Helper()
	if keys := sortedKeys(s.Data); !slices.Equal(keys, []string{"ca.crt", "namespace", "token", "token.vault.0"}) {
		t.Errorf("token secret keys %v", keys)
	}
	user := "system:serviceaccount:" + ns + ":default"
	review(t, tn, string(s.Data["token"]), nil, user, true)
	review(t, tn, string(s.Data["token.vault.0"]), []string{"vault"}, user, true)
	review(t, tn, string(s.Data["token.vault.0"]), nil, user, false)
	claims := jwtClaims(t, string(s.Data["token.vault.0"]))
	if !slices.Equal(claims.Aud, []string{"vault"}) || claims.Exp-claims.Iat != 600 || claims.Kubernetes.Pod.Name != "app" {
		t.Errorf("vault token claims %+v: want audience vault, 600 s, pod app", claims)
	}
}

func review(t *testing.T, tn *tenant, token string, audiences []string, user string, want bool) {
	t.Helper()
	tr, err := tn.v.AuthenticationV1().TokenReviews().Create(context.Background(), &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: token, Audiences: audiences}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Status.Authenticated != want || (want && tr.Status.User.Username != user) {
		t.Errorf("review for audiences %v: authenticated %v as %q (%s), want %v as %q", audiences, tr.Status.Authenticated,
			tr.Status.User.Username, tr.Status.Error, want, user)
	}
	if want && !slices.Equal(tr.Status.User.Extra["authentication.kubernetes.io/pod-name"], authenticationv1.ExtraValue{"app"}) {
		t.Errorf("token not bound to the virtual pod: extra %v", tr.Status.User.Extra)
	}
}

type claims struct {
	Aud        []string `json:"aud"`
	Exp, Iat   int64
	Kubernetes struct {
		Pod struct{ Name string } `json:"pod"`
	} `json:"kubernetes.io"`
}

// jwtClaims decodes a JWT's claims without checking it (the TokenReview does that).
func jwtClaims(t *testing.T, token string) claims {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c claims
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
