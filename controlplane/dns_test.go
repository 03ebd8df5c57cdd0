package controlplane

import (
	"net"
	"slices"
	"testing"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// fakeRecords is an in-memory Records.
type fakeRecords struct {
	services map[string]*corev1.Service
	slices   map[string][]*discoveryv1.EndpointSlice
}

func (f fakeRecords) Service(ns, name string) (*corev1.Service, error) {
	if s, ok := f.services[ns+"/"+name]; ok {
		return s, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "services"}, name)
}

func (f fakeRecords) EndpointSlices(ns, service string) ([]*discoveryv1.EndpointSlice, error) {
	return f.slices[ns+"/"+service], nil
}

func testRecords() fakeRecords {
	svc := func(ns, name, ip string, typ corev1.ServiceType, external string) *corev1.Service {
		return &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec:       corev1.ServiceSpec{Type: typ, ClusterIP: ip, ClusterIPs: []string{ip}, ExternalName: external},
		}
	}
	ready, notReady, host0 := true, false, "db-0"
	return fakeRecords{
		services: map[string]*corev1.Service{
			"default/web":  svc("default", "web", "10.96.5.5", corev1.ServiceTypeClusterIP, ""),
			"apps/db":      svc("apps", "db", corev1.ClusterIPNone, corev1.ServiceTypeClusterIP, ""),
			"apps/ext":     svc("apps", "ext", "", corev1.ServiceTypeExternalName, "example.com"),
			"apps/v6":      svc("apps", "v6", "fd00::5", corev1.ServiceTypeClusterIP, ""),
			"apps/nothing": svc("apps", "nothing", corev1.ClusterIPNone, corev1.ServiceTypeClusterIP, ""),
		},
		slices: map[string][]*discoveryv1.EndpointSlice{
			"apps/db": {{Endpoints: []discoveryv1.Endpoint{
				{Addresses: []string{"10.244.1.1"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}, Hostname: &host0},
				{Addresses: []string{"10.244.1.2"}, Conditions: discoveryv1.EndpointConditions{Ready: &notReady}},
				{Addresses: []string{"10.244.1.3"}},
			}}},
		},
	}
}

func TestResolverAnswers(t *testing.T) {
	r := &Resolver{Records: testRecords(), ServiceHost: net.ParseIP("10.96.0.42")}
	tests := []struct {
		name    string
		qtype   uint16
		forward bool
		rcode   int
		want    []string // A/AAAA addresses or CNAME targets
	}{
		{name: "web.default.svc.cluster.local.", qtype: dns.TypeA, want: []string{"10.96.5.5"}},
		{name: "WEB.Default.svc.cluster.local.", qtype: dns.TypeA, want: []string{"10.96.5.5"}},
		{name: "web.default.svc.cluster.local.", qtype: dns.TypeAAAA, want: nil},
		{name: "db.apps.svc.cluster.local.", qtype: dns.TypeA, want: []string{"10.244.1.1", "10.244.1.3"}},
		{name: "db-0.db.apps.svc.cluster.local.", qtype: dns.TypeA, want: []string{"10.244.1.1"}},
		{name: "db-9.db.apps.svc.cluster.local.", qtype: dns.TypeA, rcode: dns.RcodeNameError},
		{name: "nothing.apps.svc.cluster.local.", qtype: dns.TypeA, want: nil},
		{name: "ext.apps.svc.cluster.local.", qtype: dns.TypeA, want: []string{"example.com."}},
		{name: "v6.apps.svc.cluster.local.", qtype: dns.TypeAAAA, want: []string{"fd00::5"}},
		{name: "kubernetes.default.svc.cluster.local.", qtype: dns.TypeA, want: []string{"10.96.0.42"}},
		{name: "kubernetes.default.svc.", qtype: dns.TypeA, want: []string{"10.96.0.42"}},
		{name: "missing.default.svc.cluster.local.", qtype: dns.TypeA, rcode: dns.RcodeNameError},
		{name: "a.b.c.d.svc.cluster.local.", qtype: dns.TypeA, rcode: dns.RcodeNameError},
		{name: "pod.cluster.local.", qtype: dns.TypeA, rcode: dns.RcodeNameError},
		{name: "example.com.", qtype: dns.TypeA, forward: true},
		{name: "web.default.svc.", qtype: dns.TypeA, forward: true},
	}
	for _, tc := range tests {
		t.Run(tc.name+dns.TypeToString[tc.qtype], func(t *testing.T) {
			resp := r.Answer(new(dns.Msg).SetQuestion(tc.name, tc.qtype))
			if tc.forward {
				if resp != nil {
					t.Fatalf("answered locally: %v", resp)
				}
				return
			}
			if resp == nil {
				t.Fatal("forwarded, want a local answer")
			}
			if resp.Rcode != tc.rcode || !resp.Authoritative {
				t.Fatalf("rcode %s (authoritative %v), want %s", dns.RcodeToString[resp.Rcode], resp.Authoritative, dns.RcodeToString[tc.rcode])
			}
			if got := values(resp.Answer); !slices.Equal(got, tc.want) {
				t.Fatalf("answers %v, want %v", got, tc.want)
			}
		})
	}
}

func TestResolverForwards(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	upstream := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg).SetReply(req)
		m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: req.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 1}, A: net.ParseIP("192.0.2.1")}}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = upstream.ActivateAndServe() }()
	t.Cleanup(func() { _ = upstream.Shutdown() })

	tests := []struct {
		upstream string
		rcode    int
		want     []string
	}{
		{pc.LocalAddr().String(), dns.RcodeSuccess, []string{"192.0.2.1"}},
		{"", dns.RcodeServerFailure, nil},
	}
	for _, tc := range tests {
		r := &Resolver{Records: testRecords(), Upstream: tc.upstream}
		resp := r.forward("udp", new(dns.Msg).SetQuestion("example.com.", dns.TypeA))
		if resp.Rcode != tc.rcode || !slices.Equal(values(resp.Answer), tc.want) {
			t.Errorf("upstream %q: rcode %s answers %v", tc.upstream, dns.RcodeToString[resp.Rcode], values(resp.Answer))
		}
	}
}

func values(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		switch rr := rr.(type) {
		case *dns.A:
			out = append(out, rr.A.String())
		case *dns.AAAA:
			out = append(out, rr.AAAA.String())
		case *dns.CNAME:
			out = append(out, rr.Target)
		}
	}
	return out
}
