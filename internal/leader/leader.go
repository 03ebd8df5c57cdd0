// Package leader runs a function only while this process holds a coordination.k8s.io Lease.
package leader

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// Defaults, the same as controller-runtime's.
const (
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

// ErrLost is returned when the lease was lost while leading: the process should exit
// (non-zero) and let a fresh start contend again, as controller-runtime does.
var ErrLost = errors.New("leader election lost")

// Options configure the election.
type Options struct {
	// Namespace and Name locate the Lease.
	Namespace, Name string
	// Identity names this candidate in the Lease; default hostname plus a random suffix.
	Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod tune the election (see client-go).
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// OnStandby is called once the election started and this process waits to lead.
	OnStandby func()
}

// Run contends for the Lease and calls run while this process leads, with a context
// that is cancelled the moment leadership ends. It returns nil when ctx ends, run's
// error when run ends on its own, and ErrLost when the lease was lost. On return run
// has returned, and a lease this process held is released.
func Run(ctx context.Context, cfg *rest.Config, opts Options, run func(context.Context) error) error {
	lock, err := newLock(cfg, &opts)
	if err != nil {
		return err
	}
	log := logr.FromContextOrDiscard(ctx).WithValues("lease", opts.Namespace+"/"+opts.Name, "identity", opts.Identity)
	electCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	st := &runState{}
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: lock, Name: opts.Name, ReleaseOnCancel: true,
		LeaseDuration: opts.LeaseDuration, RenewDeadline: opts.RenewDeadline, RetryPeriod: opts.RetryPeriod,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) {
				done := st.start()
				defer close(done)
				log.Info("became the leader")
				err := run(lctx)
				st.finish(err, lctx.Err() == nil)
				cancel()
			},
			OnStoppedLeading: func() { log.Info("stopped leading") },
		},
	})
	if err != nil {
		return fmt.Errorf("configuring leader election: %w", err)
	}
	if opts.OnStandby != nil {
		opts.OnStandby()
	}
	log.Info("waiting to become the leader")
	le.Run(electCtx)
	return st.wait(ctx)
}

// runState tracks the run call of a leadership term, so Run returns only after it did.
type runState struct {
	mu       sync.Mutex
	done     chan struct{}
	err      error
	selfDone bool
}

func (s *runState) start() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = make(chan struct{})
	return s.done
}

func (s *runState) finish(err error, selfDone bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err, s.selfDone = err, selfDone
}

// wait waits for a started run to return and says how the election ended.
func (s *runState) wait(ctx context.Context) error {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		if ctx.Err() != nil {
			return nil
		}
		return ErrLost
	}
	<-done
	s.mu.Lock()
	defer s.mu.Unlock()
	return outcome(ctx, s.selfDone, s.err)
}

func outcome(ctx context.Context, selfDone bool, runErr error) error {
	switch {
	case selfDone:
		return runErr
	case ctx.Err() != nil:
		return nil
	case runErr != nil:
		return fmt.Errorf("%w: %w", ErrLost, runErr)
	}
	return ErrLost
}

func newLock(cfg *rest.Config, opts *Options) (*resourcelock.LeaseLock, error) {
	if opts.Namespace == "" || opts.Name == "" {
		return nil, errors.New("leader election needs a namespace and a lease name")
	}
	if opts.Identity == "" {
		opts.Identity = DefaultIdentity()
	}
	if opts.LeaseDuration <= 0 {
		opts.LeaseDuration = DefaultLeaseDuration
	}
	if opts.RenewDeadline <= 0 {
		opts.RenewDeadline = DefaultRenewDeadline
	}
	if opts.RetryPeriod <= 0 {
		opts.RetryPeriod = DefaultRetryPeriod
	}
	cs, err := kubernetes.NewForConfig(rest.CopyConfig(cfg))
	if err != nil {
		return nil, fmt.Errorf("building the leader election client: %w", err)
	}
	return &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: opts.Namespace, Name: opts.Name},
		Client:     cs.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: opts.Identity},
	}, nil
}

// DefaultIdentity is the hostname (the pod name in a cluster) plus a random suffix, so
// two processes on one host never share an identity.
func DefaultIdentity() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "tenantry"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return host + "_" + hex.EncodeToString(b)
}
