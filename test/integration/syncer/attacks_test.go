package syncer_test

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/syncer/pods"
	"github.com/tenantry/tenantry/test/framework"
)

// attackCase is one thing a hostile tenant, cluster-admin in its virtual cluster, tries.
type attackCase struct {
	name string
	// hostClass marks attacks the host's own guards must refuse too: runAttacks with
	// disableChecks runs only these, with the syncer copying raw.
	hostClass bool
	// setup creates what the attack needs that is allowed, and waits for it on the host.
	setup func(t *testing.T, tn *tenant, ns string)
	// attack creates the attack through the virtual API and returns the name of the
	// object the SyncError event lands on.
	attack func(t *testing.T, tn *tenant, ns string) string
	// want are texts the syncer's SyncError event must contain (the refused fields).
	want []string
	// check, when set, replaces the refusal checks: for attacks that are narrowed, not refused.
	check func(t *testing.T, tn *tenant, ns string)
}

// attackHosts are the ingress hosts the attack tenant's file lists.
var attackHosts = []string{"*.team-atk.example.com"}

// attackPolicy allows host paths only: everything else of Pod Security baseline holds.
var attackPolicy = v1alpha1.PodPolicy{AllowHostPath: true}

func attackCases() []attackCase {
	return append(refusedAttacks(), narrowedAttacks()...)
}

