package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/status"
)

func newStatusCommand() *cobra.Command {
	var kubeconfig, agentNamespace, output string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "List the host cluster's Tenants: readiness, applied revision, drift, endpoint",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStatus(cmd.Context(), cmd.OutOrStdout(), kubeconfig, agentNamespace, output)
		},
	}
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the host cluster (default in-cluster, then $KUBECONFIG)")
	cmd.Flags().StringVar(&agentNamespace, "agent-namespace", status.DefaultAgentNamespace, "the agent's namespace, where it records the revision of each pass")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table, json or yaml")
	return cmd
}

// tenantStatus is one row of `tenantry status`.
type tenantStatus struct {
	Name string `json:"name"`
	// Ready is the Ready condition's status: True, False or Unknown.
	Ready    string `json:"ready"`
	Reason   string `json:"reason,omitempty"`
	Revision string `json:"revision,omitempty"`
	// ContentRevision is the revision the tenant's objects are stamped with.
	ContentRevision string                `json:"contentRevision,omitempty"`
	Drift           *v1alpha1.DriftRecord `json:"drift,omitempty"`
	// Endpoint is how the tenant's API server is exposed (spec.expose); "-" when unset.
	Endpoint string `json:"endpoint"`
	Paused   bool   `json:"paused"`
	// ControlPlane is what the tenant's virtual control plane takes of its quota.
	ControlPlane controlPlaneCost `json:"controlPlane"`
	Message      string           `json:"message,omitempty"`
}

// controlPlaneCost is what a tenant pays for its virtual control plane, out of its own
// quota: the container's requests and limits and the data volume (none while paused).
type controlPlaneCost struct {
	Requests corev1.ResourceList `json:"requests,omitempty"`
	Limits   corev1.ResourceList `json:"limits,omitempty"`
	Storage  string              `json:"storage,omitempty"`
	Ready    bool                `json:"ready"`
}

func costOf(t *v1alpha1.Tenant) controlPlaneCost {
	cost := controlPlaneCost{Ready: t.Status.ControlPlane != nil && t.Status.ControlPlane.Ready}
	if t.Spec.Paused {
		return cost
	}
	cost.Requests, cost.Limits = v1alpha1.ControlPlaneResources.Requests, v1alpha1.ControlPlaneResources.Limits
	if s := t.Spec.Persistence.Size; s != nil && !s.IsZero() {
		cost.Storage = s.String()
	}
	return cost
}

// String is the table form: "cpu 200m, memory 512Mi, 5Gi volume".
func (c controlPlaneCost) String() string {
	if len(c.Requests) == 0 {
		return "none (paused)"
	}
	s := fmt.Sprintf("cpu %s, memory %s", c.Requests.Cpu(), c.Requests.Memory())
	if c.Storage != "" {
		s += ", " + c.Storage + " volume"
	}
	return s
}

func runStatus(ctx context.Context, out io.Writer, kubeconfig, agentNamespace, output string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if output != "table" && output != "json" && output != "yaml" {
		return fmt.Errorf("unknown output %q (table, json or yaml)", output)
	}
	c, err := hostClient(kubeconfig)
	if err != nil {
		return err
	}
	tenants, err := status.ListTenants(ctx, c)
	if err != nil {
		return err
	}
	applied := status.AppliedRevisions(ctx, c, agentNamespace, tenants)
	rows := make([]tenantStatus, 0, len(tenants))
	for i := range tenants {
		rows = append(rows, statusRow(&tenants[i], applied[tenants[i].Name]))
	}
	return writeStatus(out, rows, output)
}

// statusRow is a Tenant's row; applied is the revision it applied (status.AppliedRevision).
func statusRow(t *v1alpha1.Tenant, applied string) tenantStatus {
	row := tenantStatus{Name: t.Name, Ready: "Unknown", Revision: applied,
		ContentRevision: t.Status.ContentRevision, Drift: t.Status.LastDrift, Endpoint: endpoint(t.Spec.Expose), Paused: t.Spec.Paused,
		ControlPlane: costOf(t)}
	if c := apimeta.FindStatusCondition(t.Status.Conditions, v1alpha1.ConditionReady); c != nil {
		row.Ready, row.Reason, row.Message = string(c.Status), c.Reason, c.Message
	}
	return row
}

// endpoint describes spec.expose. The virtual clusters do not exist yet, so this is how the
// tenant will be reached, not an address.
func endpoint(e v1alpha1.Expose) string {
	switch {
	case e.Type == "":
		return "-"
	case e.Host != "":
		return e.Type + " " + e.Host
	}
	return e.Type
}

func writeStatus(out io.Writer, rows []tenantStatus, output string) error {
	switch output {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			return fmt.Errorf("encoding the status: %w", err)
		}
		return nil
	case "yaml":
		data, err := yaml.Marshal(rows)
		if err != nil {
			return fmt.Errorf("encoding the status: %w", err)
		}
		_, err = out.Write(data)
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tREADY\tREVISION\tDRIFT\tENDPOINT\tPAUSED\tCONTROL PLANE\tMESSAGE")
	for _, r := range rows {
		drift := "-"
		if r.Drift != nil && r.Drift.Summary != "" {
			drift = r.Drift.Summary
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%t\t%s\t%s\n", r.Name, r.Ready, dash(shortRevision(r.Revision)), drift, r.Endpoint, r.Paused, r.ControlPlane, dash(firstLine(r.Message)))
	}
	return tw.Flush()
}

// shortRevision shortens "main@sha1:<40 hex>" to 12 hex digits.
func shortRevision(rev string) string {
	if i := strings.LastIndex(rev, "sha1:"); i >= 0 && len(rev) > i+5+12 {
		return rev[:i+5+12]
	}
	return rev
}

// firstLine keeps the first line of a multi-line message, noting how many lines follow.
func firstLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 1 {
		return fmt.Sprintf("%s (+%d more line(s))", lines[0], len(lines)-1)
	}
	return lines[0]
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
