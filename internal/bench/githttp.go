package bench

import (
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"sync/atomic"
)

// gitServer serves a repo over smart HTTP with the real `git http-backend`, counting
// the bytes that cross the wire in both directions.
type gitServer struct {
	srv        *httptest.Server
	sent, recv atomic.Int64
}

func newGitServer(repoDir string) (*gitServer, error) {
	git, err := exec.LookPath("git")
	if err != nil {
		return nil, err
	}
	g := &gitServer{}
	backend := &cgi.Handler{Path: git, Args: []string{"http-backend"},
		Env: []string{"GIT_PROJECT_ROOT=" + filepath.Dir(repoDir), "GIT_HTTP_EXPORT_ALL=1"}}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > 0 {
			g.recv.Add(r.ContentLength)
		}
		backend.ServeHTTP(&countingWriter{ResponseWriter: w, n: &g.sent}, r)
	}))
	return g, nil
}

// URL is the repo's clone URL.
func (g *gitServer) URL(repoDir string) string { return g.srv.URL + "/" + filepath.Base(repoDir) }

// bytes returns the bytes exchanged so far.
func (g *gitServer) bytes() int64 { return g.sent.Load() + g.recv.Load() }

func (g *gitServer) Close() { g.srv.Close() }

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n.Add(int64(n))
	return n, err
}
