package agent_test

import (
	"context"
	"fmt"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/charts"
	"github.com/tenantry/tenantry/reconciler"
)

// attempt is one request the chart's identity must not be allowed, and how to check
// afterwards (as admin) that the host did not change.
type attempt struct {
	name      string
	do        func(c client.Client, dry bool) error
	unchanged func(admin client.Client) error
}

// TestAgentChartRBACRefusesWhatItDoesNotNeed installs charts/tenantry's RBAC and
// agent-scope policy and, as the agent's ServiceAccount, tries what a compromised agent
// would: read Secrets, run pods, create or bind powerful roles, grant itself its
// tenant-namespace role outside tenant namespaces, change other CRDs and protected
// namespaces. Every request goes to the real API server; each must be refused, and the
// host must be as before. Positive controls show the identity works at all.
func TestAgentChartRBACRefusesWhatItDoesNotNeed(t *testing.T) {
	agentNS := host.NewNamespace(t)
	objs, err := charts.Render(charts.Tenantry, charts.Release{Name: "tenantry-refusal", Namespace: agentNS}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, reconciler.Options{})
	applyRBAC(t, e, objs, agentNS)
	admin := e.Agent.Client()
	other := host.NewNamespace(t) // exists, not a tenant namespace
	widget := refusalCRD(t, admin)
	cfg, err := host.ConfigFor("system:serviceaccount:" + agentNS + ":tenantry-refusal")
	if err != nil {
		t.Fatal(err)
	}
	agent, err := client.New(cfg, client.Options{Scheme: clientgoscheme.Scheme})
	if err != nil {
		t.Fatal(err)
	}

	// Positive controls: the identity is bound, and may do what it needs.
	eventually(t, "the chart's identity to patch the Tenant CRD (dry-run)", func() (bool, error) {
		crd := &unstructured.Unstructured{}
		crd.SetGroupVersionKind(refusalCRDGVK)
		crd.SetName("tenants.tenantry.dev")
		err := agent.Patch(ctx, crd, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"probe":"x"}}}`)), client.DryRunAll)
		return err == nil, nil
	})
	if err := agent.Create(ctx, refusalRB(other, "ok-binding", "ClusterRole", "tenantry-vcluster-syncer"), client.DryRunAll); err != nil {
		t.Fatalf("binding the syncer role in an ordinary namespace (dry-run): %v", err)
	}

	attempts := []attempt{
		{"read a Secret in kube-system", func(c client.Client, _ bool) error {
			return c.Get(ctx, client.ObjectKey{Namespace: "kube-system", Name: "any"}, refusalObj("v1", "Secret"))
		}, nil},
		{"list Secrets cluster-wide", func(c client.Client, _ bool) error {
			return c.List(ctx, refusalList("v1", "SecretList"))
		}, nil},
		{"list Secrets in a non-tenant namespace", func(c client.Client, _ bool) error {
			return c.List(ctx, refusalList("v1", "SecretList"), client.InNamespace(other))
		}, nil},
		{"create a pod in default", func(c client.Client, dry bool) error {
			return c.Create(ctx, refusalPod("default", "agent-pod"), refusalCreateDry(dry)...)
		}, hostLacks("v1", "Pod", "default", "agent-pod")},
		{"delete pods in a non-tenant namespace", func(c client.Client, _ bool) error {
			return c.DeleteAllOf(ctx, refusalObj("v1", "Pod"), client.InNamespace(other))
		}, nil},
		{"create a StatefulSet in a non-tenant namespace", func(c client.Client, dry bool) error {
			sts := refusalObj("apps/v1", "StatefulSet")
			sts.SetNamespace(other)
			sts.SetName("agent-sts")
			return c.Create(ctx, sts, refusalCreateDry(dry)...)
		}, hostLacks("apps/v1", "StatefulSet", other, "agent-sts")},
		{"create a ClusterRole", func(c client.Client, dry bool) error {
			cr := refusalObj("rbac.authorization.k8s.io/v1", "ClusterRole")
			cr.SetName("agent-made-role")
			return c.Create(ctx, cr, refusalCreateDry(dry)...)
		}, hostLacks("rbac.authorization.k8s.io/v1", "ClusterRole", "", "agent-made-role")},
		{"escalate its own tenant role", func(c client.Client, dry bool) error {
			cr := refusalObj("rbac.authorization.k8s.io/v1", "ClusterRole")
			cr.SetName(charts.AgentTenantRole)
			_ = unstructured.SetNestedSlice(cr.Object, []any{map[string]any{"apiGroups": []any{"*"}, "resources": []any{"*"}, "verbs": []any{"*"}}}, "rules")
			opts := []client.ApplyOption{client.FieldOwner("agent"), client.ForceOwnership}
			if dry {
				opts = append(opts, client.DryRunAll)
			}
			return c.Apply(ctx, client.ApplyConfigurationFromUnstructured(cr), opts...)
		}, nil},
		{"bind cluster-admin cluster-wide", func(c client.Client, dry bool) error {
			return c.Create(ctx, refusalCRB("agent-admin", "cluster-admin", agentNS), refusalCreateDry(dry)...)
		}, hostLacks("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", "agent-admin")},
		{"bind cluster-admin in a namespace", func(c client.Client, dry bool) error {
			return c.Create(ctx, refusalRB(other, "agent-admin", "ClusterRole", "cluster-admin"), refusalCreateDry(dry)...)
		}, hostLacks("rbac.authorization.k8s.io/v1", "RoleBinding", other, "agent-admin")},
		{"bind its tenant role to itself in kube-system", func(c client.Client, dry bool) error {
			return c.Create(ctx, refusalRB("kube-system", "agent-self", "ClusterRole", charts.AgentTenantRole), refusalCreateDry(dry)...)
		}, hostLacks("rbac.authorization.k8s.io/v1", "RoleBinding", "kube-system", "agent-self")},
		{"bind its tenant role to itself cluster-wide", func(c client.Client, dry bool) error {
			return c.Create(ctx, refusalCRB("agent-self", charts.AgentTenantRole, agentNS), refusalCreateDry(dry)...)
		}, hostLacks("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", "agent-self")},
		{"update another CRD", func(c client.Client, dry bool) error {
			return c.Patch(ctx, widget, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"owned":"agent"}}}`)), refusalPatchDry(dry)...)
		}, hostLabelUnset(refusalCRDGVK.GroupVersion().String(), "CustomResourceDefinition", "", widget.GetName(), "owned")},
		{"patch kube-system's labels", func(c client.Client, dry bool) error {
			ns := refusalObj("v1", "Namespace")
			ns.SetName("kube-system")
			return c.Patch(ctx, ns, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"privileged"}}}`)), refusalPatchDry(dry)...)
		}, hostLabelUnset("v1", "Namespace", "", "kube-system", "pod-security.kubernetes.io/enforce")},
		{"delete a namespace tenantry did not create", func(c client.Client, dry bool) error {
			ns := refusalObj("v1", "Namespace")
			ns.SetName(other)
			return c.Delete(ctx, ns, refusalDeleteDry(dry)...)
		}, hostKeeps("v1", "Namespace", "", other)},
		{"delete the agent's own namespace", func(c client.Client, dry bool) error {
			ns := refusalObj("v1", "Namespace")
			ns.SetName(agentNS)
			return c.Delete(ctx, ns, refusalDeleteDry(dry)...)
		}, hostKeeps("v1", "Namespace", "", agentNS)},
	}
	for _, a := range attempts {
		t.Run(a.name, func(t *testing.T) {
			// The admission policy is compiled asynchronously: wait, with dry-runs only,
			// until the request is refused, then send it for real.
			eventually(t, a.name+" refused", func() (bool, error) {
				return apierrors.IsForbidden(a.do(agent, true)), nil
			})
			if err := a.do(agent, false); !apierrors.IsForbidden(err) {
				t.Fatalf("as the agent: %v, want Forbidden", err)
			}
			if a.unchanged != nil {
				if err := a.unchanged(admin); err != nil {
					t.Fatalf("the host changed: %v", err)
				}
			}
		})
	}
}

var refusalCRDGVK = schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}

// refusalCRD creates (as admin) a CRD that is not tenantry's, removed when the test ends.
func refusalCRD(t *testing.T, admin client.Client) *unstructured.Unstructured {
	t.Helper()
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "widgets.refusal.example.com"},
		"spec": map[string]any{
			"group": "refusal.example.com", "scope": "Namespaced",
			"names": map[string]any{"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
			"versions": []any{map[string]any{"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}},
		},
	}}
	if err := admin.Create(ctx, crd); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Delete(context.Background(), crd) })
	return crd
}

func refusalObj(apiVersion, kind string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	return u
}

func refusalList(apiVersion, kind string) *unstructured.UnstructuredList {
	l := &unstructured.UnstructuredList{}
	l.SetAPIVersion(apiVersion)
	l.SetKind(kind)
	return l
}

func refusalPod(ns, name string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     map[string]any{"containers": []any{map[string]any{"name": "c", "image": "pause"}}},
	}}
}

func refusalRB(ns, name, kind, role string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
		"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": "default", "namespace": ns}},
	}}
}

func refusalCRB(name, role, saNS string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
		"metadata": map[string]any{"name": name},
		"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
		"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": "default", "namespace": saNS}},
	}}
}

func refusalCreateDry(dry bool) []client.CreateOption {
	if dry {
		return []client.CreateOption{client.DryRunAll}
	}
	return nil
}

func refusalPatchDry(dry bool) []client.PatchOption {
	if dry {
		return []client.PatchOption{client.DryRunAll}
	}
	return nil
}

func refusalDeleteDry(dry bool) []client.DeleteOption {
	if dry {
		return []client.DeleteOption{client.DryRunAll}
	}
	return nil
}

func refusalGet(admin client.Client, apiVersion, kind, ns, name string) (*unstructured.Unstructured, error) {
	u := refusalObj(apiVersion, kind)
	err := admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u)
	return u, err
}

// hostLacks checks that the object was not created.
func hostLacks(apiVersion, kind, ns, name string) func(client.Client) error {
	return func(admin client.Client) error {
		_, err := refusalGet(admin, apiVersion, kind, ns, name)
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("%s %s/%s: %w, want not found", kind, ns, name, err)
	}
}

// hostKeeps checks that the object is still there and not being deleted.
func hostKeeps(apiVersion, kind, ns, name string) func(client.Client) error {
	return func(admin client.Client) error {
		u, err := refusalGet(admin, apiVersion, kind, ns, name)
		if err != nil {
			return err
		}
		if u.GetDeletionTimestamp() != nil {
			return fmt.Errorf("%s %s is being deleted", kind, name)
		}
		return nil
	}
}

// hostLabelUnset checks that the object does not carry the label the attempt tried to set
// (or kept the value it had: kube-system has no Pod Security label in the test bed).
func hostLabelUnset(apiVersion, kind, ns, name, label string) func(client.Client) error {
	return func(admin client.Client) error {
		u, err := refusalGet(admin, apiVersion, kind, ns, name)
		if err != nil {
			return err
		}
		if v, ok := u.GetLabels()[label]; ok {
			return fmt.Errorf("%s %s has label %s=%s", kind, name, label, v)
		}
		return nil
	}
}
