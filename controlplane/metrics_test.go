package controlplane

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/tenantry/tenantry/internal/freeport"
	"github.com/tenantry/tenantry/internal/pki"
	"github.com/tenantry/tenantry/syncer/kubeletapi"
	"github.com/tenantry/tenantry/syncer/metricsapi"
)

// TestMetricsAPIAdmitsOnlyTheFrontProxyClient serves the metrics API's TLS on loopback and
// calls it with each client certificate the PKI holds: only the virtual API server's
// front-proxy client gets through; another name from the front-proxy CA, the admin (system:masters of the cluster CA), the
// kubelet client and a caller without a certificate are refused in the handshake.
func TestMetricsAPIAdmitsOnlyTheFrontProxyClient(t *testing.T) {
	p, err := EnsurePKI(t.TempDir(), SANs{IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := p.loadCA("front-proxy-ca")
	if err != nil {
		t.Fatal(err)
	}
	kp, err := other.Issue(pki.Client("tenantry:admin", "system:masters"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.writePair("front-proxy-other", kp); err != nil {
		t.Fatal(err)
	}
	port, err := freeport.Pick()
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", itoa(port))
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	if err := kubeletapi.Listen(t.Context(), addr, metricsTLS(p), ok); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, pair string
		admitted   bool
	}{
		{"front-proxy client", "front-proxy-client", true},
		{"another name from the front-proxy CA", "front-proxy-other", false},
		{"cluster admin", "admin", false},
		{"kubelet client", "kubelet-client", false},
		{"no certificate", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := callMetrics(t, p, addr, tt.pair)
			if (err == nil) != tt.admitted {
				t.Fatalf("admitted = %v (error %v), want %v", err == nil, err, tt.admitted)
			}
		})
	}
}

// callMetrics GETs the API with the PKI's pair (none if ""), verifying the server as the
// aggregator does: the cluster CA and metricsapi.ServerName.
func callMetrics(t *testing.T, p *PKI, addr, pair string) error {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(p.CAPEM)
	cfg := &tls.Config{RootCAs: roots, ServerName: metricsapi.ServerName, MinVersion: tls.VersionTLS12}
	if pair != "" {
		kp, _, _, err := p.loadPair(pair)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
		if err != nil {
			t.Fatal(err)
		}
		// Sent even when the server asks for another CA's certificates.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 5 * time.Second}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "https://"+addr+"/apis/metrics.k8s.io/v1beta1", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	return nil
}
