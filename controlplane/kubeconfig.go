package controlplane

import (
	"context"
	"fmt"
	"path/filepath"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	applycorev1 "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/internal/pki"
)

// RenderKubeconfig renders a kubeconfig for one server with a client certificate.
func RenderKubeconfig(name, server string, caPEM []byte, kp pki.KeyPair) ([]byte, error) {
	kc := clientcmdapi.NewConfig()
	kc.Clusters[name] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	kc.AuthInfos[name] = &clientcmdapi.AuthInfo{ClientCertificateData: kp.CertPEM, ClientKeyData: kp.KeyPEM}
	kc.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	kc.CurrentContext = name
	data, err := clientcmd.Write(*kc)
	if err != nil {
		return nil, fmt.Errorf("rendering kubeconfig: %w", err)
	}
	return data, nil
}

// ServiceURL is the virtual API server's address inside the host cluster.
func (c *Config) ServiceURL() string {
	return fmt.Sprintf("https://%s.%s.svc:%d", c.ServiceName, c.HostNamespace, ServicePort)
}

// LocalURL is the virtual API server's address in the pod (or through a port-forward).
func (c *Config) LocalURL() string { return "https://127.0.0.1:" + itoa(c.APIPort) }

// kubeconfigSecretData renders the Secret's data: the admin kubeconfig for the host
// Service, the same for loopback, and the CA.
func (c *Config) kubeconfigSecretData(p *PKI) (map[string][]byte, error) {
	config, err := RenderKubeconfig(c.Name, c.ServiceURL(), p.CAPEM, p.Admin)
	if err != nil {
		return nil, err
	}
	local, err := RenderKubeconfig(c.Name, c.LocalURL(), p.CAPEM, p.Admin)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{wellknown.SecretKeyConfig: config, wellknown.SecretKeyConfigLocal: local, wellknown.SecretKeyCA: p.CAPEM}, nil
}

// writeKubeconfigSecret server-side applies the kubeconfig Secret on the host.
func (c *Config) writeKubeconfigSecret(ctx context.Context, host kubernetes.Interface, p *PKI) error {
	data, err := c.kubeconfigSecretData(p)
	if err != nil {
		return err
	}
	secret := applycorev1.Secret(c.KubeconfigSecret, c.HostNamespace).
		WithLabels(map[string]string{wellknown.LabelManagedBy: wellknown.ManagedBy, wellknown.LabelTenant: c.Name, wellknown.LabelComponent: "vcluster-kubeconfig"}).
		WithType("Opaque").WithData(data)
	if _, err := host.CoreV1().Secrets(c.HostNamespace).Apply(ctx, secret, metav1.ApplyOptions{FieldManager: wellknown.FieldManager, Force: true}); err != nil {
		return fmt.Errorf("applying kubeconfig Secret %s/%s: %w", c.HostNamespace, c.KubeconfigSecret, err)
	}
	return nil
}

// writeControllerManagerKubeconfig writes kube-controller-manager's kubeconfig into the PKI dir.
func (c *Config) writeControllerManagerKubeconfig(p *PKI) (string, error) {
	data, err := RenderKubeconfig(c.Name, c.LocalURL(), p.CAPEM, p.ControllerManager)
	if err != nil {
		return "", err
	}
	path := filepath.Join(p.Dir, "controller-manager.kubeconfig")
	return path, writeFile(path, data)
}
