package kubeletapi

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/go-logr/logr"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/proxy"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/transport"
)

// streams maps the kubelet's streaming endpoints to the host API's pod subresources.
var streams = map[string]string{"exec": "exec", "attach": "attach", "portForward": "portforward"}

// streamHeaders are the only request headers passed to the host: what the SPDY and
// WebSocket upgrades need. Everything else the virtual API server sent stays behind.
var streamHeaders = []string{"Connection", "Upgrade", "X-Stream-Protocol-Version",
	"Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Protocol"}

// streamRequest is a kubelet streaming request as the virtual API server sends it:
// /exec|attach/{namespace}/{pod}[/{uid}]/{container} or /portForward/{namespace}/{pod}[/{uid}].
type streamRequest struct {
	endpoint, namespace, pod, uid, container string
}

// parseStream reads the path segments of a streaming request; ok is false for any other shape.
func parseStream(parts []string) (streamRequest, bool) {
	r := streamRequest{endpoint: parts[0]}
	args := parts[1:]
	if r.endpoint != "portForward" {
		if len(args) < 3 {
			return r, false
		}
		r.container, args = args[len(args)-1], args[:len(args)-1]
	}
	switch len(args) {
	case 2:
		r.namespace, r.pod = args[0], args[1]
	case 3:
		r.namespace, r.pod, r.uid = args[0], args[1], args[2]
	default:
		return r, false
	}
	return r, true
}

// hostQuery is the host subresource's query for the kubelet query q: the kubelet's
// input/output/error/tty flags become stdin/stdout/stderr/tty, port becomes ports, and
// command is kept; nothing else passes.
func (r streamRequest) hostQuery(q url.Values) url.Values {
	out := url.Values{}
	if r.endpoint == "portForward" {
		for _, p := range q["port"] {
			out.Add("ports", p)
		}
		return out
	}
	out.Set("container", r.container)
	for kubelet, host := range map[string]string{"input": "stdin", "output": "stdout", "error": "stderr", "tty": "tty"} {
		if v := q.Get(kubelet); v == "1" || v == "true" {
			out.Set(host, "true")
		}
	}
	if r.endpoint == "exec" {
		out["command"] = q["command"]
	}
	return out
}

// streamProxy proxies upgraded streams to the host API with the syncer's own credentials.
type streamProxy struct {
	host      *url.URL
	transport http.RoundTripper
	upgrade   proxy.UpgradeRequestRoundTripper
}

// newStreamProxy builds the host transports once: plain TLS for the upgraded connection,
// the config's authentication (a bearer token file is re-read as it rotates) added to the
// upgrade request. This is how `kubectl proxy` and kube-apiserver dial upgrades.
func newStreamProxy(cfg *rest.Config) (*streamProxy, error) {
	host, err := url.Parse(cfg.Host)
	if err != nil || host.Host == "" {
		return nil, fmt.Errorf("kubelet API: host API address %q is not a URL", cfg.Host)
	}
	tc, err := cfg.TransportConfig()
	if err != nil {
		return nil, fmt.Errorf("kubelet API: host transport: %w", err)
	}
	tlsConfig, err := transport.TLSConfigFor(tc)
	if err != nil {
		return nil, fmt.Errorf("kubelet API: host TLS: %w", err)
	}
	rt := utilnet.SetOldTransportDefaults(&http.Transport{TLSClientConfig: tlsConfig,
		DialContext: (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext})
	auth, err := transport.HTTPWrappersForConfig(tc, proxy.MirrorRequest)
	if err != nil {
		return nil, fmt.Errorf("kubelet API: host credentials: %w", err)
	}
	return &streamProxy{host: host, transport: rt, upgrade: proxy.NewUpgradeRequestRoundTripper(rt, auth)}, nil
}

// serve proxies r, an upgrade request, to the host pod's subresource with query q. A
// request that is not an upgrade is refused with 400.
func (p *streamProxy) serve(w http.ResponseWriter, r *http.Request, hostNS, hostPod, subresource string, q url.Values, log logr.Logger) {
	loc := *p.host
	loc.Path = path.Join("/", p.host.Path, "api/v1/namespaces", hostNS, "pods", hostPod, subresource)
	loc.RawQuery = q.Encode()
	h := proxy.NewUpgradeAwareHandler(&loc, p.transport, false, true, responder{log: log})
	h.UpgradeTransport = p.upgrade
	out := r.Clone(r.Context())
	out.Header = http.Header{}
	for _, k := range streamHeaders {
		if v := r.Header.Values(k); len(v) > 0 {
			out.Header[k] = v
		}
	}
	h.ServeHTTP(w, out)
}

// responder answers a failed proxy with the error's status, 502 when it has none. The query (a command line may hold a
// secret) is never logged.
type responder struct{ log logr.Logger }

func (r responder) Error(w http.ResponseWriter, req *http.Request, err error) {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // its URL carries the query
	}
	r.log.Info("proxying a stream to the host", "path", req.URL.Path, "error", err.Error())
	http.Error(w, "tenantry: reaching the host pod: "+strings.TrimSpace(err.Error()), hostStatus(err))
}
