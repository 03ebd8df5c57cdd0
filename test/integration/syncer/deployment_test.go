package syncer_test

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/test/framework"
)

// TestDeploymentRunsOnHost: a 3-replica Deployment becomes 3 rewritten host pods, which
// the host runs, and the Deployment becomes Ready in the virtual cluster.
func TestDeploymentRunsOnHost(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "team-a", v1alpha1.PodPolicy{})
	tn.start(t)
	ns := tn.virtual.NewNamespace(t)
	began := time.Now()
	if _, err := tn.v.AppsV1().Deployments(ns).Create(ctx, deployment("web", 3), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 90*time.Second, "the Deployment to have 3 ready replicas", func() (bool, error) {
		d, err := tn.v.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		return err == nil && d.Status.ReadyReplicas == 3 && d.Status.AvailableReplicas == 3, err
	})
	t.Logf("deployment ready in the virtual cluster %s after creation", time.Since(began).Round(time.Millisecond))
	vPods, err := tn.v.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil || len(vPods.Items) != 3 {
		t.Fatalf("virtual pods: %d, %v", len(vPods.Items), err)
	}
	for _, vp := range vPods.Items {
		checkHostPod(t, tn, &vp)
		if vp.Spec.NodeName != hostNode || vp.Status.Phase != corev1.PodRunning {
			t.Errorf("virtual pod %s: node %q phase %s, want %s Running", vp.Name, vp.Spec.NodeName, vp.Status.Phase, hostNode)
		}
	}
	node, err := tn.v.CoreV1().Nodes().Get(ctx, hostNode, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("virtual node for the host node: %v", err)
	}
	if !nodeReady(node) {
		t.Errorf("virtual node %s is not Ready: %+v", node.Name, node.Status.Conditions)
	}
}

func checkHostPod(t *testing.T, tn *tenant, vp *corev1.Pod) {
	t.Helper()
	ctx := context.Background()
	name := tn.hostName(vp.Name, vp.Namespace)
	hp, err := tn.h.CoreV1().Pods(tn.hostNS).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("host pod %s: %v", name, err)
	}
	if hp.Labels[wellknown.VClusterLabelManagedBy] != tn.name || hp.Labels[wellknown.VClusterLabelNamespace] != vp.Namespace || hp.Labels["app"] != "web" {
		t.Errorf("host pod labels: %v", hp.Labels)
	}
	if hp.Annotations[wellknown.VClusterAnnotationUID] != string(vp.UID) || hp.Annotations[wellknown.VClusterAnnotationName] != vp.Name {
		t.Errorf("host pod annotations: %v", hp.Annotations)
	}
	env := map[string]string{}
	for _, e := range hp.Spec.Containers[0].Env {
		env[e.Name] = e.Value
	}
	if env["KUBERNETES_SERVICE_HOST"] != "10.96.100.1" || env["KUBERNETES_SERVICE_PORT"] != "443" {
		t.Errorf("host pod env: %v", env)
	}
	if hp.Spec.DNSPolicy != corev1.DNSNone || hp.Spec.DNSConfig == nil || hp.Spec.DNSConfig.Nameservers[0] != "10.96.100.2" ||
		hp.Spec.DNSConfig.Searches[0] != vp.Namespace+".svc.cluster.local" {
		t.Errorf("host pod DNS: %s %+v", hp.Spec.DNSPolicy, hp.Spec.DNSConfig)
	}
	if hp.Spec.ServiceAccountName != "default" || *hp.Spec.AutomountServiceAccountToken {
		t.Errorf("host pod service account %q automount %v", hp.Spec.ServiceAccountName, *hp.Spec.AutomountServiceAccountToken)
	}
	checkTokenSecret(t, tn, hp)
}

