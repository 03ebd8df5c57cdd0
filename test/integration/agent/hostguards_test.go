package agent_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/test/framework"
)

// TestHostGuardsRefuseABuggySyncer reconciles two tenants through the real agent, then acts
// as each one's syncer would with a bug: it writes as the syncer's ServiceAccount, holding
// cluster-admin in its namespace, so only the ValidatingAdmissionPolicies stand in the way.
// Every hostile object must be refused with a message naming the problem, and nothing may
// be created or changed; ordinary objects, the allowance of the tenant file, and the
// agent's own writes still go through.
func TestHostGuardsRefuseABuggySyncer(t *testing.T) {
	e := newEnv(t, reconciler.Options{})
	e.writeDefaults("  tenantExceptions:\n  - {tenants: [guard-hp], allowHostPath: true, allowTolerations: true}\n")
	e.Write("guard-a", framework.TenantYAML("guard-a", framework.Pods("20")))
	e.Write("guard-hp", framework.TenantYAML("guard-hp", framework.Pods("20"), framework.Spec(guardHPPods, "  sync:\n    ingresses: true\n    ingressHosts: [shop.guard-hp.example.com, \"*.guard-hp.example.com\"]")))
	if res := e.CommitAndSync("two tenants"); res.Failed() {
		t.Fatalf("pass failed: %+v", res)
	}
	e.RequireReady("guard-a", "guard-hp")
	checkGuardsInstalled(t, e)
	checkGuardParameters(t, e)
	plain, hp := syncerClient(t, "guard-a"), syncerClient(t, "guard-hp")
	eventually(t, "the pod guard to be active", func() (bool, error) {
		_, err := hp.CoreV1().Pods("tenant-guard-hp").Create(ctx, hostilePod("probe", func(p *corev1.Pod) { p.Spec.HostPID = true }), metav1.CreateOptions{})
		return err != nil && strings.Contains(err.Error(), "hostPID is not allowed"), nil
	})
	for _, a := range hostGuardAttacks() {
		t.Run(a.name, func(t *testing.T) {
			c, ns := hp, "tenant-guard-hp"
			if a.plain {
				c, ns = plain, "tenant-guard-a"
			}
			err := a.try(c, ns)
			if err == nil || !strings.Contains(err.Error(), a.want) {
				t.Fatalf("got %v, want a refusal containing %q", err, a.want)
			}
			if a.unchanged != nil {
				a.unchanged(t, ns)
			}
		})
	}
	checkAdmitted(t, plain, hp)
	checkAgentUnaffected(t, e)
}

// guardHPPods is the allowHostPath tenant's pod policy: host paths, and one toleration.
const guardHPPods = "  pods:\n    allowHostPath: true\n    tolerations: [{key: dedicated, operator: Equal, value: tenants, effect: NoSchedule}]"

// hostGuardAttack is one write a buggy syncer might make, and the refusal expected.
type hostGuardAttack struct {
	name      string
	plain     bool // in the tenant without allowances (else the allowHostPath one)
	try       func(c kubernetes.Interface, ns string) error
	want      string
	unchanged func(t *testing.T, ns string) // checks nothing changed; nil: checks the object is absent
}

func hostGuardAttacks() []hostGuardAttack {
	var out []hostGuardAttack
	for _, list := range [][]hostGuardAttack{podGuardAttacks(), objectGuardAttacks(), ownershipGuardAttacks()} {
		out = append(out, list...)
	}
	for i := range out {
		if out[i].unchanged == nil {
			out[i].unchanged = absent(out[i].name)
		}
	}
	return out
}

// createPod is an attack creating a pod named after the attack.
func createPod(name, want string, mutate func(*corev1.Pod)) hostGuardAttack {
	return hostGuardAttack{name: name, want: want, try: func(c kubernetes.Interface, ns string) error {
		_, err := c.CoreV1().Pods(ns).Create(ctx, hostilePod(name, mutate), metav1.CreateOptions{})
		return err
	}}
}

