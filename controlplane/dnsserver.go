package controlplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/go-logr/logr"
	"github.com/miekg/dns"
)

// ServeDNS answers one query: from the virtual cluster for its names, from upstream otherwise.
func (r *Resolver) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	resp := r.Answer(req)
	if resp == nil {
		resp = r.forward(w.RemoteAddr().Network(), req)
	}
	_ = w.WriteMsg(resp)
}

// Answer returns the local answer to req, or nil when the name is not the virtual
// cluster's and must be forwarded.
func (r *Resolver) Answer(req *dns.Msg) *dns.Msg {
	if len(req.Question) != 1 {
		return new(dns.Msg).SetRcode(req, dns.RcodeFormatError)
	}
	q := req.Question[0]
	l := r.resolve(q.Name)
	if !l.local {
		return nil
	}
	resp := new(dns.Msg).SetReply(req)
	resp.Authoritative = true
	switch {
	case l.failure:
		resp.SetRcode(req, dns.RcodeServerFailure)
	case !l.exists:
		resp.SetRcode(req, dns.RcodeNameError)
		resp.Ns = []dns.RR{soa()}
	default:
		resp.Answer = answers(q, l)
		if len(resp.Answer) == 0 {
			resp.Ns = []dns.RR{soa()}
		}
	}
	return resp
}

// answers renders the records of a found name that match the question's type.
func answers(q dns.Question, l lookup) []dns.RR {
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: q.Name, Rrtype: t, Class: dns.ClassINET, Ttl: dnsTTL}
	}
	if l.cname != "" {
		return []dns.RR{&dns.CNAME{Hdr: hdr(dns.TypeCNAME), Target: l.cname}}
	}
	var rrs []dns.RR
	for _, ip := range l.ips {
		v4 := ip.To4()
		switch {
		case v4 != nil && (q.Qtype == dns.TypeA || q.Qtype == dns.TypeANY):
			rrs = append(rrs, &dns.A{Hdr: hdr(dns.TypeA), A: v4})
		case v4 == nil && (q.Qtype == dns.TypeAAAA || q.Qtype == dns.TypeANY):
			rrs = append(rrs, &dns.AAAA{Hdr: hdr(dns.TypeAAAA), AAAA: ip})
		}
	}
	return rrs
}

func soa() dns.RR {
	zone := dns.Fqdn(ClusterDomain)
	return &dns.SOA{
		Hdr: dns.RR_Header{Name: zone, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: dnsTTL},
		Ns:  "ns.dns." + zone, Mbox: "hostmaster." + zone, Serial: 1,
		Refresh: 7200, Retry: 1800, Expire: 86400, Minttl: dnsTTL,
	}
}

// forward sends req upstream over the client's protocol, retrying over TCP when truncated.
func (r *Resolver) forward(network string, req *dns.Msg) *dns.Msg {
	if r.Upstream == "" {
		return new(dns.Msg).SetRcode(req, dns.RcodeServerFailure)
	}
	proto := "udp"
	if network == "tcp" {
		proto = "tcp"
	}
	resp, _, err := (&dns.Client{Net: proto, Timeout: 2 * time.Second}).Exchange(req, r.Upstream)
	if err == nil && resp.Truncated && proto == "udp" {
		resp, _, err = (&dns.Client{Net: "tcp", Timeout: 2 * time.Second}).Exchange(req, r.Upstream)
	}
	if err != nil {
		return new(dns.Msg).SetRcode(req, dns.RcodeServerFailure)
	}
	return resp
}

// DNSServer serves a Resolver over UDP and TCP on one address.
type DNSServer struct {
	servers []*dns.Server
}

// ListenDNS starts serving r on addr (host:port) over UDP and TCP and returns once both listen.
func ListenDNS(ctx context.Context, addr string, r *Resolver) (*DNSServer, error) {
	udp, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for DNS on udp %s: %w", addr, err)
	}
	tcp, err := net.Listen("tcp", addr)
	if err != nil {
		_ = udp.Close()
		return nil, fmt.Errorf("listening for DNS on tcp %s: %w", addr, err)
	}
	s := &DNSServer{servers: []*dns.Server{
		{PacketConn: udp, Handler: r}, {Listener: tcp, Handler: r},
	}}
	log := logr.FromContextOrDiscard(ctx)
	for _, srv := range s.servers {
		started, failed := make(chan struct{}), make(chan error, 1)
		srv.NotifyStartedFunc = func() { close(started) }
		go func() {
			if err := srv.ActivateAndServe(); err != nil {
				log.Error(err, "DNS server stopped", "addr", addr)
				failed <- err
			}
		}()
		select {
		case <-started:
		case err := <-failed:
			_ = s.Shutdown(ctx)
			return nil, fmt.Errorf("serving DNS on %s: %w", addr, err)
		}
	}
	return s, nil
}

// Shutdown stops both servers.
func (s *DNSServer) Shutdown(ctx context.Context) error {
	var errs []error
	for _, srv := range s.servers {
		errs = append(errs, srv.ShutdownContext(ctx))
	}
	return errors.Join(errs...)
}