func refusedAttacks() []attackCase {
	return []attackCase{
		{name: "service externalIPs", hostClass: true, want: []string{"spec.externalIPs is not allowed"},
			attack: createService(func(s *corev1.Service) { s.Spec.ExternalIPs = []string{"203.0.113.10"} })},
		{name: "service ExternalName", hostClass: true, want: []string{"spec.type is not allowed"},
			attack: createService(func(s *corev1.Service) {
				s.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "kubernetes.default.svc.cluster.local"}
			})},
		{name: "selector-less endpoints to a foreign IP", want: []string{"subsets[0].addresses[0].ip is not allowed: 10.244.99.99"},
			setup: func(t *testing.T, tn *tenant, ns string) {
				createService(func(s *corev1.Service) { s.Spec.Selector = nil })(t, tn, ns)
				waitHost(t, "the selector-less service", func() error {
					_, err := tn.h.CoreV1().Services(tn.hostNS).Get(context.Background(), tn.hostName("attack", ns), metav1.GetOptions{})
					return err
				})
			},
			attack: func(t *testing.T, tn *tenant, ns string) string {
				ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "attack"}, Subsets: []corev1.EndpointSubset{{ //nolint:staticcheck // selector-less services are served by Endpoints
					Addresses: []corev1.EndpointAddress{{IP: "10.244.99.99"}}, Ports: []corev1.EndpointPort{{Port: 10250}}}}}
				create(t, func() error {
					_, err := tn.v.CoreV1().Endpoints(ns).Create(context.Background(), ep, metav1.CreateOptions{})
					return err
				})
				return "attack"
			}},
		{name: "SYS_ADMIN with allowHostPath", hostClass: true, want: []string{"capabilities.add[0] is not allowed: capability SYS_ADMIN"},
			attack: createPod(func(p *corev1.Pod) {
				p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_ADMIN"}}}
			})},
		{name: "hostPort", hostClass: true, want: []string{"spec.containers[0].ports[0].hostPort is not allowed"},
			attack: createPod(func(p *corev1.Pod) {
				p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 8080, HostPort: 10250}}
			})},
		{name: "unsafe sysctl", hostClass: true, want: []string{"spec.securityContext.sysctls[0] is not allowed"},
			attack: createPod(func(p *corev1.Pod) {
				p.Spec.SecurityContext = &corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{{Name: "kernel.msgmax", Value: "65536"}}}
			})},
		{name: "Unconfined seccomp", hostClass: true, want: []string{"spec.securityContext.seccompProfile.type is not allowed"},
			attack: createPod(func(p *corev1.Pod) {
				p.Spec.SecurityContext = &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}}
			})},
		{name: "NFS volume", hostClass: true, want: []string{"spec.volumes[0].nfs is not allowed"},
			attack: createPod(func(p *corev1.Pod) {
				p.Spec.Volumes = []corev1.Volume{{Name: "nfs", VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "10.0.0.9", Path: "/exports"}}}}
			})},
		{name: "toleration of the control-plane taint", hostClass: true, want: []string{"spec.tolerations[0] is not allowed"},
			attack: createPod(func(p *corev1.Pod) {
				p.Spec.Tolerations = []corev1.Toleration{{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
			})},
		{name: "toleration of every taint", hostClass: true, want: []string{"spec.tolerations[0] is not allowed"},
			attack: createPod(func(p *corev1.Pod) { p.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}} })},
		{name: "control-plane label", hostClass: true, want: []string{`metadata.labels["vcluster.tenantry.dev/control-plane"] is not allowed`},
			attack: createPod(func(p *corev1.Pod) { p.Labels = map[string]string{"vcluster.tenantry.dev/control-plane": "team-atk"} })},
		{name: "ephemeral volume bound to a named volume", hostClass: true,
			want: []string{"spec.volumes[0].ephemeral.volumeClaimTemplate.spec.volumeName is not allowed"},
			attack: createPod(func(p *corev1.Pod) {
				p.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{
					VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{Spec: corev1.PersistentVolumeClaimSpec{
						VolumeName: "pv-of-team-b", AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
						Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}}}}}
			})},
		{name: "privileged debug container", hostClass: true, setup: runningPod("attack"),
			want:   []string{"spec.ephemeralContainers[0].securityContext.privileged is not allowed"},
			attack: addDebugContainer(sc(&corev1.SecurityContext{Privileged: new(true)}))},
		{name: "debug container with SYS_PTRACE and SYS_ADMIN", hostClass: true, setup: runningPod("attack"),
			want: []string{"spec.ephemeralContainers[0].securityContext.capabilities.add[0] is not allowed: capability SYS_PTRACE",
				"spec.ephemeralContainers[0].securityContext.capabilities.add[1] is not allowed: capability SYS_ADMIN"},
			attack: addDebugContainer(sc(&corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_PTRACE", "SYS_ADMIN"}}}))},
		{name: "debug container without seccomp", hostClass: true, setup: runningPod("attack"),
			want: []string{"spec.ephemeralContainers[0].securityContext.seccompProfile.type is not allowed"},
			attack: addDebugContainer(sc(&corev1.SecurityContext{
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}}))},
		{name: "network policy to every address", hostClass: true, want: []string{"spec.egress[0].to[0].ipBlock is not allowed"},
			attack: createPolicy([]networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}}})},
		{name: "service-account-token Secret", hostClass: true, setup: podUsingSecret("sa-token"),
			want: []string{"type is not allowed: type kubernetes.io/service-account-token"},
			attack: func(t *testing.T, tn *tenant, ns string) string {
				s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sa-token", Annotations: map[string]string{
					corev1.ServiceAccountNameKey: "default"}}, Type: corev1.SecretTypeServiceAccountToken}
				create(t, func() error {
					_, err := tn.v.CoreV1().Secrets(ns).Create(context.Background(), s, metav1.CreateOptions{})
					return err
				})
				return "sa-token"
			}},
		{name: "ingress with a foreign host and a snippet", hostClass: true,
			want: []string{"spec.rules[0].host is not allowed: login.bank.example.com",
				`metadata.annotations["nginx.ingress.kubernetes.io/configuration-snippet"] is not allowed`},
			attack: func(t *testing.T, tn *tenant, ns string) string {
				ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "attack", Annotations: map[string]string{
					"nginx.ingress.kubernetes.io/configuration-snippet": "proxy_pass http://10.0.0.1:10250;"}},
					Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{ingressRule("login.bank.example.com")}}}
				create(t, func() error {
					_, err := tn.v.NetworkingV1().Ingresses(ns).Create(context.Background(), ing, metav1.CreateOptions{})
					return err
				})
				return "attack"
			}},
	}
}

