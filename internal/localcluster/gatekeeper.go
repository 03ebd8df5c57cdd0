package localcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/tenantry/tenantry/internal/freeport"
)

// GatekeeperNamespace is where the local Gatekeeper's placeholder pod lives.
const GatekeeperNamespace = "gatekeeper-system"

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// startGatekeeper installs Gatekeeper's CRDs, runs it as a local process with the
// webhook, generate (constraint CRDs) and status operations, and registers it as a
// validating webhook by URL. Without --operation=generate a template never gets its
// constraint CRD and stays at status.created=false.
func (c *Cluster) startGatekeeper(ctx context.Context) error {
	bin, err := binary("gatekeeper", "gatekeeper")
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("admin client: %w", err)
	}
	if err := c.installGatekeeperCRDs(ctx); err != nil {
		return err
	}
	if err := createPlaceholders(ctx, cs); err != nil {
		return err
	}
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	certDir := c.path("gatekeeper-certs")
	if err := c.writeWebhookCerts(certDir); err != nil {
		return err
	}
	cacheDir := c.path("gatekeeper-api-cache")
	if err := os.MkdirAll(cacheDir, 0o700); err != nil {
		return fmt.Errorf("creating gatekeeper cache dir: %w", err)
	}
	health := "127.0.0.1:" + strconv.Itoa(ports[1])
	p, err := startProcess("gatekeeper", c.Dir, bin, []string{
		"--operation=webhook", "--operation=generate", "--operation=status",
		"--port=" + strconv.Itoa(ports[0]), "--host=127.0.0.1", "--cert-dir=" + certDir, "--disable-cert-rotation",
		"--health-addr=" + health, "--metrics-addr=127.0.0.1:" + strconv.Itoa(ports[2]),
		"--metrics-backend=opentelemetry", "--otlp-endpoint=127.0.0.1:9", "--otlp-metric-interval=24h",
		"--exempt-namespace=" + GatekeeperNamespace, "--disable-opa-builtin={http.send}",
		"--api-cache-dir=" + cacheDir, "--shutdown-delay=0",
	}, "POD_NAME=gatekeeper-local", "POD_NAMESPACE="+GatekeeperNamespace, "KUBECONFIG="+c.Kubeconfig)
	if err != nil {
		return err
	}
	c.procs = append(c.procs, p)
	waitCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := waitFor(waitCtx, p, "gatekeeper /readyz", func(ctx context.Context) error {
		return httpOK(ctx, "http://"+health+"/readyz")
	}); err != nil {
		return err
	}
	return registerWebhook(ctx, cs, "https://127.0.0.1:"+strconv.Itoa(ports[0])+"/v1/admit", c.ca.Pair.CertPEM)
}

func (c *Cluster) installGatekeeperCRDs(ctx context.Context) error {
	dir, err := ComponentsDir()
	if err != nil {
		return err
	}
	data, err := os.ReadFile(dir + "/gatekeeper/gatekeeper.yaml")
	if err != nil {
		return fmt.Errorf("reading Gatekeeper's deploy manifest: %w", err)
	}
	crds, err := CRDsFromManifest(data)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("dynamic client: %w", err)
	}
	return ApplyCRDs(ctx, dyn, crds)
}

// CRDsFromManifest returns the CustomResourceDefinitions in a multi-document YAML manifest.
func CRDsFromManifest(data []byte) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("decoding manifest: %w", err)
		}
		if obj.GetKind() == "CustomResourceDefinition" {
			out = append(out, obj)
		}
	}
}

