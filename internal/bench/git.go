package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/tenantry/tenantry/reconciler/source"
)

// gitFigures measures the Git source on a repo with 10,000 commits and 1,000 tenant files,
// served over smart HTTP by `git http-backend`: a poll when nothing changed, and the fetch
// after one new commit against a fresh clone, with time, bytes and memory.
func gitFigures(ctx context.Context, o Options) []Figure {
	dir := filepath.Join(o.Work, "git-history")
	fmt.Fprintln(o.Log, "bench: git: generating 10,000 commits over 1,000 tenant files")
	if err := fastImport(dir, 1000, 10000); err != nil {
		return []Figure{{Name: "git benchmarks", Missing: err.Error()}}
	}
	srv, err := newGitServer(dir)
	if err != nil {
		return []Figure{{Name: "git benchmarks", Missing: err.Error()}}
	}
	defer srv.Close()
	url := srv.URL(dir)
	var poll, pollKiB, incr, fresh, incrMiB, freshMiB, incrKiB []float64
	for i := range o.Runs {
		f, fm, err := timedFetch(ctx, url, filepath.Join(o.Work, fmt.Sprintf("git-fresh-%d", i)), nil)
		if err != nil {
			return []Figure{{Name: "git benchmarks", Missing: err.Error()}}
		}
		src, err := source.New(source.Options{URL: url, Dir: filepath.Join(o.Work, fmt.Sprintf("git-src-%d", i))})
		if err != nil {
			return []Figure{{Name: "git benchmarks", Missing: err.Error()}}
		}
		if _, _, err := src.Fetch(ctx); err != nil {
			return []Figure{{Name: "git benchmarks", Missing: err.Error()}}
		}
		start, b0 := time.Now(), srv.bytes()
		if _, changed, err := src.Fetch(ctx); err != nil || changed {
			return []Figure{{Name: "git benchmarks", Missing: fmt.Sprintf("unchanged poll: changed=%v err=%v", changed, err)}}
		}
		poll, pollKiB = append(poll, time.Since(start).Seconds()), append(pollKiB, float64(srv.bytes()-b0)/1024)
		if err := gitCommit(dir, i); err != nil {
			return []Figure{{Name: "git benchmarks", Missing: err.Error()}}
		}
		b0 = srv.bytes()
		in, im, err := timedFetch(ctx, url, "", src)
		incrKiB = append(incrKiB, float64(srv.bytes()-b0)/1024)
		if err != nil {
			return []Figure{{Name: "git benchmarks", Missing: err.Error()}}
		}
		fresh, freshMiB, incr, incrMiB = append(fresh, f), append(freshMiB, fm), append(incr, in), append(incrMiB, im)
	}
	fc := measured("git fresh clone, 10,000 commits x 1,000 files", "s", "", fresh)
	return []Figure{
		measured("git poll when nothing changed (ls-remote only)", "s", "", poll),
		measured("git poll when nothing changed: bytes on the wire", "KiB", "", pollKiB),
		measured("git fetch after one new commit: bytes on the wire", "KiB", "", incrKiB),
		withRatio(measured("git fetch after one new commit, 10,000 commits x 1,000 files", "s", "", incr), "fresh clone", fc),
		measured("git fetch after one new commit: memory allocated", "MiB", "", incrMiB),
		fc,
		measured("git fresh clone: memory allocated", "MiB", "", freshMiB),
	}
}

// timedFetch fetches with src (or a new Source for url in work) and returns seconds and MiB allocated.
func timedFetch(ctx context.Context, repo, work string, src *source.Source) (float64, float64, error) {
	if src == nil {
		var err error
		if src, err = source.New(source.Options{URL: repo, Dir: work}); err != nil {
			return 0, 0, err
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, changed, err := src.Fetch(ctx)
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if err == nil && !changed {
		err = fmt.Errorf("fetch saw no change")
	}
	return took.Seconds(), float64(after.TotalAlloc-before.TotalAlloc) / (1 << 20), err
}

// fastImport creates a repo whose first commit adds files tenant files and whose next
// commits each change one of them, with `git fast-import` (seconds, where go-git takes minutes).
func fastImport(dir string, files, commits int) error {
	if err := exec.Command("git", "init", "-q", "-b", "main", dir).Run(); err != nil {
		return fmt.Errorf("git init: %w", err)
	}
	var b bytes.Buffer
	for c := range commits {
		fmt.Fprintf(&b, "commit refs/heads/main\ncommitter bench <bench@tenantry.dev> %d +0000\ndata 8\ncommit %d\n", 1700000000+c, c%10)
		if c == 0 {
			for f := range files {
				writeBlob(&b, f, 0)
			}
			continue
		}
		writeBlob(&b, c%files, c)
	}
	cmd := exec.Command("git", "-C", dir, "fast-import", "--quiet")
	cmd.Stdin = &b
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git fast-import: %w: %s", err, out)
	}
	return exec.Command("git", "-C", dir, "reset", "-q", "--hard", "main").Run()
}

func writeBlob(b *bytes.Buffer, f, rev int) {
	body := tenantFile(f, 20+rev%50)
	fmt.Fprintf(b, "M 644 inline tenants/t%04d.yaml\ndata %d\n%s\n", f, len(body), body)
}

func gitCommit(dir string, i int) error {
	path := filepath.Join(dir, "tenants", "t0000.yaml")
	if err := os.WriteFile(path, []byte(tenantFile(0, 100+i)), 0o644); err != nil {
		return fmt.Errorf("writing: %w", err)
	}
	cmd := exec.Command("git", "-C", dir, "-c", "user.name=bench", "-c", "user.email=bench@tenantry.dev", "commit", "-qam", "one more")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git commit: %w: %s", err, out)
	}
	return nil
}
