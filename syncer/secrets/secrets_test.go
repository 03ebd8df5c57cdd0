package secrets

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenantry/tenantry/syncer/translate"
)

func TestToHostTypes(t *testing.T) {
	tr := translate.Translator{VCluster: "team-a", HostNamespace: "tenant-team-a"}
	tests := []struct {
		typ  corev1.SecretType
		want string // "" means allowed
	}{
		{typ: ""}, {typ: corev1.SecretTypeOpaque}, {typ: corev1.SecretTypeTLS}, {typ: corev1.SecretTypeDockerConfigJson},
		{typ: corev1.SecretTypeServiceAccountToken, want: "type is not allowed: type kubernetes.io/service-account-token is not synced"},
		{typ: corev1.SecretTypeBootstrapToken, want: "type is not allowed"},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ), func(t *testing.T) {
			v := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "shop"}, Type: tt.typ, Data: map[string][]byte{"k": []byte("v")}}
			h, err := ToHost(v, tr)
			if tt.want != "" {
				if err == nil || !translate.IsRefused(err) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want a refusal containing %q", err, tt.want)
				}
				return
			}
			if err != nil || string(h.Data["k"]) != "v" || h.Type != tt.typ {
				t.Fatalf("host %+v, %v", h, err)
			}
		})
	}
}
