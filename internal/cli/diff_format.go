package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/tenantry/tenantry/reconciler/plan"
)

// planWriters print a plan in each --output format of `tenantry diff`.
var planWriters = map[string]func(io.Writer, *plan.Plan) error{
	"text":     writePlanText,
	"markdown": writePlanMarkdown,
	"json":     writePlanJSON,
}

// planCounts summarises a plan.
type planCounts struct {
	added, changed, removed, unchanged, invalid, failed int
	create, configure, stamped, del, templates          int
}

func countPlan(p *plan.Plan) planCounts {
	var n planCounts
	for i := range p.Tenants {
		t := &p.Tenants[i]
		switch {
		case t.Error != "":
			n.failed++
		case t.New:
			n.added++
		case t.Changed():
			n.changed++
		default:
			n.unchanged++
		}
		for _, o := range t.Objects {
			if !o.Changes() {
				continue
			}
			switch {
			case o.Action == plan.ActionCreate:
				n.create++
			case o.Action == plan.ActionDelete:
				n.del++
			case o.StampOnly:
				n.stamped++
			default:
				n.configure++
			}
		}
	}
	for _, o := range p.Templates {
		if o.Changes() {
			n.templates++
		}
	}
	for _, r := range p.Removed {
		if r.HeldBack == "" {
			n.removed++
		}
	}
	n.invalid = len(p.Invalid)
	return n
}

func (n planCounts) String() string {
	s := fmt.Sprintf("%d tenant(s) added, %d changed, %d removed, %d unchanged, %d invalid", n.added, n.changed, n.removed, n.unchanged, n.invalid)
	if n.failed > 0 {
		s += fmt.Sprintf(", %d failed to plan", n.failed)
	}
	s += fmt.Sprintf("; objects: %d to create, %d to configure", n.create, n.configure)
	if n.stamped > 0 {
		s += fmt.Sprintf(" (and %d re-stamped with the new revision)", n.stamped)
	}
	s += fmt.Sprintf(", %d to delete", n.del)
	if n.templates > 0 {
		s += fmt.Sprintf("; %d ConstraintTemplate(s) and shared constraint(s) to apply", n.templates)
	}
	return s
}

func writePlanJSON(w io.Writer, p *plan.Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		*plan.Plan
		Changed bool `json:"changed"`
		Failed  bool `json:"failed"`
	}{p, p.Changed(), p.Failed()})
}

// symbol marks an object action in text output.
func symbol(o plan.ObjectChange) string {
	switch o.Action {
	case plan.ActionCreate:
		return "+"
	case plan.ActionDelete:
		return "-"
	case plan.ActionConfigure:
		return "~"
	}
	return "="
}

// note explains an object change that is special: drift, held back.
func note(o plan.ObjectChange) string {
	switch {
	case o.Action == plan.ActionDelete && o.HeldBack:
		return "prune held back"
	case o.Action == plan.ActionDelete:
		return "prune"
	case o.Drift == plan.DriftCheck:
		return "drift; not from this revision: the agent's drift check corrects it"
	case o.Drift == plan.DriftDetectOnly:
		return "drift; detect-only: reported, left as is"
	case o.Drift != "" && o.Action == plan.ActionCreate:
		return "drift: deleted on the cluster; recreated"
	case o.Drift != "":
		return "drift; corrected"
	}
	return ""
}

// noChanges reports whether the plan's revision changes nothing and nothing is wrong.
func noChanges(p *plan.Plan) bool {
	return !p.Changed() && !p.Failed() && p.HeldBack == ""
}

func writePlanText(w io.Writer, p *plan.Plan) error {
	quiet := noChanges(p)
	if quiet {
		fmt.Fprintf(w, "no changes: the host cluster matches %s (%d tenant(s))\n", p.Revision, len(p.Tenants))
	} else {
		fmt.Fprintf(w, "revision %s\n", p.Revision)
	}
	if changes := changedObjects(p.Templates); len(changes) > 0 {
		fmt.Fprintln(w, "\n~ ConstraintTemplates and shared constraints (applied before the tenants)")
		writeObjectsText(w, changes)
	}
	var unchanged []string
	for i := range p.Tenants {
		t := &p.Tenants[i]
		shown := changedObjects(t.Objects)
		switch {
		case t.Error != "":
			fmt.Fprintf(w, "\n! tenant %s (%s): %s\n", t.Name, t.Source, t.Error)
		case t.New:
			fmt.Fprintf(w, "\n+ tenant %s (%s): new%s\n", t.Name, t.Source, pausedNote(t))
		case t.Changed():
			fmt.Fprintf(w, "\n~ tenant %s (%s)%s\n", t.Name, t.Source, pausedNote(t))
		case len(shown) > 0:
			fmt.Fprintf(w, "\n= tenant %s (%s): no change from this revision, but:\n", t.Name, t.Source)
		default:
			unchanged = append(unchanged, t.Name)
			continue
		}
		writeObjectsText(w, shown)
	}
	for _, r := range p.Removed {
		fmt.Fprintf(w, "\n- tenant %s: file removed; %s\n", r.Name, removalText(r))
	}
	for _, f := range p.Invalid {
		fmt.Fprintf(w, "\n! %s is invalid (the agent marks its Tenant Stalled and leaves its objects alone):\n", f.Path)
		for _, e := range f.Errors {
			fmt.Fprintf(w, "    %s\n", e)
		}
	}
	if p.HeldBack != "" {
		fmt.Fprintf(w, "\n! pruning and tenant removal held back: %s\n", p.HeldBack)
	}
	if quiet {
		return nil
	}
	if len(unchanged) > 0 {
		fmt.Fprintf(w, "\nunchanged: %s\n", strings.Join(unchanged, ", "))
	}
	fmt.Fprintf(w, "\n%s\n", countPlan(p))
	return nil
}