// narrowedAttacks are not refused: the host copy is made harmless, which check verifies.
func narrowedAttacks() []attackCase {
	return []attackCase{
		{name: "network policy with no peers", attack: createPolicy(nil), check: func(t *testing.T, tn *tenant, ns string) {
			waitHost(t, "the narrowed host policy", func() error {
				h, err := tn.h.NetworkingV1().NetworkPolicies(tn.hostNS).Get(context.Background(), tn.hostName("attack", ns), metav1.GetOptions{})
				if err != nil {
					return err
				}
				to := h.Spec.Egress[0].To
				if len(to) != 1 || to[0].IPBlock != nil || to[0].NamespaceSelector != nil || to[0].PodSelector == nil ||
					to[0].PodSelector.MatchLabels[wellknown.VClusterLabelManagedBy] != tn.name {
					t.Fatalf("the host policy allows more than this vcluster's pods: %+v", to)
				}
				return nil
			})
		}},
		{name: "custom projected service account token", hostClass: true,
			attack: createPod(func(p *corev1.Pod) {
				p.Spec.Volumes = []corev1.Volume{{Name: "vault-token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
					Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Audience: "vault", Path: "token"}}}}}}}
			}),
			check: checkNoHostToken},
		{name: "name collision db-x-prod/dev and db/prod-x-dev", attack: func(*testing.T, *tenant, string) string { return "" },
			check: checkNoCollision},
	}
}

// TestAttacksRefused runs every attack with the syncer's checks on.
func TestAttacksRefused(t *testing.T) {
	runAttacks(t, attackCases(), false)
}

// runAttacks runs cases against one tenant. With disableChecks only host-class cases run,
// and the refusal must come from the host ("the host refused"), not the syncer.
func runAttacks(t *testing.T, cases []attackCase, disableChecks bool) {
	tn := newTenant(t, "team-atk", attackPolicy)
	tn.cfg.Sync = v1alpha1.Sync{Ingresses: true, NetworkPolicies: true, IngressHosts: attackHosts}
	tn.cfg.DisableChecks = disableChecks
	if disableChecks {
		guardTenant(t, tn)
	}
	tn.start(t)
	for _, c := range cases {
		if disableChecks && !c.hostClass {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			ns := tn.virtual.NewNamespace(t)
			if c.setup != nil {
				c.setup(t, tn, ns)
			}
			before := hostState(t, tn, ns)
			name := c.attack(t, tn, ns)
			if c.check != nil {
				c.check(t, tn, ns)
				return
			}
			want := c.want
			if disableChecks {
				want = []string{"the host refused"}
			}
			for _, w := range want {
				waitEvent(t, tn.v, ns, name, w)
			}
			if after := hostState(t, tn, ns); !maps.Equal(before, after) {
				t.Errorf("the host changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

// hostState is every host object of the attack's virtual namespace (or of none), kind/name
// to resourceVersion: objects of earlier cases may still be going away meanwhile.
func hostState(t *testing.T, tn *tenant, ns string) map[string]string {
	t.Helper()
	ctx, opts := context.Background(), metav1.ListOptions{}
	out := map[string]string{}
	add := func(kind string, items []metav1.Object, err error) {
		if err != nil {
			t.Fatalf("listing host %s: %v", kind, err)
		}
		for _, o := range items {
			if v, ok := o.GetLabels()[wellknown.VClusterLabelNamespace]; !ok || v == ns {
				out[kind+"/"+o.GetName()] = o.GetResourceVersion()
			}
		}
	}
	c, n := tn.h.CoreV1(), tn.h.NetworkingV1()
	pods, err := c.Pods(tn.hostNS).List(ctx, opts)
	add("Pod", metas(pods.Items), err)
	svcs, err := c.Services(tn.hostNS).List(ctx, opts)
	add("Service", metas(svcs.Items), err)
	eps, err := c.Endpoints(tn.hostNS).List(ctx, opts)
	add("Endpoints", metas(eps.Items), err)
	secrets, err := c.Secrets(tn.hostNS).List(ctx, opts)
	add("Secret", metas(secrets.Items), err)
	cms, err := c.ConfigMaps(tn.hostNS).List(ctx, opts)
	add("ConfigMap", metas(cms.Items), err)
	pvcs, err := c.PersistentVolumeClaims(tn.hostNS).List(ctx, opts)
	add("PersistentVolumeClaim", metas(pvcs.Items), err)
	ings, err := n.Ingresses(tn.hostNS).List(ctx, opts)
	add("Ingress", metas(ings.Items), err)
	nps, err := n.NetworkPolicies(tn.hostNS).List(ctx, opts)
	add("NetworkPolicy", metas(nps.Items), err)
	return out
}

func metas[T any, P interface {
	*T
	metav1.Object
}](items []T) []metav1.Object {
	out := make([]metav1.Object, len(items))
	for i := range items {
		out[i] = P(&items[i])
	}
	return out
}

func create(t *testing.T, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatalf("the virtual API refused the attack itself: %v", err)
	}
}

func waitHost(t *testing.T, what string, f func() error) {
	t.Helper()
	framework.Eventually(t, 30*time.Second, what, func() (bool, error) { err := f(); return err == nil, err })
}

func createService(edit func(*corev1.Service)) func(*testing.T, *tenant, string) string {
	return func(t *testing.T, tn *tenant, ns string) string {
		s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "attack"}, Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "x"}, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}}}
		edit(s)
		create(t, func() error {
			_, err := tn.v.CoreV1().Services(ns).Create(context.Background(), s, metav1.CreateOptions{})
			return err
		})
		return "attack"
	}
}

