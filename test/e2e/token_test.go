package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenantry/tenantry/api/podtokens"
	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/internal/localcluster"
	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/syncer/pods"
)

// shortTokens is the test's cut: tokens live TokenRequest's minimum and are refreshed
// every 20 s, so the host kubelet (which updates Secret volumes about once a minute)
// brings a new token into the pod within the test.
var shortTokens = podtokens.Tokens{ExpirationSeconds: 600, RefreshSeconds: 20}

// tokenClientManifest lets the default service account read pods in default and runs a
// pod that lists them with its mounted token every 5 s for 4 minutes.
const tokenClientManifest = `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: default-view, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: ServiceAccount, name: default, namespace: default}]
---
apiVersion: v1
kind: Pod
metadata: {name: token-client, namespace: default}
spec:
  restartPolicy: Never
  containers:
  - name: get
    image: ` + localcluster.EchoImage + `
    imagePullPolicy: Never
    args: [get, -token=` + saDir + `/token, -ca=` + saDir + `/ca.crt, -every=5s, -for=4m,
      "https://kubernetes.default.svc/api/v1/namespaces/default/pods"]
    resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {cpu: 100m, memory: 64Mi}}
`

// callLine is one line of `echo get -every`: the call, the token's fingerprint, the outcome.
var callLine = regexp.MustCompile(`^call (\d+) token (\S+): (ok|FAIL)`)

// TestPodTokenRefreshedOnNode is the proof: a pod whose token lifetime is cut short
// keeps reaching the virtual API across a refresh. The tenant applies a pod with real
// kubectl; the pod lists pods with its mounted token every 5 s; the syncer refreshes the
// token (a 600 s token, refreshed after 20 s) and the host kubelet updates the mounted file.
// Every call succeeds and the log shows at least two tokens. On the host, the token Secret
// records the short lifetime.
func TestPodTokenRefreshedOnNode(t *testing.T) {
	requireNode(t)
	requireImage(t, "tenantry-vcluster-v1.37.2.tar")
	const name = "node-tok"
	g := newGitAgent(t, "e2e-"+name, func(o *reconciler.Options) { o.VCluster.Tokens = shortTokens })
	g.commit(name, tenantYAML(name, "1.37"))
	g.SyncOK()
	tn := readyTenant(t, g.Agent, name)
	dumpPodLogsOnFailure(t, tn.HostNamespace())
	k := tenantKubectl(t, name)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, errOut, err := k.exec(ctx, strings.NewReader(tokenClientManifest), "apply", "-f", "-"); err != nil {
		t.Fatalf("kubectl apply: %v\n%s%s", err, out, errOut)
	}
	k.run(t, "wait", "--for=jsonpath={.status.phase}=Running", "pod/token-client", "--timeout=90s")
	began := time.Now()
	log := waitTokenChange(t, k)
	t.Logf("the mounted token changed after %s:\n%s", time.Since(began).Round(time.Second), log)
	requireShortTokenSecret(t, tn.HostNamespace(), name)
}

// waitTokenChange polls `kubectl logs` until the pod has called with two different tokens;
// every call must have succeeded. It returns the log.
func waitTokenChange(t *testing.T, k *kubectl) string {
	t.Helper()
	deadline := time.Now().Add(4 * time.Minute)
	for {
		log := k.run(t, "logs", "token-client")
		tokens, calls := map[string]bool{}, 0
		for line := range strings.SplitSeq(strings.TrimSpace(log), "\n") {
			m := callLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			if m[3] != "ok" {
				t.Fatalf("a call failed: %s\nlog:\n%s", line, log)
			}
			calls++
			tokens[m[2]] = true
		}
		if len(tokens) >= 2 {
			return log
		}
		if time.Now().After(deadline) {
			t.Fatalf("the mounted token did not change within 4 minutes (%d calls, tokens %v):\n%s", calls, tokens, log)
		}
		time.Sleep(10 * time.Second)
	}
}

// requireShortTokenSecret checks the host token Secret of token-client: its tokens live
// 600 s (the test's cut), not a year.
func requireShortTokenSecret(t *testing.T, hostNS, vcluster string) {
	t.Helper()
	hostPod := wellknown.HostName("token-client", "default", vcluster)
	s, err := host.Clientset(t).CoreV1().Secrets(hostNS).Get(context.Background(), pods.TokenSecretName(hostPod), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	issued, err1 := time.Parse(time.RFC3339, s.Annotations[pods.AnnotationTokenIssued])
	expires, err2 := time.Parse(time.RFC3339, s.Annotations[pods.AnnotationTokenExpires])
	if err1 != nil || err2 != nil {
		t.Fatalf("token secret annotations %v", s.Annotations)
	}
	if life := expires.Sub(issued); life < 595*time.Second || life > 605*time.Second {
		t.Errorf("token lifetime %s, want the test's 600 s", life)
	}
}
