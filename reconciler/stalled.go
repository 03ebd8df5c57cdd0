package reconciler

import "time"

// Defaults of the stalled rule.
const (
	DefaultStalledAfter     = 30 * time.Minute
	DefaultStalledRevisions = 3
)

// stallTracker implements the stalled rule: a tenant (or, as tenant "", the Git fetch)
// is stalled when every attempt has failed for StalledAfter, or across StalledRevisions
// distinct revisions in a row. A stall is alerted once; a recovery ends it.
type stallTracker struct {
	streaks map[string]*failStreak
}

// failStreak is an unbroken run of failures of one tenant.
type failStreak struct {
	since     time.Time
	revisions map[string]bool
	alerted   bool
}

// failed records a failure at rev and reports whether the tenant just became stalled,
// with the streak's start and number of revisions.
func (s *stallTracker) failed(tenant, rev string, now time.Time, after time.Duration, revisions int) (bool, *failStreak) {
	if s.streaks == nil {
		s.streaks = map[string]*failStreak{}
	}
	st := s.streaks[tenant]
	if st == nil {
		st = &failStreak{since: now, revisions: map[string]bool{}}
		s.streaks[tenant] = st
	}
	if rev != "" {
		st.revisions[rev] = true
	}
	if st.alerted || (now.Sub(st.since) < after && len(st.revisions) < revisions) {
		return false, st
	}
	st.alerted = true
	return true, st
}

func (s *stallTracker) recovered(tenant string) { delete(s.streaks, tenant) }