func podGuardAttacks() []hostGuardAttack {
	sc := func(s corev1.SecurityContext) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Spec.Containers[0].SecurityContext = &s }
	}
	hostPath := corev1.Volume{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}
	return []hostGuardAttack{
		createPod("host-network", "hostNetwork is not allowed", func(p *corev1.Pod) { p.Spec.HostNetwork = true }),
		createPod("host-ipc", "hostIPC is not allowed", func(p *corev1.Pod) { p.Spec.HostIPC = true }),
		createPod("privileged-init", "privileged containers are not allowed", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "i", Image: "busybox", SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)}}}
		}),
		createPod("sys-admin-with-host-path", "capabilities.add beyond", func(p *corev1.Pod) {
			p.Spec.Volumes = append(p.Spec.Volumes, hostPath)
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_ADMIN"}}}
		}),
		createPod("host-port", "hostPort is not allowed", func(p *corev1.Pod) {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 80}}
		}),
		createPod("nfs", "volume type not allowed", func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "n", VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "10.0.0.1", Path: "/"}}}}
		}),
		createPod("proc-mount", "procMount", func(p *corev1.Pod) {
			p.Spec.HostUsers = ptr.To(false) // the API refuses Unmasked in the host's user namespace
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{ProcMount: ptr.To(corev1.UnmaskedProcMount)}
		}),
		createPod("seccomp", "seccomp profile Unconfined", sc(corev1.SecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}})),
		createPod("apparmor", "AppArmor profile Unconfined", sc(corev1.SecurityContext{AppArmorProfile: &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}})),
		createPod("selinux", "SELinux options", sc(corev1.SecurityContext{SELinuxOptions: &corev1.SELinuxOptions{Type: "spc_t"}})),
		createPod("sysctl", "unsafe sysctls", func(p *corev1.Pod) {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{{Name: "kernel.msgmax", Value: "65536"}}}
		}),
		createPod("sa-token", "projected serviceAccountToken", func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "t", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
				Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "t", Audience: "vault"}}}}}}}
		}),
		createPod("automount", "automountServiceAccountToken must be false", func(p *corev1.Pod) { p.Spec.AutomountServiceAccountToken = nil }),
		{name: "service-account", want: "serviceAccountName must be empty or default", try: func(c kubernetes.Interface, ns string) error {
			sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "privileged-app"}}
			if _, err := kubernetes.NewForConfigOrDie(host.Config).CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
				return err
			}
			_, err := c.CoreV1().Pods(ns).Create(ctx, hostilePod("service-account", func(p *corev1.Pod) { p.Spec.ServiceAccountName = sa.Name }), metav1.CreateOptions{})
			return err
		}},
		createPod("ephemeral-volume-name", "ephemeral volumeClaimTemplate", func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "e", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{
				VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{Spec: corev1.PersistentVolumeClaimSpec{VolumeName: "pv-of-another-tenant",
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resourceMust("1Gi")}}}}}}}}
		}),
		createPod("control-plane-label", "vcluster.tenantry.dev/control-plane", func(p *corev1.Pod) {
			p.Labels["vcluster.tenantry.dev/control-plane"] = "guard-hp"
		}),
		createPod("control-plane-toleration", "tolerations other than", func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
		}),
		createPod("toleration-of-every-taint", "tolerations other than", func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
		}),
		createPod("granted-key-another-value", "tolerations other than", func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
		}),
		createPod("tenant-label", "reserved tenantry.dev domain", func(p *corev1.Pod) { p.Labels[render.LabelTenant] = "guard-a" }),
		{name: "host-path-without-allowance", plain: true, want: "hostPath", try: func(c kubernetes.Interface, ns string) error {
			_, err := c.CoreV1().Pods(ns).Create(ctx, hostilePod("host-path-without-allowance", func(p *corev1.Pod) { p.Spec.Volumes = append(p.Spec.Volumes, hostPath) }), metav1.CreateOptions{})
			return err
		}},
	}
}

