package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/tenantry/tenantry/internal/localcluster"
)

const fluxNamespace = "flux-system"

var (
	gitRepositoryGVR = schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "gitrepositories"}
	kustomizationGVR = schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}
)

// fluxEnv is kustomize-controller running against a test bed, fed by an artifact
// server that stands in for source-controller (which cannot be built here).
type fluxEnv struct {
	c        *localcluster.Cluster
	dyn      dynamic.Interface
	dir      string // the rendered repo: infra/ and tenants/<name>/
	rendered *renderedRepo
	shape    fluxShape
	// kustomizations are the names of the Kustomizations the run waits for.
	kustomizations []string
	artifacts      *artifactServer
	cmd            *exec.Cmd
}

func newFluxEnv(ctx context.Context, c *localcluster.Cluster, bin, dir string, rendered *renderedRepo, shape fluxShape) (_ *fluxEnv, err error) {
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
	if err := installFluxCRDs(ctx, e.dyn, filepath.Dir(bin)); err != nil {
		return nil, err
	}
	if err := e.c.CreateNamespace(ctx, fluxNamespace); err != nil {
		return nil, err
	}
	if e.artifacts, err = newArtifactServer(filepath.Join(dir, "artifacts")); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			e.stop()
		}
	}()
	if err := e.startController(bin, filepath.Join(dir, "controller")); err != nil {
		return nil, err
	}
	return e, e.createSource(ctx)
}

// writeRepo lays the rendered objects out the way a Flux user would: infra/ for the CRD
// and templates, tenants/<name>/ for each tenant.
func (e *fluxEnv) writeRepo() error {
	if err := writeYAML(filepath.Join(e.dir, "infra", "stage1.yaml"), e.rendered.stage1); err != nil {
		return err
	}
	for _, t := range e.rendered.tenants {
		if err := e.writeTenant(t); err != nil {
			return err
		}
	}
	return nil
}

func (e *fluxEnv) writeTenant(t renderedTenant) error {
	return writeYAML(filepath.Join(e.dir, "tenants", t.name, "tenant.yaml"), t.objects)
}

// installFluxCRDs applies the Kustomization and source CRDs copied beside the binary.
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

// startController runs kustomize-controller as Flux's deployment would, as its own user.
func (e *fluxEnv) startController(bin, dir string) error {
	cfg, err := e.c.ConfigFor(fluxUser, "system:masters")
	if err != nil {
		return err
	}
	kubeconfig, err := e.c.WriteKubeconfig(cfg, fluxUser)
	if err != nil {
		return err
	}
	health, err := localcluster.FreePort()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	e.cmd = exec.Command(bin, "--enable-leader-election=false", "--metrics-addr=0",
		"--health-addr=127.0.0.1:"+strconv.Itoa(health), "--requeue-dependency=5s", "--log-level=error")
	e.cmd.Env = append(os.Environ(), "RUNTIME_NAMESPACE="+fluxNamespace, "KUBECONFIG="+kubeconfig, "TMPDIR="+dir)
	log, err := os.Create(filepath.Join(dir, "controller.log"))
	if err != nil {
		return fmt.Errorf("creating the controller log: %w", err)
	}
	e.cmd.Stdout, e.cmd.Stderr = log, log
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := e.cmd.Start(); err != nil {
		return fmt.Errorf("starting kustomize-controller: %w", err)
	}
	return waitHTTP(fmt.Sprintf("http://127.0.0.1:%d/readyz", health), time.Minute)
}

// usage reads the controller's peak RSS and CPU, and the apiserver's and etcd's CPU.
func (e *fluxEnv) usage() usage {
	pids := e.c.PIDs()
	pid := e.cmd.Process.Pid
	return usage{
		rssMiB:       procStatusMiB(fmt.Sprintf("/proc/%d/status", pid), "VmHWM:"),
		cpuSeconds:   processCPU(pid),
		apiserverCPU: processCPU(pids["kube-apiserver"]),
		etcdCPU:      processCPU(pids["etcd"]),
	}
}

func (e *fluxEnv) stop() {
	if e.cmd != nil && e.cmd.Process != nil {
		_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
		_ = e.cmd.Wait()
	}
	if e.artifacts != nil {
		e.artifacts.Close()
	}
}

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
