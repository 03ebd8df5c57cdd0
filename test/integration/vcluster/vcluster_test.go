// Package vcluster_test runs cmd/tenantry-vcluster as a local process against a real host
// control plane, as the tenant's pod runs it.
package vcluster_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/controlplane"
	"github.com/tenantry/tenantry/test/framework"
)

var ctx = context.Background()

// TestLifecycle starts a v1.37 vcluster, checks access, RBAC and DNS, stops it with
// SIGTERM, and restarts it on the same data.
func TestLifecycle(t *testing.T) {
	upstream := startUpstream(t)
	v := newVCluster(t, "v1.37.2", func(c *controlplane.Config) { c.DNSUpstream = upstream })
	v.start()
	t.Logf("first start: process start to /readyz 200 in %s", v.waitReady().Round(time.Millisecond))
	requireHealthy(t, v)

	secret, err := host.Clientset(t).CoreV1().Secrets(v.cfg.HostNamespace).Get(ctx, v.cfg.KubeconfigSecret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	requireSecret(t, v, secret)
	virtual := v.virtual(wellknown.SecretKeyConfigLocal)
	if _, err := virtual.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("listing virtual namespaces with config-local: %v", err)
	}
	requireOwnersBinding(t, v)
	requireDNS(t, v)
	requireRestartedChild(t, v, "kube-controller")

	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "survives", Namespace: "default"}, Data: map[string]string{"k": "v"}}
	if _, err := virtual.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("first stop: SIGTERM to exit in %s", v.stop().Round(time.Millisecond))

	v.start()
	t.Logf("restart: process start to /readyz 200 in %s", v.waitReady().Round(time.Millisecond))
	again, err := host.Clientset(t).CoreV1().Secrets(v.cfg.HostNamespace).Get(ctx, v.cfg.KubeconfigSecret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Data[wellknown.SecretKeyCA], secret.Data[wellknown.SecretKeyCA]) {
		t.Fatal("the CA changed across a restart")
	}
	got, err := v.virtual(wellknown.SecretKeyConfigLocal).CoreV1().ConfigMaps("default").Get(ctx, "survives", metav1.GetOptions{})
	if err != nil || got.Data["k"] != "v" {
		t.Fatalf("ConfigMap after restart: %v %v", got, err)
	}
	t.Logf("second stop: SIGTERM to exit in %s", v.stop().Round(time.Millisecond))
}

// TestVersions starts each supported minor and checks the virtual /version.
func TestVersions(t *testing.T) {
	for _, tc := range []struct{ version, minor string }{
		{"v1.37.2", "37"},
		{"v1.36.3", "36"},
	} {
		t.Run("minor-"+tc.minor, func(t *testing.T) {
			v := newVCluster(t, tc.version, nil)
			v.start()
			t.Logf("%s: process start to /readyz 200 in %s", tc.version, v.waitReady().Round(time.Millisecond))
			info, err := v.virtual(wellknown.SecretKeyConfigLocal).Discovery().ServerVersion()
			if err != nil {
				t.Fatal(err)
			}
			if info.Minor != tc.minor || info.GitVersion != tc.version {
				t.Fatalf("virtual /version = %s (minor %q), want %s", info.GitVersion, info.Minor, tc.version)
			}
			requireServiceAccount(t, v)
			if line := v.grep("component exited"); !strings.HasPrefix(line, "(no line") {
				t.Errorf("a component exited on its own: %s", line)
			}
			v.stop()
		})
	}
}

// requireServiceAccount waits for the default ServiceAccount: kube-controller-manager runs.
// TestKilledParent kills tenantry-vcluster with SIGKILL, as an OOM kill would: the parent-death
// signal takes its children down, and a new process recovers on the same data.
func TestKilledParent(t *testing.T) {
	v := newVCluster(t, "v1.37.2", nil)
	v.start()
	v.waitReady()
	virtual := v.virtual(wellknown.SecretKeyConfigLocal)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "before-crash"}}
	if _, err := virtual.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	children := childPIDs(v.cmd.Process.Pid)
	if err := v.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-v.done
	framework.Eventually(t, 10*time.Second, "children gone after the parent's SIGKILL", func() (bool, error) {
		for pid, comm := range children {
			if alive(pid, comm) {
				return false, fmt.Errorf("%d (%s) alive", pid, comm)
			}
		}
		return true, nil
	})
	v.start()
	t.Logf("after SIGKILL: process start to /readyz 200 in %s", v.waitReady().Round(time.Millisecond))
	if _, err := v.virtual(wellknown.SecretKeyConfigLocal).CoreV1().ConfigMaps("default").Get(ctx, "before-crash", metav1.GetOptions{}); err != nil {
		t.Fatalf("data after a crash: %v", err)
	}
	v.stop()
}

func requireServiceAccount(t *testing.T, v *vcluster) {
	t.Helper()
	virtual := v.virtual(wellknown.SecretKeyConfigLocal)
	framework.Eventually(t, time.Minute, "the default ServiceAccount from kube-controller-manager", func() (bool, error) {
		_, err := virtual.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, err
	})
}

