package vcluster_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/controlplane"
	"github.com/tenantry/tenantry/syncer/pods"
	"github.com/tenantry/tenantry/test/framework"
)

// TestAgentEndToEnd proves the assembled chain as the pod runs it: the agent rolls out a
// tenant's virtual cluster from its file, the test runs tenantry-vcluster with the chart's
// config and ServiceAccount and plays the kubelet, the Tenant turns Ready, and workloads
// created in the virtual cluster run on the host. Once per supported minor.
func TestAgentEndToEnd(t *testing.T) {
	for _, tc := range []struct{ minor, version string }{
		{"1.37", "v1.37.2"},
		{"1.36", "v1.36.3"},
	} {
		t.Run("kubernetes-"+tc.minor, func(t *testing.T) {
			e := &e2e{t: t, name: "e2e-" + strings.ReplaceAll(tc.minor, ".", ""), version: tc.version}
			e.ns, e.fullname = "tenant-"+e.name, "vc-"+e.name
			e.rollOut(tc.minor)
			e.requireVersion()
			e.deployment()
			e.service()
			e.refusedHostPath()
			t.Logf("SIGTERM to exit in %s", e.v.stop().Round(time.Millisecond))
		})
	}
}

// e2e is one tenant's run through the chain.
type e2e struct {
	t                           *testing.T
	name, ns, fullname, version string
	kubelet                     *kubelet
	v                           *vcluster
	virtual                     kubernetes.Interface
}

// rollOut runs the agent on the tenant file, starts the control plane pod's process and
// waits for the Tenant to be Ready.
func (e *e2e) rollOut(minor string) {
	t := e.t
	began := time.Now()
	agent, pass := startAgent(t, e.name, e2eTenantYAML(e.name, minor))
	e.kubelet = newKubelet(t, "node-"+e.name)
	pod := e.kubelet.waitPod(e.ns, e.fullname+"-0", 90*time.Second)
	t.Logf("agent apply to the StatefulSet's pod: %s", time.Since(began).Round(time.Millisecond))
	cfg := chartConfig(t, e.ns, e.fullname)
	e.requireChartConfig(cfg)
	pod = e.kubelet.start(pod, "10.244.0.2")
	e.v = chartVCluster(t, cfg, e.version, pod.Spec.ServiceAccountName, pod.Status.PodIP)
	e.v.start()
	t.Logf("process start to virtual API ready (/readyz 200): %s", e.v.waitReady().Round(time.Millisecond))
	e.kubelet.running(e.ns, pod.Name)
	pass.Wait(t, 2*time.Minute)
	cp := requireReady(t, agent, e.name, e.version)
	t.Logf("tenant file committed to Tenant Ready: %s", time.Since(began).Round(time.Millisecond))
	e.requireKubeconfigSecret(cp)
	e.virtual = e.v.virtual(wellknown.SecretKeyConfigLocal)
}

