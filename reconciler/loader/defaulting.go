package loader

import (
	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
)

// finish turns a valid tenant file into the tenant to apply: it checks what the file
// claims against the repo defaults d (which may be nil), applies them and the built-in
// defaults, resolves the Kubernetes version and records the source path.
func (p *parsedTenant) finish(d *v1alpha1.TenantDefaults) {
	s := &p.tenant.Spec
	typeInFile := s.Expose.Type
	p.checkClaims(d)
	if d != nil {
		applyDefaults(s, &d.Spec.Defaults)
		s.Quota = capMissingQuota(s.Quota, d.Spec.MaxQuota)
		addRequiredPolicies(s, d.Spec.RequiredPolicies)
	}
	applyBuiltinDefaults(s)
	checkControlPlaneFits(p.c, s)
	if typeInFile == "" {
		checkIngressHost(p.c, s, "spec")
	}
	version, err := v1alpha1.ResolveKubernetesVersion(s.KubernetesVersion)
	if err != nil {
		p.c.field("spec.kubernetesVersion", "%s", err.Error())
	}
	s.KubernetesVersion = version
	p.tenant.Status.SourcePath = p.path
}

// checkClaims refuses what the tenant file, as written, may not claim: a protected
// namespace, privileges defaults.yaml does not grant it, a quota above the platform
// maximum, a weakened required policy, ingress hosts outside the platform's domains.
func (p *parsedTenant) checkClaims(d *v1alpha1.TenantDefaults) {
	s := &p.tenant.Spec
	checkProtected(p.c, p.tenant, d)
	checkPrivileges(p.c, fileStem(p.path), s, d)
	if d == nil {
		return
	}
	checkMaxQuota(p.c, "spec.quota", s.Quota, d.Spec.MaxQuota)
	checkRequiredPolicies(p.c, s.Policies, d.Spec.RequiredPolicies)
	checkIngressDomains(p.c, s.Sync.IngressHosts, d.Spec.IngressDomains)
}

// applyDefaults fills the fields s leaves empty from d.
func applyDefaults(s, d *v1alpha1.TenantSpec) {
	s.Quota = mergeQuota(s.Quota, d.Quota)
	s.Limits = mergeLimits(s.Limits, d.Limits)
	setDefault(&s.Network.Isolation, d.Network.Isolation)
	setDefault(&s.KubernetesVersion, d.KubernetesVersion)
	if s.Persistence.Size == nil && d.Persistence.Size != nil {
		size := d.Persistence.Size.DeepCopy()
		s.Persistence.Size = &size
	}
	setDefault(&s.Persistence.StorageClassName, d.Persistence.StorageClassName)
	setDefault(&s.DeletionPolicy, d.DeletionPolicy)
	setDefault(&s.Drift.Mode, d.Drift.Mode)
	setDefault(&s.Expose.Type, d.Expose.Type)
}

// applyBuiltinDefaults fills what neither the tenant nor defaults.yaml set.
func applyBuiltinDefaults(s *v1alpha1.TenantSpec) {
	setDefault(&s.Network.Isolation, v1alpha1.IsolationIsolated)
	setDefault(&s.DeletionPolicy, v1alpha1.DeletionRetain)
	setDefault(&s.Drift.Mode, v1alpha1.DriftCorrect)
	setDefault(&s.Expose.Type, "ClusterIP")
	setDefault(&s.KubernetesVersion, v1alpha1.NewestKubernetesVersion())
}

func setDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}

// mergeResources returns own with the keys it lacks taken from def.
func mergeResources(own, def corev1.ResourceList) corev1.ResourceList {
	if len(def) == 0 {
		return own
	}
	out := make(corev1.ResourceList, len(own)+len(def))
	for name, q := range def {
		out[name] = q.DeepCopy()
	}
	for name, q := range own {
		out[name] = q
	}
	return out
}

// mergeLimits merges each list of the limit range per key.
func mergeLimits(own, def *v1alpha1.Limits) *v1alpha1.Limits {
	if def == nil {
		return own
	}
	if own == nil {
		own = &v1alpha1.Limits{}
	}
	return &v1alpha1.Limits{
		Default:        mergeResources(own.Default, def.Default),
		DefaultRequest: mergeResources(own.DefaultRequest, def.DefaultRequest),
		Max:            mergeResources(own.Max, def.Max),
		Min:            mergeResources(own.Min, def.Min),
	}
}

// addRequiredPolicies appends each required policy whose template the tenant does not list.
func addRequiredPolicies(s *v1alpha1.TenantSpec, required []v1alpha1.Policy) {
	for _, req := range required {
		if !hasTemplate(s.Policies, req.Template) {
			s.Policies = append(s.Policies, copyPolicy(req))
		}
	}
}

func hasTemplate(policies []v1alpha1.Policy, template string) bool {
	for _, p := range policies {
		if p.Template == template {
			return true
		}
	}
	return false
}

func copyPolicy(p v1alpha1.Policy) v1alpha1.Policy {
	p.Parameters = p.Parameters.DeepCopy()
	return p
}
