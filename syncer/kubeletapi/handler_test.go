package kubeletapi

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/tenantry/tenantry/syncer/translate"
)

// hostAPI answers like the host API: pods (some the syncer's copies, some not), pods/log,
// and the streaming subresources, which it upgrades and then echoes. It records every
// request but the pod reads.
type hostAPI struct {
	mu  sync.Mutex
	got []*http.Request
}

// hostPods are the host pods of namespace tenant-team by name, with the virtual pod each
// claims to copy (empty: no syncer marks).
var hostPods = map[string]struct{ vcluster, namespace, name, uid string }{
	"web-x-default-x-team":   {"team", "default", "web", "uid-web"},
	"db-0-x-apps-x-team":     {"team", "apps", "db-0", "uid-db"},
	"stray-x-default-x-team": {},                                     // no syncer marks: not a copy
	"taken-x-default-x-team": {"team", "default", "other", "uid-o"},  // a copy of another virtual pod
	"alien-x-default-x-team": {"other", "default", "alien", "uid-a"}, // another vcluster's
}

func (h *hostAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const prefix = "/api/v1/namespaces/tenant-team/pods/"
	name, sub, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, prefix), "/")
	if sub == "" {
		h.pod(w, name)
		return
	}
	h.mu.Lock()
	h.got = append(h.got, r.Clone(r.Context()))
	h.mu.Unlock()
	if sub == "log" {
		_, _ = io.WriteString(w, "hello from the host\n")
		return
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer func() { _ = conn.Close() }()
	_, _ = io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n")
	_, _ = io.Copy(conn, buf) // echo
}