// requireKubeconfigSecret checks the Secret the Tenant status names holds a kubeconfig
// for the endpoint the status reports.
func (e *e2e) requireKubeconfigSecret(cp v1alpha1.ControlPlaneStatus) {
	e.t.Helper()
	secret, err := host.Clientset(e.t).CoreV1().Secrets(e.ns).Get(ctx, cp.KubeconfigSecret, metav1.GetOptions{})
	if err != nil {
		e.t.Fatalf("the kubeconfig Secret of status.controlPlane: %v", err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(secret.Data[wellknown.SecretKeyConfig])
	if err != nil {
		e.t.Fatal(err)
	}
	if cfg.Host != cp.Endpoint {
		e.t.Fatalf("the Secret's config points at %s, status.controlPlane.endpoint is %s", cfg.Host, cp.Endpoint)
	}
}

// requireChartConfig checks the chart rendered the config the tenant file implies.
func (e *e2e) requireChartConfig(cfg controlplane.Config) {
	e.t.Helper()
	if cfg.Name != e.name || cfg.HostNamespace != e.ns || cfg.ServiceName != e.fullname ||
		cfg.KubeconfigSecret != e.fullname+"-kubeconfig" || cfg.ServiceCIDR != "10.96.0.0/16" ||
		len(cfg.Owners) != 1 || cfg.Owners[0].Name != e.name+"-owner" || cfg.Pods.AllowHostPath {
		e.t.Fatalf("the chart's vcluster.yaml: %+v", cfg)
	}
}

func (e *e2e) requireVersion() {
	e.t.Helper()
	info, err := e.virtual.Discovery().ServerVersion()
	if err != nil {
		e.t.Fatal(err)
	}
	if info.GitVersion != e.version {
		e.t.Fatalf("virtual /version = %s, want %s", info.GitVersion, e.version)
	}
}

// deployment runs 3 replicas: 3 rewritten host pods, which the test's kubelet runs,
// and a Deployment with 3 ready replicas in the virtual cluster.
func (e *e2e) deployment() {
	t := e.t
	requireServiceAccount(t, e.v)
	began := time.Now()
	replicas := int32(3)
	labels := map[string]string{"app": "web"}
	_, err := e.virtual.AppsV1().Deployments("default").Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	virtualPods := e.waitVirtualPods("app=web", 3)
	for i, vp := range virtualPods {
		hp := e.requireHostPod(vp)
		hp = e.kubelet.start(hp, fmt.Sprintf("10.244.1.%d", 10+i))
		e.kubelet.running(e.ns, hp.Name)
	}
	e.waitDeploymentReady("web", 3)
	t.Logf("Deployment create to 3 virtual pods Running (test kubelet included): %s", time.Since(began).Round(time.Millisecond))
	if n := e.hostPodCount(); n != 3 {
		t.Fatalf("%d synced host pods, want 3", n)
	}
}

// waitVirtualPods waits for n pods matching selector in the virtual default namespace.
func (e *e2e) waitVirtualPods(selector string, n int) []corev1.Pod {
	e.t.Helper()
	var out []corev1.Pod
	framework.Eventually(e.t, time.Minute, fmt.Sprintf("%d virtual pods %s", n, selector), func() (bool, error) {
		list, err := e.virtual.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, err
		}
		out = list.Items
		return len(out) == n, fmt.Errorf("%d pods", len(out))
	})
	return out
}

// requireHostPod waits for the host copy of a virtual pod and checks its name, its
// environment and its token.
func (e *e2e) requireHostPod(vp corev1.Pod) *corev1.Pod {
	t := e.t
	t.Helper()
	name := wellknown.HostName(vp.Name, "default", e.name)
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(vp.Name) + `-x-default-x-` + e.name + `$`).MatchString(name) {
		t.Fatalf("host name %q of %s does not follow <name>-x-<namespace>-x-<vcluster>", name, vp.Name)
	}
	hp := e.kubelet.waitPod(e.ns, name, time.Minute)
	if hp.Labels[wellknown.VClusterLabelManagedBy] != e.name || hp.Annotations[wellknown.VClusterAnnotationName] != vp.Name {
		t.Fatalf("host pod %s labels %v annotations %v", name, hp.Labels, hp.Annotations)
	}
	env := map[string]string{}
	for _, ev := range hp.Spec.Containers[0].Env {
		env[ev.Name] = ev.Value
	}
	if env["KUBERNETES_SERVICE_HOST"] != e.v.serviceIP || env["KUBERNETES_SERVICE_PORT"] != "443" {
		t.Fatalf("host pod %s env %v, want KUBERNETES_SERVICE_HOST=%s and _PORT=443", name, env, e.v.serviceIP)
	}
	if dns := hp.Spec.DNSConfig; hp.Spec.DNSPolicy != corev1.DNSNone || dns == nil || len(dns.Nameservers) != 1 || dns.Nameservers[0] != e.v.serviceIP {
		t.Fatalf("host pod %s DNS policy %s config %+v, want the vcluster Service %s", name, hp.Spec.DNSPolicy, dns, e.v.serviceIP)
	}
	e.requireToken(hp)
	return hp
}

// requireToken checks the host pod mounts a token Secret whose token the virtual API
// server accepts as the pod's service account.
func (e *e2e) requireToken(hp *corev1.Pod) {
	t := e.t
	t.Helper()
	secretName := pods.TokenSecretName(hp.Name)
	mounted := false
	for _, vol := range hp.Spec.Volumes {
		mounted = mounted || (vol.Secret != nil && vol.Secret.SecretName == secretName)
	}
	if !mounted {
		t.Fatalf("host pod %s does not mount Secret %s: %+v", hp.Name, secretName, hp.Spec.Volumes)
	}
	var secret *corev1.Secret
	framework.Eventually(t, 30*time.Second, "token Secret "+secretName, func() (bool, error) {
		s, err := host.Clientset(t).CoreV1().Secrets(e.ns).Get(ctx, secretName, metav1.GetOptions{})
		secret = s
		return err == nil, err
	})
	cfg := e.localConfig()
	cfg.CertData, cfg.KeyData = nil, nil
	cfg.BearerToken = string(secret.Data[corev1.ServiceAccountTokenKey])
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	review, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("the token of %s against the virtual API: %v", hp.Name, err)
	}
	if got := review.Status.UserInfo.Username; got != "system:serviceaccount:default:default" {
		t.Fatalf("the token of %s authenticates as %q", hp.Name, got)
	}
}