func pausedNote(t *plan.TenantPlan) string {
	if t.Paused {
		return " (paused: only the Tenant object is applied)"
	}
	return ""
}

// changedObjects keeps the objects that change, and the held-back or uncorrected ones
// worth showing.
func changedObjects(objs []plan.ObjectChange) []plan.ObjectChange {
	var out []plan.ObjectChange
	for _, o := range objs {
		if o.Action != plan.ActionUnchanged {
			out = append(out, o)
		}
	}
	return out
}

func writeObjectsText(w io.Writer, objs []plan.ObjectChange) {
	var stamped []string
	for _, o := range objs {
		if o.StampOnly && o.Drift == "" {
			stamped = append(stamped, o.Object)
			continue
		}
		line := "    " + symbol(o) + " " + o.Object
		if n := note(o); n != "" {
			line += " (" + n + ")"
		}
		fmt.Fprintln(w, line)
		for _, f := range o.Fields {
			fmt.Fprintf(w, "        %s\n", f.String())
		}
	}
	if len(stamped) > 0 {
		fmt.Fprintf(w, "    ~ %d more object(s) only re-stamped with the new revision: %s\n", len(stamped), strings.Join(stamped, ", "))
	}
}

func removalText(r plan.RemovedTenant) string {
	var s string
	if r.DeletionPolicy == "Delete" {
		s = fmt.Sprintf("deletionPolicy Delete: the Tenant and its %d object(s) are deleted, the namespace and its data included", len(r.Delete))
	} else {
		s = fmt.Sprintf("deletionPolicy %s: the Tenant is removed; its %d object(s) are kept, namespaces annotated tenantry.dev/orphaned", r.DeletionPolicy, len(r.Retain))
	}
	if r.HeldBack != "" {
		s += "; HELD BACK: " + r.HeldBack
	}
	return s
}

func writePlanMarkdown(w io.Writer, p *plan.Plan) error {
	fmt.Fprintf(w, "### tenantry diff for `%s`\n\n", p.Revision)
	if noChanges(p) {
		fmt.Fprintf(w, "No changes: the host cluster matches this revision (%d tenant(s)).\n", len(p.Tenants))
	} else {
		fmt.Fprintf(w, "%s.\n", countPlan(p))
	}
	fmt.Fprintln(w)
	if p.HeldBack != "" {
		fmt.Fprintf(w, "> [!WARNING]\n> Pruning and tenant removal held back: %s\n\n", mdEscape(p.HeldBack))
	}
	if len(p.Invalid) > 0 {
		fmt.Fprintln(w, "#### Invalid files")
		fmt.Fprintln(w)
		for _, f := range p.Invalid {
			for _, e := range f.Errors {
				fmt.Fprintf(w, "- `%s`\n", e)
			}
		}
		fmt.Fprintln(w)
	}
	rows, unchanged := markdownRows(p)
	if len(rows) > 0 {
		fmt.Fprintln(w, "| Tenant | Action | Object | Details |")
		fmt.Fprintln(w, "|---|---|---|---|")
		for _, r := range rows {
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r[0], r[1], r[2], strings.ReplaceAll(r[3], "|", `\|`))
		}
		fmt.Fprintln(w)
	}
	if len(unchanged) > 0 && !noChanges(p) {
		fmt.Fprintf(w, "Unchanged: %s\n", strings.Join(unchanged, ", "))
	}
	return nil
}

// markdownRows lists one table row per object that changes or needs attention, and the
// tenants with nothing to show.
func markdownRows(p *plan.Plan) ([][4]string, []string) {
	var rows [][4]string
	add := func(tenant string, o plan.ObjectChange) {
		var details []string
		if n := note(o); n != "" {
			details = append(details, n)
		}
		for _, f := range o.Fields {
			details = append(details, "`"+f.String()+"`")
		}
		rows = append(rows, [4]string{tenant, o.Action, "`" + o.Object + "`", strings.Join(details, "<br>")})
	}
	for _, o := range changedObjects(p.Templates) {
		add("(templates)", o)
	}
	var unchanged []string
	for i := range p.Tenants {
		t := &p.Tenants[i]
		name := "`" + t.Name + "`"
		shown := changedObjects(t.Objects)
		switch {
		case t.Error != "":
			rows = append(rows, [4]string{name, "error", "`" + t.Source + "`", mdEscape(t.Error)})
			continue
		case t.New:
			name += " (new)"
		case len(shown) == 0:
			unchanged = append(unchanged, name)
			continue
		}
		var stamped int
		for _, o := range shown {
			if o.StampOnly && o.Drift == "" {
				stamped++
				continue
			}
			add(name, o)
		}
		if stamped > 0 {
			rows = append(rows, [4]string{name, "configure", fmt.Sprintf("%d more object(s)", stamped), "revision annotation only"})
		}
	}
	for _, r := range p.Removed {
		rows = append(rows, [4]string{"`" + r.Name + "` (removed)", "remove", "`Tenant/" + r.Name + "`", mdEscape(removalText(r))})
	}
	return rows, unchanged
}

// mdEscape makes text safe in a table cell or a quote; the table writer escapes pipes.
func mdEscape(s string) string {
	return strings.NewReplacer("\n", "<br>", "<", "&lt;", ">", "&gt;").Replace(s)
}