// ApplyCRDs server-side applies CRDs and waits until each is Established.
func ApplyCRDs(ctx context.Context, dyn dynamic.Interface, crds []*unstructured.Unstructured) error {
	for _, crd := range crds {
		data, err := crd.MarshalJSON()
		if err != nil {
			return fmt.Errorf("encoding CRD %s: %w", crd.GetName(), err)
		}
		_, err = dyn.Resource(crdGVR).Patch(ctx, crd.GetName(), types.ApplyPatchType, data,
			metav1.PatchOptions{FieldManager: "tenantry-testbed", Force: ptr.To(true)})
		if err != nil {
			return fmt.Errorf("applying CRD %s: %w", crd.GetName(), err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for _, crd := range crds {
		if err := waitEstablished(ctx, dyn, crd.GetName()); err != nil {
			return err
		}
	}
	return nil
}

func waitEstablished(ctx context.Context, dyn dynamic.Interface, name string) error {
	for {
		obj, err := dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
		if err == nil && hasCondition(obj, "Established") {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for CRD %s to be Established: %w", name, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func hasCondition(obj *unstructured.Unstructured, condType string) bool {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["type"] == condType && m["status"] == "True" {
			return true
		}
	}
	return false
}

// createPlaceholders creates the namespace and the never-scheduled pod that Gatekeeper
// uses as owner of its status objects; a fake pod would be garbage collected away.
func createPlaceholders(ctx context.Context, cs kubernetes.Interface) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: GatekeeperNamespace,
		Labels: map[string]string{"pod-security.kubernetes.io/enforce": "privileged"}}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating %s: %w", GatekeeperNamespace, err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: GatekeeperNamespace}}
	if _, err := cs.CoreV1().ServiceAccounts(GatekeeperNamespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating gatekeeper service account: %w", err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "gatekeeper-local", Namespace: GatekeeperNamespace},
		Spec: corev1.PodSpec{
			AutomountServiceAccountToken: ptr.To(false),
			Containers:                   []corev1.Container{{Name: "placeholder", Image: "gatekeeper-local:placeholder"}},
		},
	}
	if _, err := cs.CoreV1().Pods(GatekeeperNamespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating gatekeeper placeholder pod: %w", err)
	}
	return nil
}

func (c *Cluster) writeWebhookCerts(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	kp, err := issueServing(c.ca, "gatekeeper-webhook-service.gatekeeper-system.svc")
	if err != nil {
		return err
	}
	if err := writePair(kp, dir+"/tls.crt", dir+"/tls.key"); err != nil {
		return err
	}
	if err := os.WriteFile(dir+"/ca.crt", c.ca.Pair.CertPEM, 0o600); err != nil {
		return fmt.Errorf("writing webhook CA: %w", err)
	}
	return nil
}

// registerWebhook points a ValidatingWebhookConfiguration at Gatekeeper by URL, with
// narrow namespaced rules: cluster-scoped objects never reach a webhook that may be down.
func registerWebhook(ctx context.Context, cs kubernetes.Interface, url string, caBundle []byte) error {
	scope := admissionregistrationv1.NamespacedScope
	rule := func(group string, resources ...string) admissionregistrationv1.RuleWithOperations {
		return admissionregistrationv1.RuleWithOperations{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
			Rule:       admissionregistrationv1.Rule{APIGroups: []string{group}, APIVersions: []string{"*"}, Resources: resources, Scope: &scope},
		}
	}
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "gatekeeper-validating-webhook-configuration"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    "validation.gatekeeper.sh",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: caBundle},
			FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			TimeoutSeconds:          ptr.To[int32](3),
			AdmissionReviewVersions: []string{"v1", "v1beta1"},
			NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
				Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn,
				Values: []string{GatekeeperNamespace, "kube-system"},
			}}},
			Rules: []admissionregistrationv1.RuleWithOperations{
				rule("", "pods", "services", "configmaps", "secrets", "persistentvolumeclaims", "serviceaccounts"),
				rule("apps", "deployments", "statefulsets", "daemonsets", "replicasets"),
				rule("batch", "jobs", "cronjobs"),
				rule("networking.k8s.io", "ingresses", "networkpolicies"),
			},
		}},
	}
	_, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, vwc, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("registering the Gatekeeper webhook: %w", err)
	}
	return nil
}

func httpOK(ctx context.Context, url string) error { return httpOKWith(ctx, http.DefaultClient, url) }

func httpOKWith(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %w", url, resp.Status, errNotReady)
	}
	return nil
}

func freePorts(n int) ([]int, error) {
	out := make([]int, n)
	for i := range out {
		p, err := freeport.Pick()
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}
