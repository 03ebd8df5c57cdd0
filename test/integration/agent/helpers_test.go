package agent_test

import (
	"net/http"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/tenantry/tenantry/notify"
	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/test/framework"
)

// env is one agent instance with its own Git repo (framework.Env) on the package's host
// cluster, with an admin clientset and a hook that receives its notifications.
type env struct {
	*framework.Env
	t    *testing.T
	cs   kubernetes.Interface
	hook *framework.Hook
}

// newEnv makes an env whose agent has opts and notifies the env's hook.
func newEnv(t *testing.T, opts reconciler.Options) *env {
	t.Helper()
	hook := framework.NewHook(t, http.StatusOK)
	opts.Notifier = notify.NewWebhook(hook.URL)
	return &env{Env: framework.NewEnv(t, host.Config, opts), t: t, cs: host.Clientset(t), hook: hook}
}

func eventually(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	framework.Eventually(t, 60*time.Second, what, cond)
}
