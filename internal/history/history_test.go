package history

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenantry/tenantry/internal/localrepo"
	"github.com/tenantry/tenantry/reconciler/plan"
)

// gitRepo is a go-git repository in a temp dir whose commits have chosen authors.
type gitRepo struct {
	t    *testing.T
	root string // the work tree
	dir  string // the tenants repo inside it
	work *localrepo.Repo
	repo *git.Repository
	when time.Time
}

func newGitRepo(t *testing.T, sub string) *gitRepo {
	t.Helper()
	root := filepath.Join(t.TempDir(), "repo")
	_, err := localrepo.Init(root)
	if err != nil {
		t.Fatal(err)
	}
	repo, err := git.PlainOpen(root)
	if err != nil {
		t.Fatal(err)
	}
	return &gitRepo{t: t, root: root, dir: filepath.Join(root, sub), work: &localrepo.Repo{Dir: filepath.Join(root, sub)},
		repo: repo, when: time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)}
}

func (g *gitRepo) write(path, body string) {
	g.t.Helper()
	if err := g.work.Write(path, []byte(body)); err != nil {
		g.t.Fatal(err)
	}
}

func (g *gitRepo) remove(path string) {
	g.t.Helper()
	if err := g.work.Remove(path); err != nil {
		g.t.Fatal(err)
	}
}

// commit stages everything and commits as author, an hour after the previous commit.
func (g *gitRepo) commit(author, msg string) string {
	g.t.Helper()
	wt, err := g.repo.Worktree()
	if err != nil {
		g.t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		g.t.Fatal(err)
	}
	g.when = g.when.Add(time.Hour)
	sig := &object.Signature{Name: author, Email: strings.ToLower(author) + "@example.com", When: g.when}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig, AllowEmptyCommits: true})
	if err != nil {
		g.t.Fatal(err)
	}
	return h.String()
}

func tenantFile(name, cpu string, extra ...string) string {
	return `apiVersion: tenantry.dev/v1alpha1
kind: Tenant
metadata:
  name: ` + name + `
spec:
  owners:
  - {kind: Group, name: ` + name + `-admins}
  quota:
    cpu: "` + cpu + `"
    pods: "10"
` + strings.Join(extra, "\n")
}

const defaultsFile = `apiVersion: tenantry.dev/v1alpha1
kind: TenantDefaults
metadata:
  name: defaults
spec:
  maxQuota:
    cpu: "%s"
`

// fixture is the repo used by most tests, with the hashes of its commits.
type fixture struct {
	g                                      *gitRepo
	create, raise, readme, comment, broken string
	fix, removeB, defaults                 string
}

func newHistory(t *testing.T, sub string) fixture {
	g := newGitRepo(t, sub)
	h := fixture{g: g}
	g.write("tenants/team-a.yaml", tenantFile("team-a", "4"))
	g.write("tenants/team-b.yaml", tenantFile("team-b", "2"))
	g.write("defaults.yaml", strings.Replace(defaultsFile, "%s", "32", 1))
	g.write("README.md", "tenants\n")
	h.create = g.commit("Alice", "Add team-a and team-b")
	g.write("tenants/team-a.yaml", tenantFile("team-a", "8", "  limits:\n    default: {cpu: 500m}"))
	h.raise = g.commit("Bob", "Raise team-a's CPU quota\n\nThey run CI now.")
	g.write("README.md", "tenants, documented\n")
	h.readme = g.commit("Carol", "Document the repo")
	g.write("tenants/team-b.yaml", "# team B\n"+tenantFile("team-b", "2"))
	h.comment = g.commit("Dave", "Comment team-b")
	g.write("tenants/team-a.yaml", tenantFile("team-a", "2o", "  limits:\n    default: {cpu: 500m}"))
	h.broken = g.commit("Erin", "Typo")
	g.write("tenants/team-a.yaml", tenantFile("team-a", "16", "  limits:\n    default: {cpu: 500m}"))
	h.fix = g.commit("Erin", "Fix the typo, 16 CPUs")
	g.remove("tenants/team-b.yaml")
	h.removeB = g.commit("Frank", "Remove team-b")
	g.write("defaults.yaml", strings.Replace(defaultsFile, "%s", "64", 1))
	h.defaults = g.commit("Grace", "Raise the CPU cap")
	return h
}

type fileWant struct {
	path, change string
	fields       []string
	errors       int
}

type commitWant struct {
	hash, author string
	files        []fileWant
}

