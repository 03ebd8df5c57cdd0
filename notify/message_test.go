package notify

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestSanitizeMasksSecrets(t *testing.T) {
	tests := []struct {
		name       string
		obj        ObjectDiff
		wantMasked bool
	}{
		{"Secret by name", ObjectDiff{Object: "Secret/team-a/db", Changes: []FieldChange{{Path: "data.password", Old: "old-value", New: "new-value"}}}, true},
		{"cluster-scoped name form", ObjectDiff{Object: "Secret/db", Changes: []FieldChange{{Path: "data.k", Old: "old-value", New: "new-value"}}}, true},
		{"flagged Secret", ObjectDiff{Object: "ExternalThing/team-a/x", Secret: true, Changes: []FieldChange{{Path: "spec.key", Old: "old-value", New: "new-value"}}}, true},
		{"added value", ObjectDiff{Object: "Secret/team-a/db", Changes: []FieldChange{{Path: "data.new", New: "new-value"}}}, true},
		{"ConfigMap keeps values", ObjectDiff{Object: "ConfigMap/team-a/cfg", Changes: []FieldChange{{Path: "data.k", Old: "old-value", New: "new-value"}}}, false},
		{"SecretStore is not a Secret", ObjectDiff{Object: "SecretStore/team-a/x", Changes: []FieldChange{{Path: "spec.k", Old: "old-value", New: "new-value"}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Event{Kind: KindDrift, Tenant: "team-a", Objects: []ObjectDiff{tt.obj}}
			orig := fmt.Sprintf("%+v", in)
			out := Sanitize(in)
			if fmt.Sprintf("%+v", in) != orig {
				t.Fatal("Sanitize modified its argument")
			}
			c := out.Objects[0].Changes[0]
			if tt.wantMasked {
				if c.Old != Mask || c.New != Mask || !out.Objects[0].Secret {
					t.Fatalf("not masked: %+v", out.Objects[0])
				}
			} else if c != tt.obj.Changes[0] {
				t.Fatalf("changed a non-secret: %+v", c)
			}
			// Every provider payload hides the values too.
			v := newEventView(out)
			for _, payload := range []any{slackEventMessage(v), teamsEventCard(v), discordEventMessage(v), gchatEventMessage(v)} {
				b, err := marshalJSON(payload)
				if err != nil {
					t.Fatal(err)
				}
				if hides := !strings.Contains(string(b), "old-value") && !strings.Contains(string(b), "new-value"); hides != tt.wantMasked {
					t.Errorf("%T: values hidden = %v, want %v: %s", payload, hides, tt.wantMasked, b)
				}
			}
		})
	}
}

func TestSanitizeStripsRepoCredentials(t *testing.T) {
	e := Sanitize(driftEvent())
	if e.RepoURL != "https://github.com/acme/tenants.git" {
		t.Fatalf("RepoURL = %q", e.RepoURL)
	}
	assertNoSecrets(t, "sanitized event", fmt.Sprintf("%+v", e))
	s := NewSummary([]Event{driftEvent()}, fixedTime)
	assertNoSecrets(t, "summary", fmt.Sprintf("%+v", s))
}

func TestEventView(t *testing.T) {
	e := Sanitize(driftEvent())
	e.Corrected = false
	for i := 0; i < 12; i++ {
		e.Objects = append(e.Objects, ObjectDiff{Object: fmt.Sprintf("ConfigMap/team-a/c%d", i), Fields: []string{"data.a"}})
	}
	many := ObjectDiff{Object: "ConfigMap/team-a/many"}
	for i := 0; i < 15; i++ {
		many.Changes = append(many.Changes, FieldChange{Path: fmt.Sprintf("data.k%d", i), Old: strings.Repeat("x", 500), New: "y"})
	}
	e.Objects = append([]ObjectDiff{many}, e.Objects...)
	v := newEventView(e)
	if v.Title != "Drift detected in tenant team-a (detect-only)" {
		t.Errorf("title = %q", v.Title)
	}
	wantFacts := []fact{{"Tenant", "team-a"}, {"Action", "detect-only (not corrected)"}, {"Revision", "main@sha1:0123456789ab"},
		{"Author", "Ada Lovelace <ada@example.com>"}, {"Commit", "Raise team-a CPU quota"}}
	if !reflect.DeepEqual(v.Facts, wantFacts) {
		t.Errorf("facts = %v", v.Facts)
	}
	if len(v.Objects) != maxObjects || v.MoreObjects != len(e.Objects)-maxObjects {
		t.Errorf("objects = %d, more = %d", len(v.Objects), v.MoreObjects)
	}
	o := v.Objects[0]
	if len(o.Changes) != maxChanges || o.More != 5 || len([]rune(o.Changes[0].Old)) != maxValueRunes {
		t.Errorf("object view: %d changes, %d more, old value %d runes", len(o.Changes), o.More, len([]rune(o.Changes[0].Old)))
	}
	if v.Link != "https://github.com/acme/tenants/commit/0123456789abcdef0123456789abcdef01234567" || v.Time != "2026-03-04T05:06:07Z" {
		t.Errorf("link %q time %q", v.Link, v.Time)
	}
}

func TestTitles(t *testing.T) {
	tests := []struct {
		e    Event
		want string
	}{
		{Event{Kind: KindDrift, Tenant: "a", Corrected: true}, "Drift corrected in tenant a"},
		{Event{Kind: KindFailure, Tenant: "a"}, "Tenant a failed to reconcile"},
		{Event{Kind: KindStalled, Tenant: "a"}, "Tenant a is stalled"},
		{Event{Kind: KindRecovered, Tenant: "a"}, "Tenant a recovered"},
		{Event{Kind: KindPruned, Tenant: "a"}, "Tenant a removed"},
		{Event{Kind: KindHeldBack}, "Pruning held back"},
		{Event{Kind: "other", Tenant: "a"}, "tenantry other: tenant a"},
	}
	for _, tt := range tests {
		if got := title(tt.e); got != tt.want {
			t.Errorf("title(%s) = %q, want %q", tt.e.Kind, got, tt.want)
		}
	}
}

func TestNewSummary(t *testing.T) {
	events := []Event{
		{Kind: KindFailure, Tenant: "b"}, {Kind: KindDrift, Tenant: "a"}, {Kind: KindDrift, Tenant: "b"},
		{Kind: KindHeldBack}, {Kind: KindStalled, Tenant: "c"},
	}
	s := NewSummary(events, fixedTime)
	want := Summary{Kind: KindSummary, Message: "5 events: 2 drift, 1 failure, 1 stalled, 1 heldBack", Count: 5,
		Counts:  map[Kind]int{KindDrift: 2, KindFailure: 1, KindStalled: 1, KindHeldBack: 1},
		Tenants: []string{"a", "b", "c"}, Events: events, Time: fixedTime}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("NewSummary =\n%+v\nwant\n%+v", s, want)
	}
}
