package reconciler

import (
	"testing"
	"time"
)

func TestStalledRule(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type step struct {
		at      time.Duration // since t0
		rev     string
		recover bool
		want    bool // stalled alert now
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "three revisions in a row", steps: []step{
			{rev: "r1"}, {at: time.Minute, rev: "r1"}, {at: 2 * time.Minute, rev: "r2"},
			{at: 3 * time.Minute, rev: "r3", want: true}, {at: 4 * time.Minute, rev: "r4"},
		}},
		{name: "one revision failing for the threshold", steps: []step{
			{rev: "r1"}, {at: 29 * time.Minute, rev: "r1"}, {at: 30 * time.Minute, rev: "r1", want: true},
			{at: 90 * time.Minute, rev: "r1"},
		}},
		{name: "a recovery starts a new streak", steps: []step{
			{rev: "r1"}, {at: time.Minute, rev: "r2"}, {at: 2 * time.Minute, recover: true},
			{at: 3 * time.Minute, rev: "r3"}, {at: 4 * time.Minute, rev: "r4"}, {at: 5 * time.Minute, rev: "r5", want: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s stallTracker
			for i, st := range tt.steps {
				if st.recover {
					s.recovered("team-a")
					continue
				}
				got, _ := s.failed("team-a", st.rev, t0.Add(st.at), 30*time.Minute, 3)
				if got != st.want {
					t.Fatalf("step %d (%+v): stalled = %v, want %v", i, st, got, st.want)
				}
			}
		})
	}
}