func TestLog(t *testing.T) {
	for _, sub := range []string{"", "platform/tenants"} {
		h := newHistory(t, sub)
		a := []fileWant{{path: "tenants/team-a.yaml", change: Added}}
		tests := []struct {
			name string
			opts Options
			want []commitWant
		}{
			{
				name: "one tenant and the defaults",
				opts: Options{Tenant: "team-a"},
				want: []commitWant{
					{h.defaults, "Grace", []fileWant{{path: "defaults.yaml", change: Modified, fields: []string{"spec.maxQuota.cpu: 32 -> 64"}}}},
					{h.fix, "Erin", []fileWant{{path: "tenants/team-a.yaml", change: Modified, fields: []string{"spec.quota.cpu: 8 -> 16"}}}},
					{h.broken, "Erin", []fileWant{{path: "tenants/team-a.yaml", change: Modified, errors: 1}}},
					{h.raise, "Bob", []fileWant{{path: "tenants/team-a.yaml", change: Modified,
						fields: []string{`spec.limits: added: {"default":{"cpu":"500m"}}`, "spec.quota.cpu: 4 -> 8"}}}},
					{h.create, "Alice", []fileWant{{path: "defaults.yaml", change: Added}, a[0]}},
				},
			},
			{
				name: "every tenant",
				want: []commitWant{
					{h.defaults, "Grace", []fileWant{{path: "defaults.yaml", change: Modified, fields: []string{"spec.maxQuota.cpu: 32 -> 64"}}}},
					{h.removeB, "Frank", []fileWant{{path: "tenants/team-b.yaml", change: Removed}}},
					{h.fix, "Erin", []fileWant{{path: "tenants/team-a.yaml", change: Modified, fields: []string{"spec.quota.cpu: 8 -> 16"}}}},
					{h.broken, "Erin", []fileWant{{path: "tenants/team-a.yaml", change: Modified, errors: 1}}},
					{h.comment, "Dave", []fileWant{{path: "tenants/team-b.yaml", change: Modified}}},
					{h.raise, "Bob", []fileWant{{path: "tenants/team-a.yaml", change: Modified,
						fields: []string{`spec.limits: added: {"default":{"cpu":"500m"}}`, "spec.quota.cpu: 4 -> 8"}}}},
					{h.create, "Alice", []fileWant{{path: "defaults.yaml", change: Added}, a[0], {path: "tenants/team-b.yaml", change: Added}}},
				},
			},
			{
				name: "limit",
				opts: Options{Tenant: "team-b", Limit: 1},
				want: []commitWant{{h.defaults, "Grace", []fileWant{{path: "defaults.yaml", change: Modified, fields: []string{"spec.maxQuota.cpu: 32 -> 64"}}}}},
			},
		}
		for _, tt := range tests {
			t.Run(tt.name+" in /"+sub, func(t *testing.T) {
				tt.opts.Dir = h.g.dir
				commits, err := Log(tt.opts)
				if err != nil {
					t.Fatal(err)
				}
				var got []commitWant
				for _, c := range commits {
					cw := commitWant{hash: c.Hash, author: c.Author}
					for _, f := range c.Files {
						fw := fileWant{path: f.Path, change: f.Change, errors: len(f.Errors)}
						for _, fc := range f.Fields {
							fw.fields = append(fw.fields, fc.String())
						}
						cw.files = append(cw.files, fw)
					}
					got = append(got, cw)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("history:\n got %+v\nwant %+v", got, tt.want)
				}
			})
		}
	}
}

func TestLogDetails(t *testing.T) {
	h := newHistory(t, "")
	commits, err := Log(Options{Dir: h.g.dir, Tenant: "team-a"})
	if err != nil {
		t.Fatal(err)
	}
	raise := commits[3]
	if raise.Message != "Raise team-a's CPU quota\n\nThey run CI now." || raise.Email != "bob@example.com" ||
		!raise.Date.Equal(time.Date(2026, 7, 1, 11, 0, 0, 0, time.UTC)) || raise.Files[0].Tenant != "team-a" {
		t.Fatalf("commit %+v", raise)
	}
	if errs := commits[2].Files[0].Errors; !strings.Contains(errs[0], `tenants/team-a.yaml:9: spec.quota.cpu: invalid quantity "2o"`) {
		t.Fatalf("errors of the broken version: %v", errs)
	}
	if commits[0].Files[0].Tenant != "" {
		t.Fatalf("defaults.yaml has tenant %q", commits[0].Files[0].Tenant)
	}
	rev, err := HeadRevision(h.g.dir)
	if err != nil || rev != "main@sha1:"+h.defaults {
		t.Fatalf("HeadRevision = %q, %v", rev, err)
	}
	if _, err := Log(Options{Dir: t.TempDir()}); err == nil {
		t.Fatal("Log outside a Git repository succeeded")
	}
}

