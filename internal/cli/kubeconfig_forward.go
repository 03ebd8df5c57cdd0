package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
	"k8s.io/streaming/pkg/httpstream"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// runKubeconfigForward forwards a local port to the tenant's control plane pod, writes a
// kubeconfig for it and keeps forwarding until ctx ends.
func runKubeconfigForward(ctx context.Context, out, errOut io.Writer, name string, f kubeconfigFlags) error {
	cfg, c, err := hostClients(f.hostKubeconfig)
	if err != nil {
		return err
	}
	t, data, err := loadTenantAccess(ctx, c, name)
	if err != nil {
		return err
	}
	local, err := localKubeconfig(t, data)
	if err != nil {
		return err
	}
	apiPort, err := serverPort(local)
	if err != nil {
		return fmt.Errorf("tenant %s: %w", name, err)
	}
	ports, err := forwardPorts(apiPort, f.localPort, f.localPortSet, func(p int) bool { return portFree(f.address, p) })
	if err != nil {
		return err
	}
	ctx = logr.NewContext(ctx, newLogger(errOut, true))
	return serveForward(ctx, out, errOut, cfg, c, t, local, ports, f)
}

// serveForward runs the port-forward; once it listens, writes the kubeconfig and says how
// to use it, then keeps forwarding until ctx ends. A lost connection to the pod does not end
// it: the kubelet closes the whole connection when one forwarded stream fails (a client
// that hangs up mid-request is enough), and a restarted pod drops it too. The forward then
// reconnects on the same local port, and says so on errOut, until ctx ends. The kubeconfig
// follows the tenant's kubeconfig Secret meanwhile (followCredentials).
func serveForward(ctx context.Context, out, errOut io.Writer, cfg *rest.Config, c client.Client, t *v1alpha1.Tenant, local []byte, ports string, f kubeconfigFlags) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pod := t.HostNamespace() + "/" + controlPlanePod(t)
	bound, done, err := startForward(ctx, cfg, t, f.address, ports)
	if err != nil {
		return forwardEnded(t.Name, err)
	}
	path, remove, err := writeForwardedKubeconfig(local, f, t.Name, int(bound.Local))
	if err != nil {
		cancel()
		return errors.Join(err, forwardEnded(t.Name, <-done))
	}
	defer remove()
	listen := net.JoinHostPort(f.address, strconv.Itoa(int(bound.Local)))
	fmt.Fprintf(errOut, "Forwarding %s -> pod %s port %d; kubeconfig of tenant %s written to %s. Ctrl+C stops.\n",
		listen, pod, bound.Remote, t.Name, path)
	fmt.Fprintf(out, "export KUBECONFIG=%s\n", path)
	go followCredentials(ctx, errOut, c, t, path, f.address, int(bound.Local), local)
	same := fmt.Sprintf("%d:%d", bound.Local, bound.Remote)
	for {
		err := <-done
		if ctx.Err() != nil {
			return nil
		}
		fmt.Fprintf(errOut, "tenant %s: lost the connection to pod %s (%v); reconnecting\n", t.Name, pod, err)
		if done = reconnect(ctx, errOut, cfg, t, f.address, same); done == nil {
			return nil // stopped while reconnecting
		}
		fmt.Fprintf(errOut, "tenant %s: reconnected to pod %s; forwarding %s again\n", t.Name, pod, listen)
	}
}

// credentialsPoll is how often a forward reads the tenant's kubeconfig Secret again.
const credentialsPoll = 5 * time.Second

// followCredentials rewrites the kubeconfig at path (pointed at the forwarded port) whenever
// the tenant's kubeconfig Secret holds other credentials than last, until ctx ends: a
// control plane without a volume (persistence size "0") makes new ones when its pod
// restarts, and the forward outlives the restart.
func followCredentials(ctx context.Context, errOut io.Writer, c client.Client, t *v1alpha1.Tenant, path, address string, port int, last []byte) {
	key := client.ObjectKey{Namespace: t.HostNamespace(), Name: kubeconfigSecretName(t)}
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		secret := &corev1.Secret{}
		if err := c.Get(ctx, key, secret); err != nil {
			return // the next poll tries again; the forward goes on meanwhile
		}
		local, err := localKubeconfig(t, secret.Data)
		if err != nil || bytes.Equal(local, last) {
			return
		}
		kc, err := forwardedKubeconfig(local, address, port)
		if err == nil {
			err = writePrivateFile(path, kc)
		}
		if err != nil {
			fmt.Fprintf(errOut, "tenant %s: its control plane has new credentials, but %s could not be rewritten: %v\n", t.Name, path, err)
			return
		}
		last = local
		fmt.Fprintf(errOut, "tenant %s: its control plane has new credentials; %s rewritten\n", t.Name, path)
	}, credentialsPoll)
}

// startForward starts PortForward to the tenant's control plane pod and waits until it
// listens (its first port, and a channel for its end) or fails.
func startForward(ctx context.Context, cfg *rest.Config, t *v1alpha1.Tenant, address, ports string) (portforward.ForwardedPort, <-chan error, error) {
	ready := make(chan []portforward.ForwardedPort, 1)
	done := make(chan error, 1)
	go func() {
		done <- PortForward(ctx, cfg, t.HostNamespace(), controlPlanePod(t), []string{address}, []string{ports}, ready)
	}()
	select {
	case err := <-done:
		if err == nil {
			err = errors.New("port-forward ended before listening")
		}
		return portforward.ForwardedPort{}, nil, err
	case bound := <-ready:
		return bound[0], done, nil
	}
}

// reconnectBackoff spaces the attempts to reach the pod again: at once, then up to every 5 s.
var reconnectBackoff = wait.Backoff{Duration: 250 * time.Millisecond, Factor: 2, Steps: math.MaxInt32, Cap: 5 * time.Second}

