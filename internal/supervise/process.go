// Package supervise runs components as child processes, each in its own process group with
// a parent-death signal: stopping one (SIGTERM, then SIGKILL at a deadline) reaches its
// children too, and none outlives this process. A Supervisor restarts the children that
// die; a Process started on its own runs once.
package supervise

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Spec is one child process.
type Spec struct {
	Name string
	Path string
	Args []string
	// Env is added to this process's environment.
	Env []string
	// Credential runs the child as another user (a root test bed's PostgreSQL, which
	// refuses root); nil runs it as this process's user.
	Credential *syscall.Credential
}

// Process is one run of a child process.
type Process struct {
	spec Spec
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start starts spec with its standard output and error going to out, which is closed once
// the child has ended, before Done closes (or right away when the start fails).
func Start(spec Spec, out io.WriteCloser) (*Process, error) {
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Stdout, cmd.Stderr = out, out
	if len(spec.Env) > 0 {
		cmd.Env = append(os.Environ(), spec.Env...)
	}
	cmd.WaitDelay = time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: spec.Credential}
	if err := cmd.Start(); err != nil {
		_ = out.Close()
		return nil, fmt.Errorf("starting %s (%s): %w", spec.Name, spec.Path, err)
	}
	p := &Process{spec: spec, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = out.Close()
		close(p.done)
	}()
	return p, nil
}

// Name is the Spec's name.
func (p *Process) Name() string { return p.spec.Name }

// Pid is the child's process ID, which is also its process group's.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed once the child has ended.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the child has ended, with the error of its end.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Stop is Terminate with a deadline grace from now.
func (p *Process) Stop(grace time.Duration) { p.Terminate(time.Now().Add(grace)) }

// Terminate sends SIGTERM to the child's process group and SIGKILL at the deadline, then
// sweeps whatever the child left behind in its group.
func (p *Process) Terminate(deadline time.Time) {
	pgid := -p.Pid()
	select {
	case <-p.done:
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		return
	default:
	}
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(time.Until(deadline)):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-p.done
	}
	_ = syscall.Kill(pgid, syscall.SIGKILL)
}
