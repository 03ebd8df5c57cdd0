package cluster

import (
	"context"
	"fmt"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// startControllerManager runs kube-controller-manager and waits until its service
// account controller has created the default ServiceAccount.
func (c *Cluster) startControllerManager(ctx context.Context, version string) error {
	bin, err := binary("kubernetes-"+version, "kube-controller-manager")
	if err != nil {
		return err
	}
	port, err := freePort()
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
		"--authorization-kubeconfig=" + kubeconfig, "--controllers=*", "--leader-elect=false",
		"--service-account-private-key-file=" + c.path("sa.key"), "--root-ca-file=" + c.path("ca.crt"),
		"--use-service-account-credentials", "--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(port),
		"--concurrent-gc-syncs=5", "--namespace-sync-period=10s",
	})
	if err != nil {
		return err
	}
	c.procs = append(c.procs, p)
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("admin client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	return waitFor(ctx, p, "the default ServiceAccount", func(ctx context.Context) error {
		_, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err
	})
}