// localConfig is the virtual cluster's config-local kubeconfig from the host Secret.
func (e *e2e) localConfig() *rest.Config {
	e.t.Helper()
	secret, err := host.Clientset(e.t).CoreV1().Secrets(e.ns).Get(ctx, e.v.cfg.KubeconfigSecret, metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(secret.Data[wellknown.SecretKeyConfigLocal])
	if err != nil {
		e.t.Fatal(err)
	}
	return cfg
}

// waitDeploymentReady waits for the Deployment, its ReplicaSet and its pods to be ready
// and Running in the virtual cluster.
func (e *e2e) waitDeploymentReady(name string, n int32) {
	e.t.Helper()
	framework.Eventually(e.t, time.Minute, "virtual Deployment "+name+" ready", func() (bool, error) {
		d, err := e.virtual.AppsV1().Deployments("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if d.Status.ReadyReplicas != n || d.Status.AvailableReplicas != n {
			return false, fmt.Errorf("ready %d available %d", d.Status.ReadyReplicas, d.Status.AvailableReplicas)
		}
		rss, err := e.virtual.AppsV1().ReplicaSets("default").List(ctx, metav1.ListOptions{LabelSelector: "app=" + name})
		if err != nil || len(rss.Items) != 1 || rss.Items[0].Status.ReadyReplicas != n {
			return false, fmt.Errorf("replica sets %v: %w", rss, err)
		}
		return e.virtualPodsRunning("app="+name, int(n))
	})
}

func (e *e2e) virtualPodsRunning(selector string, n int) (bool, error) {
	list, err := e.virtual.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return false, err
	}
	running := 0
	for _, p := range list.Items {
		if p.Status.Phase == corev1.PodRunning && p.Spec.NodeName != "" {
			running++
		}
	}
	return running == n && len(list.Items) == n, fmt.Errorf("%d of %d pods Running", running, len(list.Items))
}

func (e *e2e) hostPodCount() int {
	e.t.Helper()
	list, err := host.Clientset(e.t).CoreV1().Pods(e.ns).List(ctx, metav1.ListOptions{LabelSelector: wellknown.VClusterLabelManagedBy + "=" + e.name})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(list.Items)
}

// service checks a virtual Service gets the same ClusterIP on the host.
func (e *e2e) service() {
	t := e.t
	svc, err := e.virtual.CoreV1().Services("default").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hostName := wellknown.HostName("web", "default", e.name)
	var hostIP string
	framework.Eventually(t, 30*time.Second, "host Service "+hostName, func() (bool, error) {
		h, err := host.Clientset(t).CoreV1().Services(e.ns).Get(ctx, hostName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		hostIP = h.Spec.ClusterIP
		return true, nil
	})
	if svc.Spec.ClusterIP == "" || hostIP != svc.Spec.ClusterIP {
		t.Fatalf("ClusterIP virtual %q, host %q: want the same", svc.Spec.ClusterIP, hostIP)
	}
	t.Logf("Service web: ClusterIP %s in both clusters", hostIP)
}

// refusedHostPath checks a pod with a hostPath volume, which the tenant file does not
// allow, gets no host pod and a Warning SyncError event in the virtual cluster.
func (e *e2e) refusedHostPath() {
	t := e.t
	_, err := e.virtual.CoreV1().Pods("default").Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "hostpath"},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "c", Image: "busybox",
				VolumeMounts: []corev1.VolumeMount{{Name: "etc", MountPath: "/host-etc"}}}},
			Volumes: []corev1.Volume{{Name: "etc", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/etc"}}}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var message string
	framework.Eventually(t, 30*time.Second, "a SyncError event on pod hostpath", func() (bool, error) {
		events, err := e.virtual.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=hostpath"})
		if err != nil {
			return false, err
		}
		for _, ev := range events.Items {
			if ev.Type == corev1.EventTypeWarning && ev.Reason == "SyncError" {
				message = ev.Message
				return true, nil
			}
		}
		return false, fmt.Errorf("%d events", len(events.Items))
	})
	// The syncer's own refusal, not the host's (whose baseline Pod Security forbids hostPath too).
	if !strings.Contains(message, "spec.volumes[0].hostPath") || !strings.Contains(message, "spec.pods.allowHostPath") {
		t.Errorf("SyncError message %q does not name the field and the tenant-file setting", message)
	}
	t.Logf("hostPath pod refused: %s", message)
	_, err = host.Clientset(t).CoreV1().Pods(e.ns).Get(ctx, wellknown.HostName("hostpath", "default", e.name), metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("host pod of the refused pod: %v, want NotFound", err)
	}
	if n := e.hostPodCount(); n != 3 {
		t.Fatalf("%d synced host pods after the refused pod, want 3", n)
	}
}
