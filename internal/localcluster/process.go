package localcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tenantry/tenantry/internal/supervise"
)

// process is one component running as a child process (see package supervise), logging
// to <dir>/<name>.log. It is not restarted: a component that dies fails whatever waits
// for it, and its log tells why.
type process struct {
	*supervise.Process
	logPath string
}

// startProcess starts bin with args and env added to this process's environment. The
// child is killed if this process dies (Pdeathsig) and runs in its own process group so
// Stop reaches its children too.
func startProcess(name, dir, bin string, args []string, env ...string) (*process, error) {
	return startSpec(dir, supervise.Spec{Name: name, Path: bin, Args: args, Env: env})
}

// startSpec starts spec as startProcess does, logging to <dir>/<spec.Name>.log.
func startSpec(dir string, spec supervise.Spec) (*process, error) {
	logPath := filepath.Join(dir, spec.Name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating log for %s: %w", spec.Name, err)
	}
	p, err := supervise.Start(spec, logFile)
	if err != nil {
		return nil, err
	}
	return &process{Process: p, logPath: logPath}, nil
}

// tail returns the last n lines of the process log.
func (p *process) tail(n int) string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitFor polls check until it returns nil, the context ends or the process exits.
func waitFor(ctx context.Context, p *process, what string, check func(context.Context) error) error {
	var last error
	for {
		if done, err := p.Exited(); done {
			return fmt.Errorf("%s exited before %s: %w\n%s", p.Name(), what, err, p.tail(30))
		}
		if last = check(ctx); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last error: %w)", what, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

var errNotReady = errors.New("not ready")
