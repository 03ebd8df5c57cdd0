package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/tenantry/tenantry/internal/freeport"
	"github.com/tenantry/tenantry/internal/localcluster"
)

const fluxNamespace = "flux-system"

var (
	gitRepositoryGVR = schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "gitrepositories"}
	kustomizationGVR = schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}
)

// fluxEnv is Flux's source-controller and kustomize-controller running against a test
// bed, source-controller fetching the rendered repo from a local Git smart HTTP server.
type fluxEnv struct {
	c        *localcluster.Cluster
	dyn      dynamic.Interface
	dir      string // the rendered repo, a Git work tree: infra/ and tenants/<name>/
	rendered *renderedRepo
	shape    fluxShape
	// kustomizations are the names of the Kustomizations the run waits for.
	kustomizations []string
	git            *gitServer
	// controllers are source-controller and kustomize-controller.
	controllers []*exec.Cmd
}

// newFluxEnv writes the repo, serves it and starts both controllers on c, from the
// binaries and CRDs in bins.
func newFluxEnv(ctx context.Context, c *localcluster.Cluster, bins, dir string, rendered *renderedRepo, shape fluxShape) (_ *fluxEnv, err error) {
	cfg, err := c.ConfigFor("bench", "system:masters")
	if err != nil {
		return nil, err
	}
	e := &fluxEnv{c: c, dir: filepath.Join(dir, "repo"), rendered: rendered, shape: shape}
	if e.dyn, err = dynamic.NewForConfig(cfg); err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	if err := e.writeRepo(); err != nil {
		return nil, err
	}
	if err := installFluxCRDs(ctx, e.dyn, bins); err != nil {
		return nil, err
	}
	if err := e.c.CreateNamespace(ctx, fluxNamespace); err != nil {
		return nil, err
	}
	if e.git, err = newGitServer(e.dir); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			e.stop()
		}
	}()
	storage, err := freeport.Pick()
	if err != nil {
		return nil, err
	}
	addr, store := "127.0.0.1:"+strconv.Itoa(storage), filepath.Join(dir, "storage")
	if err := os.MkdirAll(store, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", store, err)
	}
	if err := e.startController(filepath.Join(bins, "source-controller"), fluxSourceUser, filepath.Join(dir, "source-controller"),
		"--storage-path="+store, "--storage-addr="+addr, "--storage-adv-addr="+addr); err != nil {
		return nil, err
	}
	return e, e.startController(filepath.Join(bins, "kustomize-controller"), fluxUser, filepath.Join(dir, "kustomize-controller"),
		"--requeue-dependency=5s")
}

// writeRepo lays the rendered objects out the way a Flux user would, infra/ for the CRD
// and templates, policies/ for the shared constraints, tenants/<name>/ for each tenant, in
// a Git repo on branch main.
func (e *fluxEnv) writeRepo() error {
	if err := writeYAML(filepath.Join(e.dir, "infra", "stage1.yaml"), e.rendered.stage1); err != nil {
		return err
	}
	if err := writeYAML(filepath.Join(e.dir, "policies", "constraints.yaml"), e.rendered.constraints); err != nil {
		return err
	}
	for _, t := range e.rendered.tenants {
		if err := e.writeTenant(t); err != nil {
			return err
		}
	}
	return runGit(e.dir, "init", "-q", "-b", "main")
}

// writeTenant writes one tenant's objects to tenants/<name>/tenant.yaml.
func (e *fluxEnv) writeTenant(t renderedTenant) error {
	return writeYAML(filepath.Join(e.dir, "tenants", t.name, "tenant.yaml"), t.objects)
}

// commit commits the work tree on main and returns the revision as Flux reports it.
func (e *fluxEnv) commit(msg string) (string, error) {
	if err := runGit(e.dir, "add", "-A"); err != nil {
		return "", err
	}
	if err := runGit(e.dir, "-c", "user.name=bench", "-c", "user.email=bench@tenantry.dev", "commit", "-qm", msg); err != nil {
		return "", err
	}
	out, err := exec.Command("git", "-C", e.dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return "", fmt.Errorf("git rev-parse: %w", err)
	}
	return "main@sha1:" + strings.TrimSpace(string(out)), nil
}

// runGit runs git in dir.
func runGit(dir string, args ...string) error {
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// installFluxCRDs applies the Kustomization and source CRDs copied beside the binaries.
func installFluxCRDs(ctx context.Context, dyn dynamic.Interface, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.toolkit.fluxcd.io_*.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no Flux CRDs in %s", dir)
	}
	var crds []*unstructured.Unstructured
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("reading %s: %w", f, err)
		}
		objs, err := localcluster.CRDsFromManifest(data)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		crds = append(crds, objs...)
	}
	return localcluster.ApplyCRDs(ctx, dyn, crds)
}

// startController runs a Flux controller as Flux's deployment would, as its own user,
// with its log and TMPDIR in dir, and waits until it is ready.
func (e *fluxEnv) startController(bin, user, dir string, args ...string) error {
	cfg, err := e.c.ConfigFor(user, "system:masters")
	if err != nil {
		return err
	}
	kubeconfig, err := e.c.WriteKubeconfig(cfg, user)
	if err != nil {
		return err
	}
	health, err := freeport.Pick()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	cmd := exec.Command(bin, append([]string{"--enable-leader-election=false", "--metrics-addr=0",
		"--health-addr=127.0.0.1:" + strconv.Itoa(health), "--log-level=error"}, args...)...)
	cmd.Env = append(os.Environ(), "RUNTIME_NAMESPACE="+fluxNamespace, "KUBECONFIG="+kubeconfig, "TMPDIR="+dir)
	log, err := os.Create(filepath.Join(dir, "controller.log"))
	if err != nil {
		return fmt.Errorf("creating the controller log: %w", err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", filepath.Base(bin), err)
	}
	e.controllers = append(e.controllers, cmd)
	if err := waitHTTP(fmt.Sprintf("http://127.0.0.1:%d/readyz", health), time.Minute); err != nil {
		out, _ := os.ReadFile(log.Name())
		return fmt.Errorf("%s: %w\n%s", filepath.Base(bin), err, tail(string(out)))
	}
	return nil
}

// usage reads the controllers' peak RSS and CPU, summed, and the apiserver's and etcd's CPU.
func (e *fluxEnv) usage() usage {
	pids := e.c.PIDs()
	u := usage{apiserverCPU: processCPU(pids["kube-apiserver"]), etcdCPU: processCPU(pids["etcd"])}
	for _, cmd := range e.controllers {
		pid := cmd.Process.Pid
		u.rssMiB += procStatusMiB(fmt.Sprintf("/proc/%d/status", pid), "VmHWM:")
		u.cpuSeconds += processCPU(pid)
	}
	return u
}

// stop kills the controllers and closes the Git server.
func (e *fluxEnv) stop() {
	for _, cmd := range e.controllers {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}
	if e.git != nil {
		e.git.Close()
	}
}

// waitHTTP polls url until it answers 200 OK or timeout passes.
func waitHTTP(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil { //nolint:gosec,noctx // loopback health probe
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s", url, timeout)
}
