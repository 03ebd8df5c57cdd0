package pods

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlfake "sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/tenantry/tenantry/api/podtokens"
	"github.com/tenantry/tenantry/syncer/synccontext"
	"github.com/tenantry/tenantry/syncer/translate"
)

// tokenPod is a virtual pod with the default token volume and a projected vault token.
func tokenPod() *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "u1"},
		Spec: corev1.PodSpec{ServiceAccountName: "builder", Containers: []corev1.Container{{Name: "c", Image: "busybox"}},
			Volumes: []corev1.Volume{
				{Name: "vault", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
					{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}},
					{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Audience: "vault", ExpirationSeconds: new(int64(86400)), Path: "vault/token"}}}}}},
				{Name: "kube-api-access-x", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
					{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: new(int64(3607)), Path: "token"}}}}}},
			}}}
}

func TestTokenSources(t *testing.T) {
	projected := func(name string, sources ...corev1.VolumeProjection) corev1.Volume {
		return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: sources}}}
	}
	sat := func(audience string, seconds int64) corev1.VolumeProjection {
		return corev1.VolumeProjection{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Audience: audience, ExpirationSeconds: &seconds, Path: "t"}}
	}
	cm := corev1.VolumeProjection{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}
	tests := []struct {
		name    string
		volumes []corev1.Volume
		want    []tokenSource
	}{
		{name: "no token"},
		{name: "default token only, its 3607 s ignored", volumes: []corev1.Volume{projected("kube-api-access-a", sat("", 3607))},
			want: []tokenSource{{key: "token"}}},
		{name: "default token first, then each projected source by volume and index",
			volumes: []corev1.Volume{projected("vault", cm, sat("vault", 7200)), projected("kube-api-access-a", sat("", 3607)), projected("two", sat("a", 600), sat("b", 900))},
			want:    []tokenSource{{key: "token"}, {key: "token.vault.1", audience: "vault", seconds: 7200}, {key: "token.two.0", audience: "a", seconds: 600}, {key: "token.two.1", audience: "b", seconds: 900}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tokenSources(&corev1.PodSpec{Volumes: tt.volumes}); !slices.Equal(got, tt.want) {
				t.Errorf("tokenSources = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestHostPodMountsNoHostToken: the host pod mounts its tokens from the token Secret only;
// nothing in it makes the host kubelet mint or mount a host token.
func TestHostPodMountsNoHostToken(t *testing.T) {
	h, err := ToHost(tokenPod(), testOptions)
	if err != nil {
		t.Fatal(err)
	}
	if h.Spec.ServiceAccountName != "" || h.Spec.AutomountServiceAccountToken == nil || *h.Spec.AutomountServiceAccountToken {
		t.Errorf("service account %q, automount %v", h.Spec.ServiceAccountName, h.Spec.AutomountServiceAccountToken)
	}
	secret := TokenSecretName(h.Name)
	for _, v := range h.Spec.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, s := range v.Projected.Sources {
			if s.ServiceAccountToken != nil {
				t.Errorf("volume %s keeps a serviceAccountToken source: the host kubelet would mint a host token", v.Name)
			}
		}
	}
	vault := h.Spec.Volumes[0].Projected.Sources[1].Secret
	if vault == nil || vault.Name != secret || !slices.Equal(vault.Items, []corev1.KeyToPath{{Key: "token.vault.1", Path: "vault/token"}}) {
		t.Errorf("vault source %+v, want key token.vault.1 of %s", vault, secret)
	}
	if def := h.Spec.Volumes[1].Secret; def == nil || def.SecretName != secret {
		t.Errorf("default token volume %+v, want secret %s", h.Spec.Volumes[1].VolumeSource, secret)
	}
}

// fakeTokens answers TokenRequests like the virtual API server: the token names its
// request, it expires after the requested seconds.
func fakeTokens(requests *[]authenticationv1.TokenRequest) *k8sfake.Clientset {
	cs := k8sfake.NewClientset()
	cs.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "token" {
			return false, nil, nil
		}
		tr := a.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenRequest).DeepCopy()
		*requests = append(*requests, *tr)
		tr.Status = authenticationv1.TokenRequestStatus{
			Token:               fmt.Sprintf("virtual-%s-%v-%d", a.(k8stesting.CreateActionImpl).Name, tr.Spec.Audiences, *tr.Spec.ExpirationSeconds),
			ExpirationTimestamp: metav1.NewTime(time.Now().Add(time.Duration(*tr.Spec.ExpirationSeconds) * time.Second)),
		}
		return true, tr, nil
	})
	return cs
}

// TestTokenSecret: every token comes from the virtual API server, bound to the virtual pod,
// with the platform's lifetime at most; the Secret holds those tokens, the virtual CA and
// the namespace, nothing else (no host credential), and records when to refresh.
func TestTokenSecret(t *testing.T) {
	var requests []authenticationv1.TokenRequest
	sc := &synccontext.Context{Translator: testOptions.Translator, VirtualClientset: fakeTokens(&requests),
		Recorder: record.NewFakeRecorder(10), VirtualCA: []byte("virtual CA"), Tokens: podtokens.Tokens{ExpirationSeconds: 7200}}
	vPod := tokenPod()
	hPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-x-shop-x-team-a", Namespace: "tenant-team-a", UID: "h1"}}
	before := time.Now().Truncate(time.Second)
	s, err := tokenSecret(context.Background(), sc, vPod, hPod, tokenSources(&vPod.Spec))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"token": "virtual-builder-[]-7200", "token.vault.1": "virtual-builder-[vault]-7200",
		"ca.crt": "virtual CA", "namespace": "shop"}
	got := map[string]string{}
	for k, v := range s.Data {
		got[k] = string(v)
	}
	if !maps.Equal(got, want) {
		t.Errorf("secret data %v, want %v", got, want)
	}
	for _, r := range requests {
		if ref := r.Spec.BoundObjectRef; ref == nil || ref.Kind != "Pod" || ref.Name != "web" || ref.UID != "u1" {
			t.Errorf("token not bound to the virtual pod: %+v", ref)
		}
	}
	if s.Annotations[translate.AnnotationKind] != tokenKind || s.OwnerReferences[0].UID != "h1" {
		t.Errorf("secret meta %+v", s.ObjectMeta)
	}
	at, ok := refreshAt(s, sc.Tokens)
	if wantAt := before.Add(7200 * 8 / 10 * time.Second); !ok || at.Before(wantAt) || at.After(wantAt.Add(2*time.Second)) {
		t.Errorf("refresh at %s (%v), want about %s", at, ok, wantAt)
	}
}

