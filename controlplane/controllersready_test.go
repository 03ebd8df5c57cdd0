package controlplane

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

func TestControllersStarted(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		ok     bool
	}{
		{"controllers started", http.StatusOK, "[+]ping ok\n[+]replicaset-controller ok\nhealthz check passed\n", true},
		{"healthy but still building controllers", http.StatusOK, "[+]ping ok\nhealthz check passed\n", false},
		{"a failing check", http.StatusInternalServerError, "[+]replicaset-controller ok\n[-]garbage-collector-controller failed\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/healthz" || !r.URL.Query().Has("verbose") {
					http.NotFound(w, r)
					return
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
			p, _ := strconv.Atoi(port)
			if err := controllersStarted(context.Background(), p); (err == nil) != tc.ok {
				t.Errorf("controllersStarted: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