func TestAnnotate(t *testing.T) {
	h := newHistory(t, "")
	at := time.Date(2026, 7, 1, 12, 30, 0, 0, time.UTC)
	rev := func(c string) string { return "main@sha1:" + c }
	tests := []struct {
		name   string
		tenant string
		states map[string]TenantState
		want   map[string]string // commit -> "state" or "state@time", for every file of the commit
	}{
		{
			name:   "applied up to the fix, defaults pending",
			tenant: "team-a",
			states: map[string]TenantState{"team-a": {LastAppliedRevision: rev(h.fix), LastAttemptedRevision: rev(h.fix),
				ContentRevision: rev(h.fix), Ready: metav1.ConditionTrue,
				Events: []Event{{Revision: rev(h.raise), Type: "Normal", Reason: "Progressing", Time: at}}}},
			want: map[string]string{h.defaults: StatePending, h.fix: StateApplied, h.broken: StateApplied,
				h.raise: StateApplied + "@" + at.Format(time.RFC3339), h.create: StateApplied},
		},
		{
			name:   "the broken revision failed",
			tenant: "team-a",
			states: map[string]TenantState{"team-a": {LastAppliedRevision: rev(h.raise), LastAttemptedRevision: rev(h.broken),
				Ready: metav1.ConditionFalse, Message: "tenants/team-a.yaml:9: spec.quota.cpu: invalid quantity"}},
			want: map[string]string{h.defaults: StatePending, h.fix: StatePending, h.broken: StateFailed,
				h.raise: StateApplied, h.create: StateApplied},
		},
		{
			name:   "a revision the repo does not have",
			tenant: "team-a",
			states: map[string]TenantState{"team-a": {LastAppliedRevision: "main@sha1:" + strings.Repeat("f", 40)}},
			want: map[string]string{h.defaults: StateUnknown, h.fix: StateUnknown, h.broken: StateUnknown,
				h.raise: StateUnknown, h.create: StateUnknown},
		},
		{
			name:   "no Tenant on the cluster",
			tenant: "team-a",
			states: map[string]TenantState{},
			want: map[string]string{h.defaults: StateAbsent, h.fix: StateAbsent, h.broken: StateAbsent,
				h.raise: StateAbsent, h.create: StateAbsent},
		},
		{
			name: "every tenant: a removed tenant is gone, defaults partly applied",
			states: map[string]TenantState{"team-a": {LastAppliedRevision: rev(h.defaults)},
				"team-c": {LastAppliedRevision: rev(h.fix)}},
			want: map[string]string{h.defaults: StatePartial, h.removeB: StateApplied, h.fix: StateApplied,
				h.broken: StateApplied, h.comment: StateAbsent, h.raise: StateApplied, h.create: "mixed"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Dir: h.g.dir, Tenant: tt.tenant}
			commits, err := Log(opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := Annotate(opts, commits, tt.states); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, c := range commits {
				for _, f := range c.Files {
					s := f.Applied.State
					if f.Applied.Time != nil {
						s += "@" + f.Applied.Time.Format(time.RFC3339)
					}
					if prev, ok := got[c.Hash]; ok && prev != s {
						s = "mixed"
					}
					got[c.Hash] = s
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("applied:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestWrite(t *testing.T) {
	h := newHistory(t, "")
	opts := Options{Dir: h.g.dir, Tenant: "team-a"}
	commits, err := Log(opts)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 7, 1, 12, 30, 0, 0, time.UTC)
	err = Annotate(opts, commits, map[string]TenantState{"team-a": {LastAppliedRevision: "main@sha1:" + h.fix,
		Events: []Event{{Revision: "main@sha1:" + h.raise, Type: "Normal", Time: at}}}})
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := Write(&text, commits, "text"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"commit " + h.raise[:12] + "  2026-07-01 11:00:00 +0000  Bob <bob@example.com>\n    Raise team-a's CPU quota\n",
		"  tenants/team-a.yaml: tenant team-a modified\n      spec.limits: added: {\"default\":{\"cpu\":\"500m\"}}\n      spec.quota.cpu: 4 -> 8\n" +
			"      cluster: applied at 2026-07-01T12:30:00Z (included in lastAppliedRevision main@sha1:" + h.fix + ")\n",
		"  tenants/team-a.yaml: tenant team-a modified, invalid\n      invalid: tenants/team-a.yaml:9: spec.quota.cpu: invalid quantity",
		"  defaults.yaml: defaults for every tenant modified\n      spec.maxQuota.cpu: 32 -> 64\n      cluster: pending (the cluster is at main@sha1:" + h.fix + ")",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	if err := Write(&js, commits, "json"); err != nil {
		t.Fatal(err)
	}
	var decoded []Commit
	if err := json.Unmarshal(js.Bytes(), &decoded); err != nil {
		t.Fatal(err)
	}
	if len(decoded) != 5 || decoded[3].Files[0].Fields[1] != (plan.FieldChange{Path: "spec.quota.cpu", Old: "4", New: "8"}) ||
		decoded[3].Files[0].Applied.State != StateApplied {
		t.Fatalf("json output:\n%s", js.String())
	}
	if err := Write(&js, nil, "yaml"); err == nil {
		t.Fatal("unknown format accepted")
	}
	text.Reset()
	if err := Write(&text, nil, "text"); err != nil || text.String() != "no changes to tenant files\n" {
		t.Fatalf("empty history: %q %v", text.String(), err)
	}
}

func TestCommitHash(t *testing.T) {
	for in, want := range map[string]string{"main@sha1:abc": "abc", "sha1:def": "def", "v1@sha1:0a": "0a", "": "", "garbage": ""} {
		if got := commitHash(in); got != want {
			t.Errorf("commitHash(%q) = %q, want %q", in, got, want)
		}
	}
}