func TestTokenSecretCurrent(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	vPod, hPod := tokenPod(), &corev1.Pod{ObjectMeta: metav1.ObjectMeta{UID: "h1"}}
	sources := tokenSources(&vPod.Spec)
	secret := func(edit func(*corev1.Secret)) *corev1.Secret {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
			Annotations: map[string]string{translate.AnnotationUID: "u1", AnnotationTokenIssued: "2026-01-01T11:30:00Z",
				AnnotationTokenExpires: "2026-01-01T12:30:00Z"},
			OwnerReferences: []metav1.OwnerReference{{UID: "h1"}}},
			Data: map[string][]byte{"token": []byte("t"), "token.vault.1": []byte("v")}}
		edit(s)
		return s
	}
	tests := []struct {
		name     string
		secret   *corev1.Secret
		tokens   podtokens.Tokens
		finished bool
		want     bool
	}{
		{name: "issued 30 of 60 minutes ago", secret: secret(func(*corev1.Secret) {}), want: true},
		{name: "80% of the lifetime passed", secret: secret(func(s *corev1.Secret) {
			s.Annotations[AnnotationTokenIssued], s.Annotations[AnnotationTokenExpires] = "2026-01-01T11:00:00Z", "2026-01-01T12:10:00Z"
		})},
		{name: "explicit refresh passed", secret: secret(func(*corev1.Secret) {}), tokens: podtokens.Tokens{RefreshSeconds: 1800}},
		{name: "a finished pod's tokens are not refreshed", secret: secret(func(*corev1.Secret) {}), tokens: podtokens.Tokens{RefreshSeconds: 1800},
			finished: true, want: true},
		{name: "a one-year Secret from before has no issue time", secret: secret(func(s *corev1.Secret) {
			delete(s.Annotations, AnnotationTokenIssued)
			delete(s.Annotations, AnnotationTokenExpires)
		})},
		{name: "another virtual pod's", secret: secret(func(s *corev1.Secret) { s.Annotations[translate.AnnotationUID] = "u0" })},
		{name: "another host pod's", secret: secret(func(s *corev1.Secret) { s.OwnerReferences[0].UID = "h0" })},
		{name: "a source's token missing", secret: secret(func(s *corev1.Secret) { delete(s.Data, "token.vault.1") })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := vPod.DeepCopy()
			if tt.finished {
				v.Status.Phase = corev1.PodSucceeded
			}
			if got := current(tt.secret, v, hPod, sources, tt.tokens, now); got != tt.want {
				t.Errorf("current = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestEnsureTokenReadsPastALaggingCache: the sync that follows a new host pod often finds
// its token Secret missing from the host cache though the syncer just created it. For a
// host pod that is not brand new, the Secret is read again from the host API before any
// token is requested; only a Secret missing there too is issued.
func TestEnsureTokenReadsPastALaggingCache(t *testing.T) {
	vPod := tokenPod()
	hPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-x-shop-x-team-a", Namespace: "tenant-team-a", UID: "h1"}}
	now := time.Now().UTC()
	onHost := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: TokenSecretName(hPod.Name), Namespace: hPod.Namespace,
		Annotations: map[string]string{translate.AnnotationUID: "u1", AnnotationTokenIssued: now.Add(-time.Minute).Format(time.RFC3339),
			AnnotationTokenExpires: now.Add(59 * time.Minute).Format(time.RFC3339)},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: hPod.Name, UID: "h1"}}},
		Data: map[string][]byte{"token": []byte("t"), "token.vault.1": []byte("v")}}
	tests := []struct {
		name         string
		api          []client.Object // what the host API holds; the cache holds nothing
		confirm      bool
		wantRequests int
		wantCreated  bool
	}{
		{name: "created a moment ago, not yet cached", api: []client.Object{onHost.DeepCopy()}, confirm: true},
		{name: "missing everywhere", confirm: true, wantRequests: 2, wantCreated: true},
		{name: "a brand-new host pod: not read again", confirm: false, wantRequests: 2, wantCreated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests []authenticationv1.TokenRequest
			cache := ctrlfake.NewClientBuilder().Build()
			api := ctrlfake.NewClientBuilder().WithObjects(tt.api...).Build()
			sc := &synccontext.Context{Translator: testOptions.Translator, VirtualClientset: fakeTokens(&requests),
				Host: cache, HostReader: api, Recorder: record.NewFakeRecorder(10), Tokens: podtokens.Tokens{ExpirationSeconds: 3600}}
			if err := ensureToken(context.Background(), sc, vPod, hPod, tt.confirm); err != nil {
				t.Fatal(err)
			}
			if len(requests) != tt.wantRequests {
				t.Errorf("%d token requests, want %d", len(requests), tt.wantRequests)
			}
			var s corev1.Secret
			err := cache.Get(context.Background(), client.ObjectKeyFromObject(onHost), &s)
			if created := err == nil; created != tt.wantCreated {
				t.Errorf("secret created: %v (%v), want %v", created, err, tt.wantCreated)
			}
		})
	}
}