func objectGuardAttacks() []hostGuardAttack {
	tcp := corev1.ProtocolTCP
	return []hostGuardAttack{
		create("external-ips", "spec.externalIPs is not allowed", func(c kubernetes.Interface, ns string) error {
			_, err := c.CoreV1().Services(ns).Create(ctx, &corev1.Service{ObjectMeta: synced("external-ips"), Spec: corev1.ServiceSpec{
				ExternalIPs: []string{"10.20.30.40"}, Ports: []corev1.ServicePort{{Port: 80, Protocol: tcp}}}}, metav1.CreateOptions{})
			return err
		}),
		create("external-name", "type ExternalName is not allowed", func(c kubernetes.Interface, ns string) error {
			_, err := c.CoreV1().Services(ns).Create(ctx, &corev1.Service{ObjectMeta: synced("external-name"), Spec: corev1.ServiceSpec{
				Type: corev1.ServiceTypeExternalName, ExternalName: "kubernetes.default.svc.cluster.local"}}, metav1.CreateOptions{})
			return err
		}),
		create("selects-control-plane", "must select vcluster.tenantry.dev/managed-by", func(c kubernetes.Interface, ns string) error {
			_, err := c.CoreV1().Services(ns).Create(ctx, &corev1.Service{ObjectMeta: synced("selects-control-plane"), Spec: corev1.ServiceSpec{
				Selector: map[string]string{"vcluster.tenantry.dev/control-plane": "guard-hp"}, Ports: []corev1.ServicePort{{Port: 80, Protocol: tcp}}}}, metav1.CreateOptions{})
			return err
		}),
		create("endpoints-bare-ip", "CVE-2021-25740", func(c kubernetes.Interface, ns string) error {
			_, err := c.CoreV1().Endpoints(ns).Create(ctx, &corev1.Endpoints{ObjectMeta: synced("endpoints-bare-ip"), //nolint:staticcheck // the attack writes Endpoints
				Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: "10.0.0.1"}}, Ports: []corev1.EndpointPort{{Port: 443}}}}}, metav1.CreateOptions{})
			return err
		}),
		create("endpointslice-bare-ip", "CVE-2021-25740", func(c kubernetes.Interface, ns string) error {
			_, err := c.DiscoveryV1().EndpointSlices(ns).Create(ctx, &discoveryv1.EndpointSlice{ObjectMeta: synced("endpointslice-bare-ip"),
				AddressType: discoveryv1.AddressTypeIPv4, Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}}}}, metav1.CreateOptions{})
			return err
		}),
		create("sa-token-secret", "Secret type kubernetes.io/service-account-token is not allowed", func(c kubernetes.Interface, ns string) error {
			m := synced("sa-token-secret")
			m.Annotations = map[string]string{corev1.ServiceAccountNameKey: "default"}
			_, err := c.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: m, Type: corev1.SecretTypeServiceAccountToken}, metav1.CreateOptions{})
			return err
		}),
		create("pvc-volume-name", "spec.volumeName is not allowed", func(c kubernetes.Interface, ns string) error {
			_, err := c.CoreV1().PersistentVolumeClaims(ns).Create(ctx, &corev1.PersistentVolumeClaim{ObjectMeta: synced("pvc-volume-name"),
				Spec: corev1.PersistentVolumeClaimSpec{VolumeName: "pv-of-another-tenant", AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resourceMust("1Gi")}}}}, metav1.CreateOptions{})
			return err
		}),
		create("netpol-ip-block", "ipBlock peers are not allowed", func(c kubernetes.Interface, ns string) error {
			return createNetpol(c, ns, "netpol-ip-block", networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}}}})
		}),
		create("netpol-no-peers", "without peers", func(c kubernetes.Interface, ns string) error {
			return createNetpol(c, ns, "netpol-no-peers", networkingv1.NetworkPolicyEgressRule{})
		}),
		create("ingress-foreign-host", "spec.sync.ingressHosts", func(c kubernetes.Interface, ns string) error {
			return createIngress(c, ns, "ingress-foreign-host", "login.guard-a.example.com", nil)
		}),
		create("ingress-snippet", "snippet annotations are not allowed", func(c kubernetes.Interface, ns string) error {
			return createIngress(c, ns, "ingress-snippet", "app.guard-hp.example.com", map[string]string{"nginx.ingress.kubernetes.io/server-snippet": "location / {}"})
		}),
		create("ingress-auth-url", "nginx.ingress.kubernetes.io/auth-url", func(c kubernetes.Interface, ns string) error {
			return createIngress(c, ns, "ingress-auth-url", "app.guard-hp.example.com", map[string]string{"nginx.ingress.kubernetes.io/auth-url": "http://10.0.0.1/"})
		}),
	}
}

