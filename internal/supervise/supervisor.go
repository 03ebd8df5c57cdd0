package supervise

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/go-logr/logr"
)

// Restart backoff of a child that died: doubling from backoffMin up to backoffMax, back to
// backoffMin once a child ran for stableAfter.
const (
	backoffMin  = 500 * time.Millisecond
	backoffMax  = 30 * time.Second
	stableAfter = time.Minute
)

// Supervisor runs child processes, each in its own process group with a parent-death
// signal, restarts one that dies with a backoff, and stops them in reverse start order.
type Supervisor struct {
	log    logr.Logger
	output io.Writer

	mu       sync.Mutex
	children []*child
	stopped  bool
}

// child is a supervised process and its restart loop.
type child struct {
	spec     Spec
	cancel   context.CancelFunc
	loopDone chan struct{}

	mu       sync.Mutex
	proc     *Process
	restarts int
	stopping bool // set by Stop: start refuses, so no restart races the stop
}

// NewSupervisor returns a supervisor whose children write to output, each line prefixed
// with the child's name.
func NewSupervisor(log logr.Logger, output io.Writer) *Supervisor {
	return &Supervisor{log: log, output: output}
}

// Start starts spec and keeps it running until Stop. It fails only when the first start
// fails (a missing binary, for example).
func (s *Supervisor) Start(spec Spec) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("supervisor stopped")
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &child{spec: spec, cancel: cancel, loopDone: make(chan struct{})}
	if err := c.start(s.output); err != nil {
		cancel()
		return err
	}
	s.children = append(s.children, c)
	go s.loop(ctx, c)
	return nil
}

// Running reports whether the supervisor has not been stopped.
func (s *Supervisor) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.stopped
}

// Restarts returns how often each child was restarted, by name.
func (s *Supervisor) Restarts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, c := range s.children {
		c.mu.Lock()
		out[c.spec.Name] = c.restarts
		c.mu.Unlock()
	}
	return out
}

// PIDs returns the process IDs of the running children, by name.
func (s *Supervisor) PIDs() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, c := range s.children {
		c.mu.Lock()
		if c.proc != nil {
			out[c.spec.Name] = c.proc.Pid()
		}
		c.mu.Unlock()
	}
	return out
}

// Stop stops the children in reverse start order: SIGTERM to each process group, SIGKILL
// once the shared deadline passes. It is safe to call twice.
func (s *Supervisor) Stop(grace time.Duration) {
	s.mu.Lock()
	children := s.children
	s.stopped = true
	s.mu.Unlock()
	deadline := time.Now().Add(grace)
	for i := len(children) - 1; i >= 0; i-- {
		c := children[i]
		c.mu.Lock()
		c.stopping = true
		c.mu.Unlock()
		c.cancel()
		c.mu.Lock()
		proc := c.proc
		c.mu.Unlock()
		proc.Terminate(deadline)
		<-c.loopDone
		s.log.Info("stopped", "component", c.spec.Name)
	}
}

// loop waits for the child to exit and restarts it with a backoff until ctx ends.
func (s *Supervisor) loop(ctx context.Context, c *child) {
	defer close(c.loopDone)
	backoff := backoffMin
	for {
		started := time.Now()
		c.mu.Lock()
		proc := c.proc
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-proc.Done():
		}
		if time.Since(started) > stableAfter {
			backoff = backoffMin
		}
		s.log.Info("component exited; restarting", "component", c.spec.Name, "state", proc.cmd.ProcessState.String(), "backoff", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, backoffMax)
		if ctx.Err() != nil {
			return
		}
		if err := c.start(s.output); err != nil {
			s.log.Error(err, "restarting component", "component", c.spec.Name)
			continue
		}
		c.mu.Lock()
		c.restarts++
		c.mu.Unlock()
	}
}

// start runs the child once, its output prefixed with its name.
func (c *child) start(output io.Writer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopping {
		return errors.New("stopping")
	}
	proc, err := Start(c.spec, newPrefixWriter(output, c.spec.Name))
	if err != nil {
		return err
	}
	c.proc = proc
	return nil
}
