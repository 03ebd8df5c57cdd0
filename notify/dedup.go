package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// dedupKey identifies "the same event" within one tenant.
type dedupKey struct {
	kind     Kind
	revision string
	digest   string // of message and objects
}

func keyOf(e Event) dedupKey {
	b, _ := json.Marshal(struct {
		M string       `json:"m"`
		O []ObjectDiff `json:"o"`
	}{e.Message, e.Objects})
	sum := sha256.Sum256(b)
	return dedupKey{kind: e.Kind, revision: e.Revision, digest: hex.EncodeToString(sum[:12])}
}

// problem kinds are reset by a recovery; a recovery is reset by a problem.
func isProblem(k Kind) bool { return k == KindFailure || k == KindDrift || k == KindStalled }

// dedup remembers, per tenant, when each event was last accepted. Not safe for
// concurrent use: the owning lane locks.
type dedup struct {
	interval  time.Duration
	sent      map[string]map[dedupKey]time.Time
	lastSweep time.Time
}

func newDedup(interval time.Duration) *dedup {
	return &dedup{interval: interval, sent: map[string]map[dedupKey]time.Time{}}
}

// accept reports whether e should be sent at now, and records it if so.
//
// The same event (kind, tenant, revision, digest of message and objects) is accepted at
// most once per interval. Accepting a recovery forgets the tenant's failure, drift and
// stalled events, so a new problem alerts again; accepting a problem forgets the tenant's
// recovery, so the next recovery is sent (once).
func (d *dedup) accept(e Event, now time.Time) bool {
	d.sweep(now)
	k := keyOf(e)
	keys := d.sent[e.Tenant]
	if t, ok := keys[k]; ok && now.Sub(t) < d.interval {
		return false
	}
	if keys == nil {
		keys = map[dedupKey]time.Time{}
		d.sent[e.Tenant] = keys
	}
	for old := range keys {
		if (e.Kind == KindRecovered && isProblem(old.kind)) || (isProblem(e.Kind) && old.kind == KindRecovered) {
			delete(keys, old)
		}
	}
	keys[k] = now
	return true
}

// forget drops e's key, so the same event is accepted again (after a failed delivery).
func (d *dedup) forget(e Event, at time.Time) {
	if keys := d.sent[e.Tenant]; keys != nil {
		k := keyOf(e)
		if keys[k].Equal(at) {
			delete(keys, k)
		}
	}
}

// sweep drops expired keys, at most once per interval.
func (d *dedup) sweep(now time.Time) {
	if now.Sub(d.lastSweep) < d.interval {
		return
	}
	d.lastSweep = now
	for tenant, keys := range d.sent {
		for k, t := range keys {
			if now.Sub(t) >= d.interval {
				delete(keys, k)
			}
		}
		if len(keys) == 0 {
			delete(d.sent, tenant)
		}
	}
}
