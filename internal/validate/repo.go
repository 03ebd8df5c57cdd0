package validate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/policy"
	"github.com/tenantry/tenantry/reconciler/loader"
	"github.com/tenantry/tenantry/reconciler/render"
)

// repoContext is what a repo validation learned, reused to check manifests.
type repoContext struct {
	dir       string
	repo      *loader.Repo
	templates map[string]*unstructured.Unstructured // by constraint kind
}

// Repo validates the tenants repo at dir: schema and uniqueness (the loader), policy
// references and parameters, and the meta-policies of policies/meta/ against every Tenant.
// The error is for a repo that cannot be read at all.
func Repo(ctx context.Context, dir string) (*Report, error) {
	repo, err := loader.Load(dir)
	if err != nil {
		return nil, err
	}
	templates, err := templatesOf(repo.Policies)
	if err != nil {
		return nil, err
	}
	r := &Report{ctx: &repoContext{dir: dir, repo: repo, templates: templates}}
	for _, f := range repo.Failed {
		for _, fe := range f.Errors {
			r.add(Finding{File: fe.Path, Line: fe.Line, Field: fe.Field, Tenant: f.Name, Severity: SeverityError, Message: fe.Msg})
		}
	}
	for _, t := range repo.Tenants {
		r.checkPolicies(t)
	}
	r.checkAdoptions()
	if err := r.checkMeta(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// templatesOf returns tenantry's library overridden by the repo's policies/, by kind,
// exactly as the agent collects them.
func templatesOf(docs []loader.Document) (map[string]*unstructured.Unstructured, error) {
	lib, err := policy.Library()
	if err != nil {
		return nil, err
	}
	return render.TemplatesByKind(lib, docs)
}

// checkPolicies checks that a tenant's policies name known templates with valid parameters.
func (r *Report) checkPolicies(t *v1alpha1.Tenant) {
	path := t.Status.SourcePath
	for i, p := range t.Spec.Policies {
		field := fmt.Sprintf("spec.policies[%d]", i)
		line := lineOf(r.ctx.dir, path, "spec", "policies", strconv.Itoa(i))
		tmpl, ok := r.ctx.templates[p.Template]
		if !ok {
			r.add(Finding{File: path, Line: line, Field: field + ".template", Tenant: t.Name, Severity: SeverityError,
				Message: fmt.Sprintf("no ConstraintTemplate of kind %q in the library or policies/", p.Template)})
			continue
		}
		params := map[string]any{}
		if p.Parameters != nil && len(p.Parameters.Raw) > 0 {
			if err := json.Unmarshal(p.Parameters.Raw, &params); err != nil {
				r.add(Finding{File: path, Line: line, Field: field + ".parameters", Tenant: t.Name, Severity: SeverityError, Message: err.Error()})
				continue
			}
		}
		if err := policy.ValidateParameters(tmpl, params); err != nil {
			r.add(Finding{File: path, Line: line, Field: field + ".parameters", Tenant: t.Name, Severity: SeverityError, Message: err.Error()})
		}
	}
}

// checkMeta evaluates the meta-policies against every valid Tenant object.
func (r *Report) checkMeta(ctx context.Context) error {
	var templates, constraints []*unstructured.Unstructured
	for _, d := range r.ctx.repo.MetaPolicies {
		objs, err := decodeDocuments(d.Data)
		if err != nil {
			return fmt.Errorf("%s: %w", d.Path, err)
		}
		for _, o := range objs {
			if o.obj.GetKind() == "ConstraintTemplate" {
				templates = append(templates, o.obj)
			} else {
				constraints = append(constraints, o.obj)
			}
		}
	}
	if len(constraints) == 0 {
		return nil
	}
	engine, err := policy.NewEngine(ctx, templates)
	if err != nil {
		return fmt.Errorf("%s: %w", loader.MetaPoliciesDir, err)
	}
	for _, c := range constraints {
		if err := engine.AddConstraint(ctx, c); err != nil {
			return fmt.Errorf("%s: constraint %s: %w", loader.MetaPoliciesDir, c.GetName(), err)
		}
	}
	for _, t := range r.ctx.repo.Tenants {
		if err := r.reviewTenant(ctx, engine, t); err != nil {
			return err
		}
	}
	return nil
}

func (r *Report) reviewTenant(ctx context.Context, engine *policy.Engine, t *v1alpha1.Tenant) error {
	obj, err := tenantObject(t)
	if err != nil {
		return err
	}
	violations, err := engine.Review(ctx, obj)
	if err != nil {
		return fmt.Errorf("reviewing tenant %s: %w", t.Name, err)
	}
	for _, v := range violations {
		r.add(Finding{File: t.Status.SourcePath, Line: r.lineForMessage(t.Status.SourcePath, v.Message), Tenant: t.Name,
			Constraint: v.Constraint, Severity: severity(v.EnforcementAction), Message: v.Message})
	}
	return nil
}

// tenantObject is the Tenant as meta-policies see it: the file's spec with defaults applied.
func tenantObject(t *v1alpha1.Tenant) (*unstructured.Unstructured, error) {
	data, err := json.Marshal(struct {
		APIVersion string              `json:"apiVersion"`
		Kind       string              `json:"kind"`
		Metadata   map[string]any      `json:"metadata"`
		Spec       v1alpha1.TenantSpec `json:"spec"`
	}{v1alpha1.APIVersion, v1alpha1.Kind, map[string]any{"name": t.Name, "labels": t.Labels}, t.Spec})
	if err != nil {
		return nil, fmt.Errorf("encoding tenant %s: %w", t.Name, err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("decoding tenant %s: %w", t.Name, err)
	}
	return u, nil
}

var fieldInMessage = regexp.MustCompile(`spec(\.[A-Za-z0-9_-]+)+`)

// lineForMessage finds the line of a spec field named in a violation message, else of metadata.name.
func (r *Report) lineForMessage(path, msg string) int {
	if m := fieldInMessage.FindString(msg); m != "" {
		if line := lineOf(r.ctx.dir, path, splitDots(m)...); line > 0 {
			return line
		}
	}
	return lineOf(r.ctx.dir, path, "metadata", "name")
}

func severity(action string) string {
	switch action {
	case "warn", "dryrun":
		return SeverityWarning
	}
	return SeverityViolation
}

var errNoTenant = errors.New("no such tenant")

func (c *repoContext) tenant(name string) (*v1alpha1.Tenant, error) {
	for _, t := range c.repo.Tenants {
		if t.Name == name {
			return t, nil
		}
	}
	return nil, fmt.Errorf("%w %q among the valid tenants of %s", errNoTenant, name, filepath.Clean(c.dir))
}
