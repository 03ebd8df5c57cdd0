package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/controlplane"
	"github.com/tenantry/tenantry/internal/pki"
)

// testKubeconfig renders a kubeconfig as the control plane does, with fake credentials.
func testKubeconfig(t *testing.T, server string) []byte {
	t.Helper()
	kc, err := controlplane.RenderKubeconfig("team-a", server, []byte("CA"), pki.KeyPair{CertPEM: []byte("CERT"), KeyPEM: []byte("SECRET-KEY")})
	if err != nil {
		t.Fatal(err)
	}
	return kc
}

// serverOf returns the current cluster's server and TLS server name.
func serverOf(t *testing.T, raw []byte) (server, tlsServerName string) {
	t.Helper()
	kc, err := clientcmd.Load(raw)
	if err != nil {
		t.Fatal(err)
	}
	c, err := currentCluster(kc)
	if err != nil {
		t.Fatal(err)
	}
	if string(c.CertificateAuthorityData) != "CA" || string(kc.AuthInfos["team-a"].ClientKeyData) != "SECRET-KEY" {
		t.Fatalf("credentials not kept: %+v", c)
	}
	return c.Server, c.TLSServerName
}

func TestOutsideKubeconfig(t *testing.T) {
	data := map[string][]byte{
		wellknown.SecretKeyConfig:      testKubeconfig(t, "https://vc-team-a.tenant-team-a.svc:443"),
		wellknown.SecretKeyConfigLocal: testKubeconfig(t, "https://127.0.0.1:6443"),
	}
	tests := []struct {
		name                 string
		expose               v1alpha1.Expose
		external             string
		data                 map[string][]byte
		wantServer, wantName string
		wantForward          bool
		wantErr              string
	}{
		{name: "not exposed: config-local", wantServer: "https://127.0.0.1:6443", wantForward: true, data: data},
		{name: "NodePort has no external endpoint", expose: v1alpha1.Expose{Type: "NodePort"}, wantServer: "https://127.0.0.1:6443", wantForward: true, data: data},
		{name: "ingress host is a SAN", expose: v1alpha1.Expose{Type: "Ingress", Host: "a.example.com"}, external: "https://a.example.com",
			wantServer: "https://a.example.com", data: data},
		{name: "load balancer address is verified as the Service", expose: v1alpha1.Expose{Type: "LoadBalancer"}, external: "https://203.0.113.7",
			wantServer: "https://203.0.113.7", wantName: "vc-team-a.tenant-team-a.svc", data: data},
		{name: "config-local missing", data: map[string][]byte{wellknown.SecretKeyConfig: data[wellknown.SecretKeyConfig]},
			wantErr: `tenant team-a: kubeconfig Secret vc-team-a-kubeconfig has no key "config-local"`},
		{name: "config missing when exposed", expose: v1alpha1.Expose{Type: "Ingress", Host: "a.example.com"}, external: "https://a.example.com",
			data: map[string][]byte{wellknown.SecretKeyConfigLocal: data[wellknown.SecretKeyConfigLocal]}, wantErr: `has no key "config"`},
		{name: "not a kubeconfig", expose: v1alpha1.Expose{Type: "Ingress", Host: "a.example.com"}, external: "https://a.example.com",
			data: map[string][]byte{wellknown.SecretKeyConfig: []byte("{not yaml")}, wantErr: "tenant team-a: parsing kubeconfig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn := &v1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}, Spec: v1alpha1.TenantSpec{Expose: tt.expose}}
			tn.Status.ControlPlane = &v1alpha1.ControlPlaneStatus{Ready: true, ExternalEndpoint: tt.external}
			kc, forward, err := outsideKubeconfig(tn, tt.data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			server, name := serverOf(t, kc)
			if server != tt.wantServer || name != tt.wantName || forward != tt.wantForward {
				t.Fatalf("server %q, TLS name %q, forward %v; want %q, %q, %v", server, name, forward, tt.wantServer, tt.wantName, tt.wantForward)
			}
		})
	}
}

func TestControlPlaneReady(t *testing.T) {
	failed := []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: "HealthCheckFailed", Message: "timed out\nmore"}}
	tests := []struct {
		name    string
		cp      *v1alpha1.ControlPlaneStatus
		conds   []metav1.Condition
		wantErr string
	}{
		{name: "ready", cp: &v1alpha1.ControlPlaneStatus{Ready: true}},
		{name: "no virtual cluster", wantErr: "tenant team-a is not ready: it has no virtual cluster (status.controlPlane is unset)"},
		{name: "rolling out", cp: &v1alpha1.ControlPlaneStatus{}, conds: failed,
			wantErr: "tenant team-a is not ready: its virtual cluster has not rolled out; Ready=False HealthCheckFailed: timed out (+1 more line(s))"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn := &v1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}}
			tn.Status.ControlPlane, tn.Status.Conditions = tt.cp, tt.conds
			err := controlPlaneReady(tn)
			if (err == nil) != (tt.wantErr == "") || (err != nil && err.Error() != tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestServerPort(t *testing.T) {
	tests := []struct {
		server  string
		want    int
		wantErr bool
	}{
		{server: "https://127.0.0.1:6443", want: 6443},
		{server: "https://vc-a.tenant-a.svc", want: 443},
		{server: "https://[::1]:7443", want: 7443},
		{server: "https://127.0.0.1:99999", wantErr: true},
		{server: "127.0.0.1", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.server, func(t *testing.T) {
			got, err := serverPort(testKubeconfig(t, tt.server))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("serverPort = %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestForwardPorts(t *testing.T) {
	tests := []struct {
		name      string
		localPort int
		set, free bool
		want      string
		wantErr   bool
	}{
		{name: "API port free", free: true, want: "6443:6443"},
		{name: "API port taken", free: false, want: "0:6443"},
		{name: "explicit port", localPort: 7000, set: true, want: "7000:6443"},
		{name: "explicit 0 picks a free port", localPort: 0, set: true, free: true, want: "0:6443"},
		{name: "not a port", localPort: 70000, set: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := forwardPorts(6443, tt.localPort, tt.set, func(p int) bool { return p == 6443 && tt.free })
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("forwardPorts = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestForwardedServer(t *testing.T) {
	tests := []struct{ address, wantServer, wantName string }{
		{address: "127.0.0.1", wantServer: "https://127.0.0.1:7000"},
		{address: "localhost", wantServer: "https://127.0.0.1:7000"},
		{address: "0.0.0.0", wantServer: "https://127.0.0.1:7000"},
		{address: "::", wantServer: "https://127.0.0.1:7000"},
		{address: "192.0.2.10", wantServer: "https://192.0.2.10:7000", wantName: "127.0.0.1"},
		{address: "::1", wantServer: "https://[::1]:7000", wantName: "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.address, func(t *testing.T) {
			server, name := forwardedServer(tt.address, 7000)
			if server != tt.wantServer || name != tt.wantName {
				t.Fatalf("forwardedServer = %q, %q; want %q, %q", server, name, tt.wantServer, tt.wantName)
			}
		})
	}
}

func TestWritePrivateFileReplacesModeAndContent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kc")
	if err := os.WriteFile(path, []byte("old and longer content"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writePrivateFile(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 || string(got) != "new" {
		t.Fatalf("mode %v, content %q; want 0600, %q", st.Mode().Perm(), got, "new")
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".kubeconfig-*")); len(left) != 0 {
		t.Fatalf("temp files left: %v", left)
	}
}
