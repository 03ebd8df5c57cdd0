package reconciler

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// defaultServiceCIDRName is the ServiceCIDR the host API server creates from its
// --service-cluster-ip-range flag.
const defaultServiceCIDRName = "kubernetes"

// ErrServiceCIDRMismatch is returned at start when --service-cidr names another range than
// the host's: every tenant Service would be refused by the host.
var ErrServiceCIDRMismatch = errors.New("the configured service CIDR differs from the host's")

// resolveServiceCIDR reads the host's service CIDRs once, for the virtual API servers,
// which must allocate ClusterIPs from the same range so a Service keeps its IP on both
// sides. The configured range (the --service-cidr flag) is an override used when
// discovery fails; when both are known and differ, it is an error at start, not a refusal
// at the tenant's first Service. Without virtual clusters there is nothing to resolve.
func (h *hostFacts) resolveServiceCIDR(ctx context.Context, c client.Client, virtualClusters bool) error {
	if !virtualClusters {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.serviceCIDRResolved {
		return nil
	}
	log := logr.FromContextOrDiscard(ctx)
	override := h.serviceCIDR
	found, err := ServiceCIDRs(ctx, c)
	switch {
	case err != nil && override == "":
		return fmt.Errorf("discovering the host's service CIDR (set --service-cidr to the host's --service-cluster-ip-range): %w", err)
	case err != nil:
		log.Info("could not discover the host's service CIDR; using --service-cidr", "serviceCIDR", override, "error", err.Error())
		found = override
	case override != "" && !sameCIDRs(override, found):
		return fmt.Errorf("%w: --service-cidr %s, host %s", ErrServiceCIDRMismatch, override, found)
	default:
		log.Info("host service CIDR discovered", "serviceCIDR", found)
	}
	h.serviceCIDR, h.serviceCIDRResolved = found, true
	return nil
}

// ServiceCIDRs returns the host's service CIDRs as the API server's flag writes them
// ("10.96.0.0/16" or "10.96.0.0/16,fd00::/108"): from the networking.k8s.io/v1
// ServiceCIDR API (Kubernetes 1.33+), else from the range an out-of-range ClusterIP
// is refused with (older hosts).
func ServiceCIDRs(ctx context.Context, c client.Client) (string, error) {
	cidrs, err := serviceCIDRsFromAPI(ctx, c)
	if err == nil {
		return cidrs, nil
	}
	legacy, lerr := serviceCIDRFromRefusal(ctx, c)
	if lerr != nil {
		return "", errors.Join(err, lerr)
	}
	return legacy, nil
}

func serviceCIDRsFromAPI(ctx context.Context, c client.Client) (string, error) {
	var def networkingv1.ServiceCIDR
	err := c.Get(ctx, client.ObjectKey{Name: defaultServiceCIDRName}, &def)
	if err == nil && len(def.Spec.CIDRs) > 0 {
		return strings.Join(def.Spec.CIDRs, ","), nil
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return "", fmt.Errorf("reading ServiceCIDR %q: %w", defaultServiceCIDRName, err)
	}
	var list networkingv1.ServiceCIDRList
	if err := c.List(ctx, &list); err != nil {
		return "", fmt.Errorf("listing ServiceCIDRs: %w", err)
	}
	slices.SortFunc(list.Items, func(x, y networkingv1.ServiceCIDR) int { return strings.Compare(x.Name, y.Name) })
	for _, sc := range list.Items {
		if len(sc.Spec.CIDRs) > 0 {
			return strings.Join(sc.Spec.CIDRs, ","), nil
		}
	}
	return "", errors.New("the host has no ServiceCIDR")
}

var validRange = regexp.MustCompile(`[Tt]he range of valid IPs is ([0-9a-fA-F.:/]+)`)

// serviceCIDRFromRefusal asks the host, by a server-side dry-run, to allocate a ClusterIP
// that no service range holds; hosts before the ServiceCIDR API name their range in the
// refusal. Nothing is written.
func serviceCIDRFromRefusal(ctx context.Context, c client.Client) (string, error) {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", GenerateName: "tenantry-service-cidr-probe-"},
		Spec: corev1.ServiceSpec{ClusterIP: "0.0.0.1",
			Ports: []corev1.ServicePort{{Port: 80}}},
	}
	err := c.Create(ctx, svc, client.DryRunAll)
	if err == nil {
		return "", errors.New("the dry-run Service with ClusterIP 0.0.0.1 was accepted")
	}
	m := validRange.FindStringSubmatch(err.Error())
	if m == nil {
		return "", fmt.Errorf("the host's refusal names no service range: %w", err)
	}
	if _, perr := netip.ParsePrefix(m[1]); perr != nil {
		return "", fmt.Errorf("the host's refusal names an invalid range %q: %w", m[1], perr)
	}
	return m[1], nil
}

// sameCIDRs compares two comma-separated CIDR lists as sets of canonical prefixes.
func sameCIDRs(a, b string) bool {
	canon := func(s string) []string {
		var out []string
		for part := range strings.SplitSeq(s, ",") {
			p, err := netip.ParsePrefix(strings.TrimSpace(part))
			if err != nil {
				out = append(out, strings.TrimSpace(part))
				continue
			}
			out = append(out, p.Masked().String())
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(canon(a), canon(b))
}
