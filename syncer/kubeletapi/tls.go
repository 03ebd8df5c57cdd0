package kubeletapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/go-logr/logr"
)

// DefaultPort is the kubelet API's default port: not the kubelet's 10250, so a process on a
// host's network (as in tests) does not collide with a real kubelet.
const DefaultPort = 10350

// Address is where virtual nodes point the virtual API server: the syncer, on loopback in
// the same pod.
const Address = "127.0.0.1"

// TLS is the server's certificate and who may call it.
type TLS struct {
	// CertPEM and KeyPEM are the serving certificate (for the listen address) and its key.
	CertPEM, KeyPEM []byte
	// ClientCAPEM signs the client certificates accepted.
	ClientCAPEM []byte
	// ClientName is the one client certificate common name accepted.
	ClientName string
}

// Listen serves h with TLS on addr until ctx ends. A caller must present a client
// certificate signed by the client CA and named ClientName.
func Listen(ctx context.Context, addr string, t TLS, h http.Handler) error {
	cfg, err := t.config()
	if err != nil {
		return err
	}
	ln, err := tls.Listen("tcp", addr, cfg)
	if err != nil {
		return fmt.Errorf("kubelet API: listening on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logr.FromContextOrDiscard(ctx).Error(err, "kubelet API server stopped")
		}
	}()
	return nil
}

func (t TLS) config() (*tls.Config, error) {
	cert, err := tls.X509KeyPair(t.CertPEM, t.KeyPEM)
	if err != nil {
		return nil, fmt.Errorf("kubelet API serving certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(t.ClientCAPEM) {
		return nil, errors.New("kubelet API: no client CA certificate")
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool,
		MinVersion: tls.VersionTLS12, VerifyConnection: t.verifyName,
	}, nil
}

// verifyName accepts only the configured client name (the chain is already verified).
func (t TLS) verifyName(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 || cs.PeerCertificates[0].Subject.CommonName != t.ClientName {
		return fmt.Errorf("kubelet API: client certificate is not %q", t.ClientName)
	}
	return nil
}
