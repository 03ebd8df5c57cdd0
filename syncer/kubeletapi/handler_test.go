package kubeletapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// hostAPI records the host requests and answers like the host API's pods/log.
type hostAPI struct{ got []*url.URL }

func (h *hostAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.got = append(h.got, r.URL)
	if strings.Contains(r.URL.Path, "/pods/missing-") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"pods \"missing-x-default-x-team\" not found"}`)
		return
	}
	_, _ = io.WriteString(w, "hello from the host\n")
}

func newHandler(t *testing.T) (*Handler, *hostAPI) {
	t.Helper()
	api := &hostAPI{}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return &Handler{Host: cs, HostNamespace: "tenant-team", VCluster: "team", Log: logr.Discard()}, api
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
			wantBody:     "host pod tenant-team/missing-x-default-x-team: pods \"missing-x-default-x-team\" not found\n",
			wantHostPath: "/api/v1/namespaces/tenant-team/pods/missing-x-default-x-team/log", wantHostQuery: "container=app"},
		{name: "bad option", path: "/containerLogs/default/web/app?tailLines=many", wantCode: 400},
		{name: "exec", path: "/exec/default/web/app?command=sh", wantCode: 501, wantBody: "tenantry: exec is not supported in virtual clusters yet; only logs are\n"},
		{name: "attach", path: "/attach/default/web/app", wantCode: 501},
		{name: "port-forward", method: http.MethodPost, path: "/portForward/default/web", wantCode: 501},
		{name: "run", method: http.MethodPost, path: "/run/default/web/app", wantCode: 501},
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
			switch {
			case tc.wantHostPath == "" && len(api.got) != 0:
				t.Errorf("host requests %v, want none", api.got)
			case tc.wantHostPath != "" && len(api.got) != 1:
				t.Fatalf("host requests %v, want one", api.got)
			case tc.wantHostPath != "":
				if got := api.got[0]; got.Path != tc.wantHostPath || got.RawQuery != tc.wantHostQuery {
					t.Errorf("host request %s?%s, want %s?%s", got.Path, got.RawQuery, tc.wantHostPath, tc.wantHostQuery)
				}
			}
		})
	}
}