func createPod(edit func(*corev1.Pod)) func(*testing.T, *tenant, string) string {
	return func(t *testing.T, tn *tenant, ns string) string {
		p := simplePod("attack")
		edit(p)
		create(t, func() error {
			_, err := tn.v.CoreV1().Pods(ns).Create(context.Background(), p, metav1.CreateOptions{})
			return err
		})
		return "attack"
	}
}

func createPolicy(peers []networkingv1.NetworkPolicyPeer) func(*testing.T, *tenant, string) string {
	return func(t *testing.T, tn *tenant, ns string) string {
		np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "attack"}, Spec: networkingv1.NetworkPolicySpec{
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress:      []networkingv1.NetworkPolicyEgressRule{{To: peers}}}}
		create(t, func() error {
			_, err := tn.v.NetworkingV1().NetworkPolicies(ns).Create(context.Background(), np, metav1.CreateOptions{})
			return err
		})
		return "attack"
	}
}

func ingressRule(host string) networkingv1.IngressRule {
	prefix := networkingv1.PathTypePrefix
	return networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
		Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}}}}}}
}

// runningPod creates an allowed pod and waits until it runs on the host and the syncer is done with it.
func runningPod(name string) func(*testing.T, *tenant, string) {
	return func(t *testing.T, tn *tenant, ns string) {
		podSyncer := framework.Controller(tn.name + "-" + pods.Kind)
		since := podSyncer.Mark(t)
		create(t, func() error {
			_, err := tn.v.CoreV1().Pods(ns).Create(context.Background(), simplePod(name), metav1.CreateOptions{})
			return err
		})
		waitRunning(t, tn, ns, name)
		podSyncer.WaitSettled(t, since)
	}
}

// waitRunning waits until a pod runs on the host and the virtual pod shows it.
func waitRunning(t *testing.T, tn *tenant, ns, name string) {
	t.Helper()
	waitHost(t, name+" running on the host", func() error {
		h, err := tn.h.CoreV1().Pods(tn.hostNS).Get(context.Background(), tn.hostName(name, ns), metav1.GetOptions{})
		if err == nil && h.Status.Phase != corev1.PodRunning {
			return errNotYet
		}
		return err
	})
	waitHost(t, name+"'s Running status back in the virtual pod", func() error {
		v, err := tn.v.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err == nil && v.Status.Phase != corev1.PodRunning {
			return errNotYet
		}
		return err
	})
}

// addDebugContainer adds an ephemeral container to the pod "attack" through the virtual
// pods/ephemeralcontainers subresource, as kubectl debug does.
func addDebugContainer(edit func(*corev1.EphemeralContainer)) func(*testing.T, *tenant, string) string {
	return func(t *testing.T, tn *tenant, ns string) string {
		create(t, func() error { return debugContainer(tn, ns, "attack", edit) })
		return "attack"
	}
}

// debugContainer adds the ephemeral container "debugger" (busybox, edited by edit) to a virtual pod.
func debugContainer(tn *tenant, ns, pod string, edit func(*corev1.EphemeralContainer)) error {
	ctx := context.Background()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		p, err := tn.v.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
		if err != nil {
			return err
		}
		ec := corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debugger", Image: "busybox",
			ImagePullPolicy: corev1.PullIfNotPresent, TerminationMessagePolicy: corev1.TerminationMessageReadFile}}
		edit(&ec)
		p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, ec)
		_, err = tn.v.CoreV1().Pods(ns).UpdateEphemeralContainers(ctx, pod, p, metav1.UpdateOptions{})
		return err
	})
}