func (h *hostAPI) pod(w http.ResponseWriter, name string) {
	w.Header().Set("Content-Type", "application/json")
	p, ok := hostPods[name]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"pods \"`+name+`\" not found"}`)
		return
	}
	pod := corev1.Pod{TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"}, ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "tenant-team"}}
	if p.vcluster != "" {
		pod.Labels = map[string]string{translate.LabelManagedBy: p.vcluster}
		pod.Annotations = map[string]string{translate.AnnotationName: p.name, translate.AnnotationNamespace: p.namespace, translate.AnnotationUID: p.uid}
	}
	_ = json.NewEncoder(w).Encode(pod)
}

func (h *hostAPI) requests() []*http.Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.got
}

func newHandler(t *testing.T) (*Handler, *hostAPI) {
	t.Helper()
	api := &hostAPI{}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	h, err := New(&rest.Config{Host: srv.URL, BearerToken: "syncer-token"}, "tenant-team", "team", logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	return h, api
}

func TestHandler(t *testing.T) {
	for _, tc := range []struct {
		name, method, path string
		wantCode           int
		wantBody           string
		// wantHostPath and wantHostQuery are the host request; empty when none is made.
		wantHostPath, wantHostQuery string
	}{
		{name: "logs", path: "/containerLogs/default/web/app", wantCode: 200, wantBody: "hello from the host\n",
			wantHostPath: "/api/v1/namespaces/tenant-team/pods/web-x-default-x-team/log", wantHostQuery: "container=app"},
		{name: "all options", path: "/containerLogs/apps/db-0/pg?follow=true&previous=true&timestamps=true&tailLines=10&limitBytes=500&sinceSeconds=60",
			wantCode: 200, wantBody: "hello from the host\n",
			wantHostPath:  "/api/v1/namespaces/tenant-team/pods/db-0-x-apps-x-team/log",
			wantHostQuery: "container=pg&follow=true&limitBytes=500&previous=true&sinceSeconds=60&tailLines=10&timestamps=true"},
		{name: "since time", path: "/containerLogs/default/web/app?sinceTime=2026-01-02T03:04:05Z", wantCode: 200,
			wantHostPath: "/api/v1/namespaces/tenant-team/pods/web-x-default-x-team/log", wantHostQuery: "container=app&sinceTime=2026-01-02T03%3A04%3A05Z"},
		{name: "host error keeps its code and names the host pod", path: "/containerLogs/default/missing/app", wantCode: 404,
			wantBody: "host pod tenant-team/missing-x-default-x-team: pods \"missing-x-default-x-team\" not found\n"},
		{name: "logs of a host pod without syncer marks", path: "/containerLogs/default/stray/app", wantCode: 404},
		{name: "logs of a host pod copying another virtual pod", path: "/containerLogs/default/taken/app", wantCode: 404},
		{name: "logs of another vcluster's pod", path: "/containerLogs/default/alien/app", wantCode: 404},
		{name: "bad option", path: "/containerLogs/default/web/app?tailLines=many", wantCode: 400},
		{name: "exec without upgrade", path: "/exec/default/web/app?command=sh", wantCode: 400},
		{name: "exec into a host pod without syncer marks", path: "/exec/default/stray/app?command=sh", wantCode: 404},
		{name: "exec into another vcluster's pod", path: "/exec/default/alien/app?command=sh", wantCode: 404},
		{name: "exec with another pod's uid", path: "/exec/default/web/uid-db/app?command=sh", wantCode: 404},
		{name: "attach into a copy of another virtual pod", path: "/attach/default/taken/app", wantCode: 404},
		{name: "port-forward to a missing pod", method: http.MethodPost, path: "/portForward/default/missing", wantCode: 404},
		{name: "exec without container", path: "/exec/default/web", wantCode: 404},
		{name: "port-forward with extra segments", path: "/portForward/default/web/uid-web/x", wantCode: 404},
		{name: "run", method: http.MethodPost, path: "/run/default/web/app", wantCode: 404},
		{name: "missing container", path: "/containerLogs/default/web", wantCode: 404},
		{name: "empty container", path: "/containerLogs/default/web/", wantCode: 404},
		{name: "extra segment", path: "/containerLogs/default/web/app/x", wantCode: 404},
		{name: "stats", path: "/stats/summary", wantCode: 404},
		{name: "root", path: "/", wantCode: 404},
		{name: "post logs", method: http.MethodPost, path: "/containerLogs/default/web/app", wantCode: 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, api := newHandler(t)
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(method, tc.path, nil))
			if rec.Code != tc.wantCode {
				t.Fatalf("code = %d, want %d (body %q)", rec.Code, tc.wantCode, rec.Body.String())
			}
			if tc.wantBody != "" && rec.Body.String() != tc.wantBody {
				t.Errorf("body = %q, want %q", rec.Body.String(), tc.wantBody)
			}
			got := api.requests()
			switch {
			case tc.wantHostPath == "" && len(got) != 0:
				t.Errorf("host requests %v, want none", got[0].URL)
			case tc.wantHostPath != "" && len(got) != 1:
				t.Fatalf("host requests %d, want one", len(got))
			case tc.wantHostPath != "":
				if u := got[0].URL; u.Path != tc.wantHostPath || u.RawQuery != tc.wantHostQuery {
					t.Errorf("host request %s?%s, want %s?%s", u.Path, u.RawQuery, tc.wantHostPath, tc.wantHostQuery)
				}
			}
		})
	}
}

// TestStreamsReachTheHostPod upgrades exec, attach and port-forward requests as the
// virtual API server sends them, and checks the host request (subresource, translated
// query, the syncer's credentials, only the upgrade headers) and that bytes flow both ways.
func TestStreamsReachTheHostPod(t *testing.T) {
	for _, tc := range []struct {
		name, path, wantPath string
		wantQuery            url.Values
	}{
		{name: "exec", path: "/exec/default/web/app?command=sh&command=-c&command=echo+hi&input=1&output=1&error=1&tty=1&evil=1",
			wantPath:  "/api/v1/namespaces/tenant-team/pods/web-x-default-x-team/exec",
			wantQuery: url.Values{"container": {"app"}, "command": {"sh", "-c", "echo hi"}, "stdin": {"true"}, "stdout": {"true"}, "stderr": {"true"}, "tty": {"true"}}},
		{name: "exec with uid, output only", path: "/exec/apps/db-0/uid-db/pg?command=ls&output=1",
			wantPath:  "/api/v1/namespaces/tenant-team/pods/db-0-x-apps-x-team/exec",
			wantQuery: url.Values{"container": {"pg"}, "command": {"ls"}, "stdout": {"true"}}},
		{name: "attach", path: "/attach/default/web/app?input=1&output=1&tty=1&command=ignored",
			wantPath:  "/api/v1/namespaces/tenant-team/pods/web-x-default-x-team/attach",
			wantQuery: url.Values{"container": {"app"}, "stdin": {"true"}, "stdout": {"true"}, "tty": {"true"}}},
		{name: "port-forward", path: "/portForward/default/web?port=8080&port=9090",
			wantPath:  "/api/v1/namespaces/tenant-team/pods/web-x-default-x-team/portforward",
			wantQuery: url.Values{"ports": {"8080", "9090"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, api := newHandler(t)
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			conn, err := net.DialTimeout("tcp", srv.Listener.Addr().String(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = conn.Close() }()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			req := "POST " + tc.path + " HTTP/1.1\r\nHost: kubelet\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n" +
				"X-Stream-Protocol-Version: v5.channel.k8s.io\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n" +
				"Authorization: Bearer tenant-token\r\nImpersonate-User: system:admin\r\nX-Remote-User: system:admin\r\n\r\n"
			if _, err := io.WriteString(conn, req); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusSwitchingProtocols {
				body, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %s, want 101: %s", resp.Status, body)
			}
			if _, err := io.WriteString(conn, "ping"); err != nil {
				t.Fatal(err)
			}
			echo := make([]byte, 4)
			if _, err := io.ReadFull(br, echo); err != nil || string(echo) != "ping" {
				t.Fatalf("echo %q, %v; want ping through the upgraded stream", echo, err)
			}
			requireHostRequest(t, api.requests(), tc.wantPath, tc.wantQuery)
		})
	}
}

func requireHostRequest(t *testing.T, got []*http.Request, path string, query url.Values) {
	t.Helper()
	if len(got) != 1 {
		t.Fatalf("host requests %d, want one", len(got))
	}
	r := got[0]
	if r.URL.Path != path || r.URL.Query().Encode() != query.Encode() {
		t.Errorf("host request %s?%s, want %s?%s", r.URL.Path, r.URL.RawQuery, path, query.Encode())
	}
	if a := r.Header.Get("Authorization"); a != "Bearer syncer-token" {
		t.Errorf("host request Authorization %q, want the syncer's token", a)
	}
	if v := r.Header.Values("X-Stream-Protocol-Version"); len(v) != 2 || r.Header.Get("Upgrade") != "SPDY/3.1" {
		t.Errorf("host request upgrade headers %v", r.Header)
	}
	for _, k := range []string{"Impersonate-User", "X-Remote-User"} {
		if v := r.Header.Get(k); v != "" {
			t.Errorf("host request carries %s: %q; only the upgrade headers may pass", k, v)
		}
	}
}
