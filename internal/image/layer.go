package image

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
)

// withParents adds the missing parent directories (root-owned, 0755) and sorts the
// entries by path, so the tar is the same whatever the order of the spec.
func withParents(files []File) []File {
	seen := map[string]bool{}
	out := make([]File, 0, len(files))
	for _, f := range files {
		f.Path = strings.Trim(f.Path, "/")
		seen[f.Path] = true
		out = append(out, f)
	}
	for _, f := range out {
		for dir := path.Dir(f.Path); dir != "." && !seen[dir]; dir = path.Dir(dir) {
			seen[dir] = true
			out = append(out, File{Path: dir, Dir: true, Mode: 0o755})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// tarStream writes the layer's tar into a pipe as it is read, so large binaries are
// never held in memory.
func tarStream(files []File) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeTar(pw, files)) }()
	return pr
}

func writeTar(w io.Writer, files []File) error {
	tw := tar.NewWriter(w)
	for _, f := range files {
		if err := writeEntry(tw, f); err != nil {
			return err
		}
	}
	return tw.Close()
}

func writeEntry(tw *tar.Writer, f File) error {
	hdr := &tar.Header{Name: f.Path, Mode: f.Mode, Uid: f.UID, Gid: f.GID, ModTime: Epoch}
	if f.Dir {
		hdr.Typeflag, hdr.Name = tar.TypeDir, f.Path+"/"
		return tw.WriteHeader(hdr)
	}
	if f.Link != "" {
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, f.Link
		return tw.WriteHeader(hdr)
	}
	hdr.Typeflag = tar.TypeReg
	if f.Source == "" {
		hdr.Size = int64(len(f.Data))
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(f.Data)
		return err
	}
	src, err := os.Open(f.Source)
	if err != nil {
		return fmt.Errorf("opening %s: %w", f.Source, err)
	}
	defer func() { _ = src.Close() }()
	st, err := src.Stat()
	if err != nil {
		return fmt.Errorf("reading %s: %w", f.Source, err)
	}
	hdr.Size = st.Size()
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := io.Copy(tw, src); err != nil {
		return fmt.Errorf("copying %s: %w", f.Source, err)
	}
	return nil
}