func sc(s *corev1.SecurityContext) func(*corev1.EphemeralContainer) {
	return func(c *corev1.EphemeralContainer) { c.SecurityContext = s }
}

// podUsingSecret creates an allowed pod that references secret (optional, so it starts
// without it) and waits until it runs on the host: the secret then syncs when created.
func podUsingSecret(secret string) func(*testing.T, *tenant, string) {
	return func(t *testing.T, tn *tenant, ns string) {
		p := simplePod("user")
		p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "S", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: "token", Optional: new(true)}}}}
		podSyncer := framework.Controller(tn.name + "-" + pods.Kind)
		since := podSyncer.Mark(t)
		create(t, func() error {
			_, err := tn.v.CoreV1().Pods(ns).Create(context.Background(), p, metav1.CreateOptions{})
			return err
		})
		waitHost(t, "the secret's user running on the host", func() error {
			h, err := tn.h.CoreV1().Pods(tn.hostNS).Get(context.Background(), tn.hostName("user", ns), metav1.GetOptions{})
			if err == nil && h.Status.Phase != corev1.PodRunning {
				return errNotYet
			}
			return err
		})
		// The host's status copied back to the virtual pod is the syncer's last step for
		// it; then its pod syncer has nothing left to do.
		waitHost(t, "the user's Running status back in the virtual pod", func() error {
			v, err := tn.v.CoreV1().Pods(ns).Get(context.Background(), "user", metav1.GetOptions{})
			if err == nil && v.Status.Phase != corev1.PodRunning {
				return errNotYet
			}
			return err
		})
		podSyncer.WaitSettled(t, since)
	}
}

// checkNoCollision: Secret db-x-prod in dev and Secret db in prod-x-dev reach the host as
// two objects, each with its own data.
func checkNoCollision(t *testing.T, tn *tenant, _ string) {
	ctx := context.Background()
	pairs := [][2]string{{"dev", "db-x-prod"}, {"prod-x-dev", "db"}}
	for _, p := range pairs {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: p[0]}}
		create(t, func() error { _, err := tn.v.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); return err })
		t.Cleanup(func() { _ = tn.v.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}) })
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: p[1]}, StringData: map[string]string{"owner": p[0]}}
		create(t, func() error { _, err := tn.v.CoreV1().Secrets(p[0]).Create(ctx, s, metav1.CreateOptions{}); return err })
		pod := simplePod("user")
		pod.Spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: p[1]}}}}
		create(t, func() error { _, err := tn.v.CoreV1().Pods(p[0]).Create(ctx, pod, metav1.CreateOptions{}); return err })
	}
	names := []string{tn.hostName(pairs[0][1], pairs[0][0]), tn.hostName(pairs[1][1], pairs[1][0])}
	if names[0] == names[1] {
		t.Fatalf("both secrets map to host name %s", names[0])
	}
	for i, name := range names {
		waitHost(t, "host secret "+name, func() error {
			s, err := tn.h.CoreV1().Secrets(tn.hostNS).Get(ctx, name, metav1.GetOptions{})
			if err == nil && string(s.Data["owner"]) != pairs[i][0] {
				t.Fatalf("host secret %s holds %s's data", name, s.Data["owner"])
			}
			return err
		})
	}
}

var errNotYet = errors.New("not yet")

// checkNoHostToken: a projected serviceAccountToken source reaches the host as a projection
// of the pod's token Secret (a virtual token), never as a source the host kubelet would
// mint a host token for. Copied raw (checks off), the host's guards refuse the pod.
func checkNoHostToken(t *testing.T, tn *tenant, ns string) {
	t.Helper()
	if tn.cfg.DisableChecks {
		waitEvent(t, tn.v, ns, "attack", "the host refused")
		if _, err := tn.h.CoreV1().Pods(tn.hostNS).Get(context.Background(), tn.hostName("attack", ns), metav1.GetOptions{}); err == nil {
			t.Fatal("the raw pod with a host token source reached the host")
		}
		return
	}
	hp := waitHostPod(t, tn, "attack", ns)
	sources := hp.Spec.Volumes[0].Projected.Sources
	if len(sources) != 1 || sources[0].ServiceAccountToken != nil || sources[0].Secret == nil ||
		sources[0].Secret.Name != pods.TokenSecretName(hp.Name) {
		t.Fatalf("host token volume sources %+v, want only the pod's token Secret", sources)
	}
}