// checkTokenSecret checks the host pod mounts a Secret holding a virtual token.
func checkTokenSecret(t *testing.T, tn *tenant, hp *corev1.Pod) {
	t.Helper()
	var secretName string
	for _, v := range hp.Spec.Volumes {
		if v.Secret != nil && len(v.Name) > 16 && v.Name[:16] == "kube-api-access-" {
			secretName = v.Secret.SecretName
		}
		if v.Projected != nil {
			t.Errorf("host pod still has a projected volume %s", v.Name)
		}
	}
	if secretName == "" {
		t.Fatalf("host pod %s has no token Secret volume: %+v", hp.Name, hp.Spec.Volumes)
	}
	var s *corev1.Secret
	framework.Eventually(t, 30*time.Second, "token secret "+secretName, func() (bool, error) {
		var err error
		s, err = tn.h.CoreV1().Secrets(tn.hostNS).Get(context.Background(), secretName, metav1.GetOptions{})
		return err == nil, err
	})
	if len(s.Data["token"]) == 0 || len(s.Data["ca.crt"]) == 0 || string(s.Data["namespace"]) != hp.Labels[wellknown.VClusterLabelNamespace] {
		t.Errorf("token secret keys: token %d bytes, ca %d bytes, namespace %q", len(s.Data["token"]), len(s.Data["ca.crt"]), s.Data["namespace"])
	}
	if len(s.OwnerReferences) != 1 || s.OwnerReferences[0].UID != hp.UID {
		t.Errorf("token secret owners: %+v", s.OwnerReferences)
	}
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func deployment(name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}
}

// TestServiceSameClusterIP: a virtual Service gets the same ClusterIP on the host, with
// a selector narrowed to the tenant's namespace.
func TestServiceSameClusterIP(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "team-svc", v1alpha1.PodPolicy{})
	tn.start(t)
	ns := tn.virtual.NewNamespace(t)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.ServiceSpec{
		Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}}}
	if _, err := tn.v.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var hostSvc *corev1.Service
	framework.Eventually(t, 30*time.Second, "the host service", func() (bool, error) {
		var err error
		hostSvc, err = tn.h.CoreV1().Services(tn.hostNS).Get(ctx, tn.hostName("web", ns), metav1.GetOptions{})
		return err == nil, err
	})
	var vIP string
	framework.Eventually(t, 30*time.Second, "the same ClusterIP in both clusters", func() (bool, error) {
		v, err := tn.v.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		vIP = v.Spec.ClusterIP
		return vIP == hostSvc.Spec.ClusterIP, nil
	})
	t.Logf("ClusterIP %s in both clusters", vIP)
	want := map[string]string{"app": "web", wellknown.VClusterLabelManagedBy: tn.name, wellknown.VClusterLabelNamespace: ns}
	for k, v := range want {
		if hostSvc.Spec.Selector[k] != v {
			t.Errorf("host selector %v, want %v", hostSvc.Spec.Selector, want)
		}
	}
}

// TestPodLifecycle: a host pod deleted under a live virtual pod is recreated; a virtual
// pod deleted (scale down) loses its host pod; host events reach the virtual pod; the
// pseudo node goes when no pod runs on it.
func TestPodLifecycle(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "team-life", v1alpha1.PodPolicy{})
	tn.start(t)
	ns := tn.virtual.NewNamespace(t)
	if _, err := tn.v.AppsV1().Deployments(ns).Create(ctx, deployment("web", 2), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitReadyReplicas(t, tn, ns, 2)
	vPods, err := tn.v.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first := tn.hostName(vPods.Items[0].Name, ns)
	old := waitHostPod(t, tn, vPods.Items[0].Name, ns)

	t.Run("host event copied", func(t *testing.T) {
		ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: first + ".test"}, Reason: "Pulled", Message: "image pulled on the host",
			Type: corev1.EventTypeNormal, InvolvedObject: corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: tn.hostNS, Name: first, UID: old.UID},
			Source: corev1.EventSource{Component: "kubelet"}, Count: 1, FirstTimestamp: metav1.Now(), LastTimestamp: metav1.Now()}
		if _, err := tn.h.CoreV1().Events(tn.hostNS).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, 30*time.Second, "the host event in the virtual cluster", func() (bool, error) {
			evs, err := tn.v.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "reason=Pulled"})
			if err != nil || len(evs.Items) == 0 {
				return false, err
			}
			io := evs.Items[0].InvolvedObject
			return io.Name == vPods.Items[0].Name && io.Namespace == ns && io.UID == vPods.Items[0].UID, nil
		})
	})
	t.Run("host pod deleted is recreated", func(t *testing.T) {
		if err := tn.h.CoreV1().Pods(tn.hostNS).Delete(ctx, first, metav1.DeleteOptions{GracePeriodSeconds: new(int64(0))}); err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, 30*time.Second, "the host pod to be recreated", func() (bool, error) {
			p, err := tn.h.CoreV1().Pods(tn.hostNS).Get(ctx, first, metav1.GetOptions{})
			return err == nil && p.UID != old.UID, err
		})
	})
	t.Run("scale down removes host pods and the node", func(t *testing.T) {
		scale(t, tn, ns, 0)
		framework.Eventually(t, 60*time.Second, "no host pods and no virtual pods", func() (bool, error) {
			hp, err := tn.h.CoreV1().Pods(tn.hostNS).List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, err
			}
			vp, err := tn.v.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			return err == nil && len(hp.Items) == 0 && len(vp.Items) == 0, err
		})
		framework.Eventually(t, 30*time.Second, "the pseudo node to go", func() (bool, error) {
			_, err := tn.v.CoreV1().Nodes().Get(ctx, hostNode, metav1.GetOptions{})
			return apierrors.IsNotFound(err), err
		})
	})
}

