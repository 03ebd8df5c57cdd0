package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/reconciler/status"
)

// kubeconfigFlags are the flags of `tenantry kubeconfig`.
type kubeconfigFlags struct {
	hostKubeconfig string
	output         string
	portForward    bool
	address        string
	localPort      int
	// localPortSet is true when --local-port was given; else the API port is tried first.
	localPortSet bool
}

func newKubeconfigCommand() *cobra.Command {
	var f kubeconfigFlags
	cmd := &cobra.Command{
		Use:   "kubeconfig TENANT",
		Short: "Print an admin kubeconfig for a tenant's virtual cluster, or port-forward to it",
		Long: `kubeconfig reads the tenant's kubeconfig Secret on the host. When the tenant is exposed
(status.controlPlane.externalEndpoint) its server is that endpoint; otherwise it is
https://127.0.0.1:<api port> and needs a port-forward. With --port-forward the command
forwards a local port to the control plane pod, writes a kubeconfig pointing at it (-o, or a
temp file removed on exit) and keeps forwarding until interrupted.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.localPortSet = cmd.Flags().Changed("local-port")
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			if !f.portForward {
				return runKubeconfig(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], f)
			}
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runKubeconfigForward(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.hostKubeconfig, "kubeconfig", "", "kubeconfig of the host cluster (default in-cluster, then $KUBECONFIG)")
	fl.StringVarP(&f.output, "output", "o", "", "write the kubeconfig to this file (mode 0600) instead of stdout")
	fl.BoolVar(&f.portForward, "port-forward", false, "forward a local port to the tenant's API server until interrupted")
	fl.StringVar(&f.address, "address", "127.0.0.1", "local address to listen on with --port-forward")
	fl.IntVar(&f.localPort, "local-port", 0, "local port with --port-forward; 0 picks a free one (default: the API port if free)")
	return cmd
}

// runKubeconfig writes the kubeconfig a user outside the host can use.
func runKubeconfig(ctx context.Context, out, errOut io.Writer, name string, f kubeconfigFlags) error {
	_, c, err := hostClients(f.hostKubeconfig)
	if err != nil {
		return err
	}
	t, data, err := loadTenantAccess(ctx, c, name)
	if err != nil {
		return err
	}
	kc, needsForward, err := outsideKubeconfig(t, data)
	if err != nil {
		return err
	}
	if needsForward {
		fmt.Fprintf(errOut, "tenant %s is not exposed outside the host: this kubeconfig's server is loopback and needs a port-forward (tenantry kubeconfig %s --port-forward)\n", name, name)
	}
	if f.output == "" || f.output == "-" {
		_, err := out.Write(kc)
		return err
	}
	if err := writePrivateFile(f.output, kc); err != nil {
		return err
	}
	fmt.Fprintf(errOut, "kubeconfig of tenant %s written to %s\n", name, f.output)
	return nil
}

// hostClients loads the host kubeconfig once for a rest config and a client.
func hostClients(kubeconfig string) (*rest.Config, client.Client, error) {
	cfg, err := hostConfig(kubeconfig)
	if err != nil {
		return nil, nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: clientgoscheme.Scheme})
	if err != nil {
		return nil, nil, fmt.Errorf("building the host client: %w", err)
	}
	return cfg, c, nil
}

// loadTenantAccess reads the Tenant, checks its virtual cluster is ready and returns the
// data of its kubeconfig Secret.
func loadTenantAccess(ctx context.Context, c client.Client, name string) (*v1alpha1.Tenant, map[string][]byte, error) {
	t, err := getTenant(ctx, c, name)
	if err != nil {
		return nil, nil, err
	}
	if err := controlPlaneReady(t); err != nil {
		return nil, nil, err
	}
	secret := &corev1.Secret{}
	key := client.ObjectKey{Namespace: t.HostNamespace(), Name: kubeconfigSecretName(t)}
	if err := c.Get(ctx, key, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil, fmt.Errorf("tenant %s: kubeconfig Secret %s not found (its control plane writes it when it starts)", name, key)
		}
		return nil, nil, fmt.Errorf("tenant %s: reading kubeconfig Secret %s: %w", name, key, err)
	}
	return t, secret.Data, nil
}

// getTenant reads one host Tenant.
func getTenant(ctx context.Context, c client.Client, name string) (*v1alpha1.Tenant, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(status.TenantGVK)
	if err := c.Get(ctx, client.ObjectKey{Name: name}, u); err != nil {
		if apierrors.IsNotFound(err) || apimeta.IsNoMatchError(err) {
			return nil, fmt.Errorf("tenant %s not found on the host cluster (tenantry status lists them)", name)
		}
		return nil, fmt.Errorf("reading tenant %s: %w", name, err)
	}
	t := &v1alpha1.Tenant{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, t); err != nil {
		return nil, fmt.Errorf("decoding tenant %s: %w", name, err)
	}
	return t, nil
}

// controlPlaneReady fails, naming the tenant and its Ready condition, unless its virtual
// cluster has rolled out.
func controlPlaneReady(t *v1alpha1.Tenant) error {
	cp := t.Status.ControlPlane
	if cp != nil && cp.Ready {
		return nil
	}
	why := "its virtual cluster has not rolled out"
	if cp == nil {
		why = "it has no virtual cluster (status.controlPlane is unset)"
	}
	if c := apimeta.FindStatusCondition(t.Status.Conditions, v1alpha1.ConditionReady); c != nil {
		why += fmt.Sprintf("; Ready=%s %s", c.Status, c.Reason)
		if c.Message != "" {
			why += ": " + firstLine(c.Message)
		}
	}
	return errors.New("tenant " + t.Name + " is not ready: " + why)
}

// kubeconfigSecretName is the Secret the status names, else the chart's default.
func kubeconfigSecretName(t *v1alpha1.Tenant) string {
	if cp := t.Status.ControlPlane; cp != nil && cp.KubeconfigSecret != "" {
		return cp.KubeconfigSecret
	}
	return render.KubeconfigSecretName(t)
}

// secretKey returns one kubeconfig from the Secret's data.
func secretKey(t *v1alpha1.Tenant, data map[string][]byte, key string) ([]byte, error) {
	if len(data[key]) == 0 {
		return nil, fmt.Errorf("tenant %s: kubeconfig Secret %s has no key %q", t.Name, kubeconfigSecretName(t), key)
	}
	return data[key], nil
}

// controlPlanePod is the tenant's control plane pod (the StatefulSet's only replica).
func controlPlanePod(t *v1alpha1.Tenant) string { return render.VClusterName(t) + "-0" }

// localKubeconfig is the Secret's config-local: server https://127.0.0.1:<api port>.
func localKubeconfig(t *v1alpha1.Tenant, data map[string][]byte) ([]byte, error) {
	return secretKey(t, data, wellknown.SecretKeyConfigLocal)
}