// requireRestartedChild kills a child with SIGKILL and waits for the supervisor to start it again.
func requireRestartedChild(t *testing.T, v *vcluster, comm string) {
	t.Helper()
	old := 0
	for pid, c := range childPIDs(v.cmd.Process.Pid) {
		if c == comm {
			old = pid
		}
	}
	if old == 0 {
		t.Fatalf("no %s child", comm)
	}
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	framework.Eventually(t, 30*time.Second, comm+" restarted", func() (bool, error) {
		for pid, c := range childPIDs(v.cmd.Process.Pid) {
			if c == comm && pid != old && alive(pid, c) {
				return true, nil
			}
		}
		return false, nil
	})
	t.Logf("%s killed and restarted by the supervisor in %s", comm, time.Since(began).Round(time.Millisecond))
}

func requireHealthy(t *testing.T, v *vcluster) {
	t.Helper()
	if err := httpStatus("http://127.0.0.1:"+strconv.Itoa(v.cfg.ProbePort)+"/healthz", 200); err != nil {
		t.Fatal(err)
	}
}

func requireSecret(t *testing.T, v *vcluster, secret *corev1.Secret) {
	t.Helper()
	if secret.Labels["app.kubernetes.io/managed-by"] != "tenantry" || secret.Labels["tenantry.dev/tenant"] != "team" {
		t.Errorf("kubeconfig Secret labels %v", secret.Labels)
	}
	want := "server: https://vc." + v.cfg.HostNamespace + ".svc:443"
	if !strings.Contains(string(secret.Data[wellknown.SecretKeyConfig]), want) {
		t.Errorf("config does not contain %q:\n%s", want, secret.Data[wellknown.SecretKeyConfig])
	}
	local := "server: https://127.0.0.1:" + strconv.Itoa(v.cfg.APIPort)
	if !strings.Contains(string(secret.Data[wellknown.SecretKeyConfigLocal]), local) {
		t.Errorf("config-local does not contain %q", local)
	}
	if !bytes.HasPrefix(secret.Data[wellknown.SecretKeyCA], []byte("-----BEGIN CERTIFICATE-----")) {
		t.Errorf("ca.crt is not a PEM certificate: %q", secret.Data[wellknown.SecretKeyCA])
	}
}

func requireOwnersBinding(t *testing.T, v *vcluster) {
	t.Helper()
	crb, err := v.virtual(wellknown.SecretKeyConfigLocal).RbacV1().ClusterRoleBindings().Get(ctx, controlplane.OwnersBinding, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if crb.RoleRef.Name != "cluster-admin" || len(crb.Subjects) != 2 ||
		crb.Subjects[0].Kind != "User" || crb.Subjects[0].Name != "alice@example.com" ||
		crb.Subjects[1].Kind != "Group" || crb.Subjects[1].Name != "team-a" {
		t.Fatalf("owners binding: roleRef %v subjects %v", crb.RoleRef, crb.Subjects)
	}
}

// requireDNS creates a virtual Service and resolves it, kubernetes.default and a forwarded name.
func requireDNS(t *testing.T, v *vcluster) {
	t.Helper()
	virtual := v.virtual(wellknown.SecretKeyConfigLocal)
	svc, err := virtual.CoreV1().Services("default").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	server := "127.0.0.1:" + strconv.Itoa(v.cfg.DNSPort)
	for _, tc := range []struct{ name, net, want string }{
		{"web.default.svc.cluster.local.", "udp", svc.Spec.ClusterIP},
		{"web.default.svc.cluster.local.", "tcp", svc.Spec.ClusterIP},
		{"kubernetes.default.svc.cluster.local.", "udp", v.serviceIP},
		{"forwarded.example.", "udp", "192.0.2.7"},
	} {
		deadline := time.Now().Add(10 * time.Second)
		var got string
		for time.Now().Before(deadline) {
			if got = lookupA(t, server, tc.net, tc.name); got == tc.want {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if got != tc.want {
			t.Errorf("%s over %s: A %q, want %q", tc.name, tc.net, got, tc.want)
		}
	}
	if rcode := lookupRcode(t, server, "missing.default.svc.cluster.local."); rcode != dns.RcodeNameError {
		t.Errorf("missing service: rcode %s, want NXDOMAIN", dns.RcodeToString[rcode])
	}
}

func lookupA(t *testing.T, server, network, name string) string {
	t.Helper()
	m := new(dns.Msg).SetQuestion(name, dns.TypeA)
	resp, _, err := (&dns.Client{Net: network, Timeout: 2 * time.Second}).Exchange(m, server)
	if err != nil {
		t.Logf("%s: %v", name, err)
		return ""
	}
	for _, rr := range resp.Answer {
		if a, ok := rr.(*dns.A); ok {
			return a.A.String()
		}
	}
	return ""
}

func lookupRcode(t *testing.T, server, name string) int {
	t.Helper()
	resp, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(new(dns.Msg).SetQuestion(name, dns.TypeA), server)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Rcode
}

// startUpstream serves forwarded.example. = 192.0.2.7 as the vcluster's upstream nameserver.
func startUpstream(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg).SetReply(r)
		if r.Question[0].Name == "forwarded.example." {
			m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}, A: net.ParseIP("192.0.2.7")}}
		} else {
			m.SetRcode(r, dns.RcodeNameError)
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}