func waitReadyReplicas(t *testing.T, tn *tenant, ns string, n int32) {
	t.Helper()
	framework.Eventually(t, 90*time.Second, "the Deployment to be ready", func() (bool, error) {
		d, err := tn.v.AppsV1().Deployments(ns).Get(context.Background(), "web", metav1.GetOptions{})
		return err == nil && d.Status.ReadyReplicas == n, err
	})
}

func scale(t *testing.T, tn *tenant, ns string, n int32) {
	t.Helper()
	// The Deployment controller writes the object as it works, so a read-modify-write
	// of its scale may meet a conflict: read again and retry, as kubectl scale does.
	deployments := tn.v.AppsV1().Deployments(ns)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		s, err := deployments.GetScale(context.Background(), "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		s.Spec.Replicas = n
		_, err = deployments.UpdateScale(context.Background(), "web", s, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestServiceIPTakenOnHost: when the host has given the virtual ClusterIP to another
// service, the host service gets a new IP and the virtual service is recreated with it.
func TestServiceIPTakenOnHost(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "team-ip", v1alpha1.PodPolicy{})
	squatter := host.NewNamespace(t)
	const ip = "10.96.77.77"
	taken := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "squatter"}, Spec: corev1.ServiceSpec{ClusterIP: ip,
		Ports: []corev1.ServicePort{{Port: 80}}}}
	if _, err := tn.h.CoreV1().Services(squatter).Create(ctx, taken, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tn.start(t)
	ns := tn.virtual.NewNamespace(t)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "api", Labels: map[string]string{"keep": "me"}},
		Spec: corev1.ServiceSpec{ClusterIP: ip, Selector: map[string]string{"app": "api"}, Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
	if _, err := tn.v.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var hostIP string
	framework.Eventually(t, 30*time.Second, "the virtual service to take the host's IP", func() (bool, error) {
		h, err := tn.h.CoreV1().Services(tn.hostNS).Get(ctx, tn.hostName("api", ns), metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		v, err := tn.v.CoreV1().Services(ns).Get(ctx, "api", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		hostIP = h.Spec.ClusterIP
		return hostIP != ip && v.Spec.ClusterIP == hostIP && v.Labels["keep"] == "me" && v.Spec.Ports[0].Name == "http", nil
	})
	t.Logf("virtual ClusterIP %s was taken on the host; both now use %s", ip, hostIP)
}

// TestSelectorlessServiceEndpoints: the Endpoints of a selector-less service reach the
// host when they point at the tenant's own pods (see attacks_test.go for other addresses).
func TestSelectorlessServiceEndpoints(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "team-ep", v1alpha1.PodPolicy{})
	tn.start(t)
	ns := tn.virtual.NewNamespace(t)
	if _, err := tn.v.CoreV1().Pods(ns).Create(ctx, simplePod("db"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var podIP string
	framework.Eventually(t, 30*time.Second, "the host pod to get an IP", func() (bool, error) {
		p, err := tn.h.CoreV1().Pods(tn.hostNS).Get(ctx, tn.hostName("db", ns), metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		podIP = p.Status.PodIP
		return podIP != "", nil
	})
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "external"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 5432}}}}
	if _, err := tn.v.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "external"}, Subsets: []corev1.EndpointSubset{{ //nolint:staticcheck // selector-less services are served by Endpoints
		Addresses: []corev1.EndpointAddress{{IP: podIP}}, Ports: []corev1.EndpointPort{{Port: 5432}}}}}
	if _, err := tn.v.CoreV1().Endpoints(ns).Create(ctx, ep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "the Endpoints on the host", func() (bool, error) {
		h, err := tn.h.CoreV1().Endpoints(tn.hostNS).Get(ctx, tn.hostName("external", ns), metav1.GetOptions{})
		return err == nil && len(h.Subsets) == 1 && h.Subsets[0].Addresses[0].IP == podIP, err
	})
}