// reconnect starts the forward on the same ports again until it listens, and returns its
// end channel; nil when ctx ended first. While the pod cannot be reached it repeats why
// at most every 30 s.
func reconnect(ctx context.Context, errOut io.Writer, cfg *rest.Config, t *v1alpha1.Tenant, address, ports string) <-chan error {
	backoff := reconnectBackoff
	said := time.Now() // the loss was just said
	for {
		_, done, err := startForward(ctx, cfg, t, address, ports)
		if err == nil {
			return done
		}
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(said) > 30*time.Second {
			fmt.Fprintf(errOut, "tenant %s: still reconnecting: %v\n", t.Name, err)
			said = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff.Step()):
		}
	}
}

// forwardEnded is nil when the forward stopped because ctx ended, else the error, naming the tenant.
func forwardEnded(tenant string, err error) error {
	if err != nil {
		return fmt.Errorf("tenant %s: %w", tenant, err)
	}
	return nil
}

// writeForwardedKubeconfig writes config-local pointed at the forwarded port to -o, or to a
// private temp dir that remove deletes.
func writeForwardedKubeconfig(local []byte, f kubeconfigFlags, tenant string, port int) (path string, remove func(), err error) {
	kc, err := forwardedKubeconfig(local, f.address, port)
	if err != nil {
		return "", nil, fmt.Errorf("tenant %s: %w", tenant, err)
	}
	path, remove = f.output, func() {}
	if path == "" || path == "-" {
		dir, err := os.MkdirTemp("", "tenantry-kubeconfig-")
		if err != nil {
			return "", nil, fmt.Errorf("creating a temp dir for the kubeconfig: %w", err)
		}
		path, remove = filepath.Join(dir, tenant+".kubeconfig"), func() { _ = os.RemoveAll(dir) }
	}
	if err := writePrivateFile(path, kc); err != nil {
		remove()
		return "", nil, err
	}
	return path, remove, nil
}

// forwardedKubeconfig is config-local pointed at the forwarded address and port.
func forwardedKubeconfig(local []byte, address string, port int) ([]byte, error) {
	server, serverName := forwardedServer(address, port)
	return setServer(local, server, serverName)
}

// forwardPorts is the port-forward spec "LOCAL:REMOTE" to the API port: --local-port when
// given (0 picks a free port), else the API port itself when free, else a free port.
func forwardPorts(apiPort, localPort int, localPortSet bool, free func(port int) bool) (string, error) {
	if localPort < 0 || localPort > 65535 {
		return "", fmt.Errorf("--local-port %d is not a port (0-65535)", localPort)
	}
	local := localPort
	if !localPortSet {
		local = 0
		if free(apiPort) {
			local = apiPort
		}
	}
	return fmt.Sprintf("%d:%d", local, apiPort), nil
}

// portFree reports whether a TCP listener can bind address:port now.
func portFree(address string, port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort(address, strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// PortForward forwards ports ("LOCAL:REMOTE"; LOCAL 0 picks a free port) on the local
// addresses to the pod, through the API server of cfg, until ctx ends (nil) or the
// connection to the pod is lost. Once listening it sends the bound ports on ready.
func PortForward(ctx context.Context, cfg *rest.Config, namespace, pod string, addresses, ports []string, ready chan<- []portforward.ForwardedPort) error {
	dialer, err := podDialer(cfg, namespace, pod)
	if err != nil {
		return err
	}
	listening := make(chan struct{})
	errOut := logWriter{log: logr.FromContextOrDiscard(ctx)}
	fw, err := portforward.NewOnAddressesForStreamingWithContext(ctx, dialer, addresses, ports, listening, io.Discard, errOut)
	if err != nil {
		return fmt.Errorf("port-forward to pod %s/%s: %w", namespace, pod, err)
	}
	finished := make(chan struct{})
	defer close(finished)
	go sendPorts(fw, listening, finished, ready)
	if err := fw.ForwardPorts(); err != nil {
		return fmt.Errorf("port-forward to pod %s/%s: %w", namespace, pod, err)
	}
	return nil
}

// sendPorts sends the bound ports on ready once fw listens, unless it finished first.
func sendPorts(fw *portforward.PortForwarder, listening, finished <-chan struct{}, ready chan<- []portforward.ForwardedPort) {
	select {
	case <-listening:
	case <-finished:
		return
	}
	ports, err := fw.GetPorts()
	if err != nil {
		return
	}
	select {
	case ready <- ports:
	case <-finished:
	}
}

// podDialer dials the pod's portforward subresource: WebSockets first, SPDY when the
// server cannot upgrade to them (as kubectl does).
func podDialer(cfg *rest.Config, namespace, pod string) (httpstream.Dialer, error) {
	core, err := corev1client.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("building the host client: %w", err)
	}
	u := core.RESTClient().Post().Resource("pods").Namespace(namespace).Name(pod).SubResource("portforward").URL()
	transport, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("building the SPDY transport: %w", err)
	}
	spdyDialer := spdy.NewDialerForStreaming(upgrader, &http.Client{Transport: transport}, http.MethodPost, u)
	wsDialer, err := portforward.NewSPDYOverWebsocketDialerForStreaming(u, cfg)
	if err != nil {
		return nil, fmt.Errorf("building the WebSocket dialer: %w", err)
	}
	return portforward.NewFallbackDialerForStreaming(wsDialer, spdyDialer, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	}), nil
}

// logWriter logs each message the port-forwarder writes as one line.
type logWriter struct{ log logr.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.log.Info(strings.TrimSpace(string(p)))
	return len(p), nil
}
