package image

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// standIn writes a small executable standing in for a real binary.
func standIn(t *testing.T, dir, name, says string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\necho "+says+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// load reads an image back from a tarball written by WriteTarball.
func load(t *testing.T, path, ref string) v1.Image {
	t.Helper()
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(path, &tag)
	if err != nil {
		t.Fatalf("reading %s back: %v", path, err)
	}
	return img
}

// unpack extracts img's filesystem into dir and returns the tar headers by path.
func unpack(t *testing.T, img v1.Image, dir string) map[string]*tar.Header {
	t.Helper()
	rc := mutate.Extract(img)
	defer func() { _ = rc.Close() }()
	out := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		p := strings.TrimSuffix(hdr.Name, "/")
		out[p] = hdr
		target := filepath.Join(dir, p)
		if hdr.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(target, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(hdr.Mode).Perm())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(f, tr); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAgentImage(t *testing.T) {
	dir := t.TempDir()
	bin := standIn(t, dir, "tenantry", "agent")
	path := filepath.Join(dir, "out", "tenantry-v9.tar")
	img, err := Build(AgentSpec("tenantry:v9", "v9", bin))
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteTarball(path, "tenantry:v9", img); err != nil {
		t.Fatal(err)
	}
	got := load(t, path, "tenantry:v9")
	want, _ := img.Digest()
	if d, err := got.Digest(); err != nil || d != want {
		t.Fatalf("digest read back %s (%v), built %s", d, err, want)
	}
	cf, err := got.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if !reflect.DeepEqual(c.Entrypoint, []string{"/tenantry", "agent"}) || c.User != "65532:65532" || c.WorkingDir != "/tmp" ||
		c.Labels["org.opencontainers.image.version"] != "v9" || c.Labels["org.opencontainers.image.source"] != Source ||
		cf.OS != "linux" || cf.Architecture != "amd64" || !cf.Created.Equal(Epoch) {
		t.Fatalf("config %+v", cf)
	}
	hdrs := unpack(t, got, filepath.Join(dir, "fs"))
	checkEntries(t, hdrs, map[string]entry{
		"tenantry": {mode: 0o755}, "tmp": {mode: 0o1777, dir: true}, "etc": {mode: 0o755, dir: true},
		"etc/passwd": {mode: 0o644}, "etc/group": {mode: 0o644},
	})
	passwd, _ := os.ReadFile(filepath.Join(dir, "fs", "etc/passwd"))
	if !strings.Contains(string(passwd), "nonroot:x:65532:65532:") {
		t.Fatalf("passwd %q", passwd)
	}
}

type entry struct {
	mode int64
	uid  int
	dir  bool
}

// checkEntries checks that the layer holds exactly want, with modes, owners and the
// fixed mtime.
func checkEntries(t *testing.T, hdrs map[string]*tar.Header, want map[string]entry) {
	t.Helper()
	for p, w := range want {
		h := hdrs[p]
		switch {
		case h == nil:
			t.Errorf("/%s missing", p)
		case h.Mode != w.mode || h.Uid != w.uid || h.Gid != w.uid || (h.Typeflag == tar.TypeDir) != w.dir:
			t.Errorf("/%s: mode %o uid %d gid %d dir %v, want mode %o uid/gid %d dir %v", p, h.Mode, h.Uid, h.Gid, h.Typeflag == tar.TypeDir, w.mode, w.uid, w.dir)
		case !h.ModTime.Equal(Epoch):
			t.Errorf("/%s: mtime %s, want %s", p, h.ModTime, Epoch)
		}
	}
	for p := range hdrs {
		if _, ok := want[p]; !ok {
			t.Errorf("unexpected /%s", p)
		}
	}
}

// TestBuildIsDeterministic builds the same inputs twice, in another order and at another
// file mtime, and expects the same digest and the same tarball bytes; other content must
// change the digest.
func TestBuildIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	a, b := standIn(t, dir, "a", "one"), standIn(t, dir, "b", "two")
	spec := func(first, second string) Spec {
		return Spec{Ref: "x:1", Entrypoint: []string{"/a"}, User: "65532",
			Files: []File{{Path: "bin/a", Source: first, Mode: 0o755}, {Path: "bin/b", Source: second, Mode: 0o755}}}
	}
	digest := func(s Spec, out string) (v1.Hash, []byte) {
		img, err := Build(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteTarball(out, s.Ref, img); err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return d, data
	}
	d1, tar1 := digest(spec(a, b), filepath.Join(dir, "1.tar"))
	reversed := spec(a, b)
	reversed.Files[0], reversed.Files[1] = reversed.Files[1], reversed.Files[0]
	if err := os.Chtimes(a, Epoch.AddDate(30, 0, 0), Epoch.AddDate(30, 0, 0)); err != nil {
		t.Fatal(err)
	}
	d2, tar2 := digest(reversed, filepath.Join(dir, "2.tar"))
	if d1 != d2 || string(tar1) != string(tar2) {
		t.Fatalf("same inputs, different images: %s vs %s (tarballs equal: %v)", d1, d2, string(tar1) == string(tar2))
	}
	if d3, _ := digest(spec(b, a), filepath.Join(dir, "3.tar")); d3 == d1 {
		t.Fatal("different content, same digest")
	}
}

func TestTarballName(t *testing.T) {
	for ref, want := range map[string]string{
		"tenantry:v0.1.0":           "tenantry-v0.1.0.tar",
		"tenantry-vcluster:v1.37.2": "tenantry-vcluster-v1.37.2.tar",
		"plain":                     "plain.tar",
	} {
		if got := TarballName(ref); got != want {
			t.Errorf("TarballName(%q) = %q, want %q", ref, got, want)
		}
	}
}
