package localcluster

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tenantry/tenantry/internal/freeport"
)

// startControllerManager runs kube-controller-manager and waits until it is healthy.
func (c *Cluster) startControllerManager(ctx context.Context, version string, controllers []string) error {
	if len(controllers) == 0 {
		controllers = []string{"*"}
	}
	bin, err := binary("kubernetes-"+version, "kube-controller-manager")
	if err != nil {
		return err
	}
	port, err := freeport.Pick()
	if err != nil {
		return err
	}
	cfg, err := c.ConfigFor("system:kube-controller-manager")
	if err != nil {
		return err
	}
	kubeconfig, err := c.WriteKubeconfig(cfg, "controller-manager.kubeconfig")
	if err != nil {
		return err
	}
	p, err := startProcess("kube-controller-manager", c.Dir, bin, []string{
		"--kubeconfig=" + kubeconfig, "--authentication-kubeconfig=" + kubeconfig,
		"--authorization-kubeconfig=" + kubeconfig, "--controllers=" + strings.Join(controllers, ","), "--leader-elect=false",
		"--service-account-private-key-file=" + c.path("sa.key"), "--root-ca-file=" + c.path("ca.crt"),
		"--use-service-account-credentials", "--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(port),
		"--concurrent-gc-syncs=5", "--namespace-sync-period=10s",
	})
	if err != nil {
		return err
	}
	c.procs = append(c.procs, p)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // probing our own child's self-signed health endpoint
	url := "https://127.0.0.1:" + strconv.Itoa(port) + "/healthz"
	return waitFor(ctx, p, "kube-controller-manager /healthz", func(ctx context.Context) error {
		return httpOKWith(ctx, insecure, url)
	})
}

// WaitForServiceAccount waits until the controller manager has created the default
// ServiceAccount of a namespace; pods cannot be admitted before.
func (c *Cluster) WaitForServiceAccount(ctx context.Context, namespace string) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("admin client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		_, err := cs.CoreV1().ServiceAccounts(namespace).Get(ctx, "default", metav1.GetOptions{})
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the default ServiceAccount in %s: %w (last error: %w)", namespace, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
