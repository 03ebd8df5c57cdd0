package controlplane

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/miekg/dns"
	"sigs.k8s.io/yaml"

	"github.com/tenantry/tenantry/syncer/kubeletapi"
)

// Defaults of Config, applied by Default.
const (
	DefaultConfigPath  = "/etc/tenantry/vcluster.yaml"
	DefaultDataDir     = "/data"
	DefaultBinDir      = "/usr/local/bin"
	DefaultAPIPort     = 6443
	DefaultDNSPort     = 1053
	DefaultProbePort   = 8080
	DefaultServiceCIDR = "10.96.0.0/12"
	// ServicePort is the port of the host Service in front of the virtual API server.
	ServicePort = 443
	// ClusterDomain is the virtual cluster's DNS domain.
	ClusterDomain = "cluster.local"
)

// ErrInvalidConfig is returned by Validate, for errors.Is.
var ErrInvalidConfig = errors.New("invalid vcluster config")

// LoadConfig reads a Config file strictly, applies defaults and validates it.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("reading config: %w", err)
	}
	var cfg Config
	if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		return Config{}, fmt.Errorf("parsing config %s: %w", path, err)
	}
	cfg.Default()
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Default fills the zero fields with the defaults listed on each field.
func (c *Config) Default() {
	setString(&c.HostNamespace, os.Getenv("POD_NAMESPACE"))
	setString(&c.DataDir, DefaultDataDir)
	setString(&c.BinDir, DefaultBinDir)
	setInt(&c.APIPort, DefaultAPIPort)
	setInt(&c.DNSPort, DefaultDNSPort)
	setInt(&c.ProbePort, DefaultProbePort)
	setInt(&c.KubeletPort, kubeletapi.DefaultPort)
	setString(&c.ServiceCIDR, DefaultServiceCIDR)
	setString(&c.DNSUpstream, resolvConfUpstream("/etc/resolv.conf"))
}

// Validate reports missing or malformed fields.
func (c *Config) Validate() error {
	var errs []error
	for _, f := range []struct{ name, value string }{
		{"name", c.Name}, {"hostNamespace", c.HostNamespace},
		{"serviceName", c.ServiceName}, {"kubeconfigSecret", c.KubeconfigSecret},
	} {
		if f.value == "" {
			errs = append(errs, fmt.Errorf("%w: %s is required", ErrInvalidConfig, f.name))
		}
	}
	for cidr := range strings.SplitSeq(c.ServiceCIDR, ",") { // one range per IP family
		if _, _, err := net.ParseCIDR(cidr); err != nil {
			errs = append(errs, fmt.Errorf("%w: serviceCIDR: %w", ErrInvalidConfig, err))
		}
	}
	if err := c.Tokens.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("%w: %w", ErrInvalidConfig, err))
	}
	for _, o := range c.Owners {
		if o.Kind != "User" && o.Kind != "Group" {
			errs = append(errs, fmt.Errorf("%w: owner %q: kind must be User or Group, not %q", ErrInvalidConfig, o.Name, o.Kind))
		}
	}
	return errors.Join(errs...)
}

// resolvConfUpstream returns the first nameserver of a resolv.conf as host:port, or "".
func resolvConfUpstream(path string) string {
	rc, err := dns.ClientConfigFromFile(path)
	if err != nil || len(rc.Servers) == 0 {
		return ""
	}
	return net.JoinHostPort(rc.Servers[0], rc.Port)
}

func setString(field *string, def string) {
	if *field == "" {
		*field = def
	}
}

func setInt(field *int, def int) {
	if *field == 0 {
		*field = def
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
