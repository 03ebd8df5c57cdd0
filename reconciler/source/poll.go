package source

import (
	"context"
	"time"
)

// DefaultInterval is the poll interval used when Poll gets none.
const DefaultInterval = time.Minute

// Poll fetches at once, then every interval and whenever trigger fires,
// until ctx is done. onChange gets each new artifact, onError each failure
// (not the cancellation of ctx); either may be nil. A nil trigger is never
// ready; a closed one is ignored from then on.
func (s *Source) Poll(ctx context.Context, interval time.Duration, trigger <-chan struct{}, onChange func(*Artifact), onError func(error)) {
	if interval <= 0 {
		interval = DefaultInterval
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		s.pollOnce(ctx, onChange, onError)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case _, ok := <-trigger:
			if !ok {
				trigger = nil
			}
		}
	}
}

func (s *Source) pollOnce(ctx context.Context, onChange func(*Artifact), onError func(error)) {
	if ctx.Err() != nil {
		return
	}
	a, changed, err := s.Fetch(ctx)
	switch {
	case err != nil && ctx.Err() == nil && onError != nil:
		onError(err)
	case changed && onChange != nil:
		onChange(a)
	}
}