func ownershipGuardAttacks() []hostGuardAttack {
	quotaUnchanged := func(t *testing.T, ns string) {
		q, err := host.Clientset(t).CoreV1().ResourceQuotas(ns).Get(ctx, render.QuotaName, metav1.GetOptions{})
		if err != nil || q.Spec.Hard.Pods().String() != "20" {
			t.Fatalf("quota after the attack: %v, %v", q.Spec.Hard, err)
		}
	}
	return []hostGuardAttack{
		{name: "raise-quota", want: "resourcequotas belong to the tenantry agent", unchanged: quotaUnchanged, try: func(c kubernetes.Interface, ns string) error {
			// The quota controller writes the status too: a conflict is retried, so the
			// answer is the guard's.
			admin := kubernetes.NewForConfigOrDie(host.Config)
			return retry.RetryOnConflict(retry.DefaultRetry, func() error {
				q, err := admin.CoreV1().ResourceQuotas(ns).Get(ctx, render.QuotaName, metav1.GetOptions{})
				if err != nil {
					return err
				}
				q.Spec.Hard[corev1.ResourcePods] = resourceMust("100000")
				_, err = c.CoreV1().ResourceQuotas(ns).Update(ctx, q, metav1.UpdateOptions{})
				return err
			})
		}},
		{name: "delete-quota", want: "belong to the tenantry agent", unchanged: quotaUnchanged, try: func(c kubernetes.Interface, ns string) error {
			return c.CoreV1().ResourceQuotas(ns).Delete(ctx, render.QuotaName, metav1.DeleteOptions{})
		}},
		{name: "delete-default-deny", want: "belong to the tenantry agent", try: func(c kubernetes.Interface, ns string) error {
			return c.NetworkingV1().NetworkPolicies(ns).Delete(ctx, "tenantry-default-deny", metav1.DeleteOptions{})
		}, unchanged: func(t *testing.T, ns string) {
			if _, err := host.Clientset(t).NetworkingV1().NetworkPolicies(ns).Get(ctx, "tenantry-default-deny", metav1.GetOptions{}); err != nil {
				t.Fatal(err)
			}
		}},
		create("pose-as-agent", "belong to the tenantry agent", func(c kubernetes.Interface, ns string) error {
			m := synced("pose-as-agent")
			m.Labels[render.LabelManagedBy] = render.ManagedByValue
			_, err := c.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: m}, metav1.CreateOptions{})
			return err
		}),
	}
}

func create(name, want string, try func(kubernetes.Interface, string) error) hostGuardAttack {
	return hostGuardAttack{name: name, want: want, try: try}
}

// absent checks that no object of any attacked kind was created under name.
func absent(name string) func(t *testing.T, ns string) {
	return func(t *testing.T, ns string) {
		t.Helper()
		cs := host.Clientset(t)
		gets := []func() error{
			func() error { _, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{}); return err },
			func() error { _, err := cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{}); return err },
			func() error { _, err := cs.CoreV1().Endpoints(ns).Get(ctx, name, metav1.GetOptions{}); return err },
			func() error {
				_, err := cs.DiscoveryV1().EndpointSlices(ns).Get(ctx, name, metav1.GetOptions{})
				return err
			},
			func() error { _, err := cs.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{}); return err },
			func() error {
				_, err := cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{})
				return err
			},
			func() error {
				_, err := cs.NetworkingV1().NetworkPolicies(ns).Get(ctx, name, metav1.GetOptions{})
				return err
			},
			func() error {
				_, err := cs.NetworkingV1().Ingresses(ns).Get(ctx, name, metav1.GetOptions{})
				return err
			},
			func() error { _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{}); return err },
		}
		for i, get := range gets {
			if err := get(); !apierrors.IsNotFound(err) {
				t.Errorf("kind #%d %s/%s after the attack: %v (want NotFound)", i, ns, name, err)
			}
		}
	}
}
