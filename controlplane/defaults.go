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

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/syncer/kubeletapi"
)

// Defaults of Config, applied by Default.
const (
	DefaultConfigPath  = "/etc/tenantry/vcluster.yaml"
	DefaultDataDir     = "/data"
	DefaultBinDir      = "/usr/local/bin"
	DefaultAPIPort     = wellknown.VClusterAPIPort
	DefaultDNSPort     = 1053
	DefaultProbePort   = 8080
	DefaultServiceCIDR = "10.96.0.0/12"
	// ServicePort is the port of the host Service in front of the virtual API server.
	ServicePort = 443
	// ClusterDomain is the virtual cluster's DNS domain.
	ClusterDomain = "cluster.local"
)

// DatastoreEnv holds an external datastore's connection string (the vcluster chart sets it
// from the Secret the tenant file names).
const DatastoreEnv = "TENANTRY_DATASTORE_ENDPOINT"

// ErrInvalidConfig is returned by Validate, for errors.Is.
var ErrInvalidConfig = errors.New("invalid vcluster config")

// LoadConfig reads a Config file strictly, applies defaults and validates it.
func LoadConfig(path string) (Config, error) {
	datastore := os.Getenv(DatastoreEnv)
	_ = os.Unsetenv(DatastoreEnv) // kube-apiserver and the rest never see it
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("reading config: %w", err)
	}
	var cfg Config
	if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		return Config{}, fmt.Errorf("parsing config %s: %w", path, err)
	}
	cfg.Datastore = datastore
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
	setInt(&c.KinePort, wellknown.VClusterKinePort)
	setString(&c.ServiceCIDR, DefaultServiceCIDR)
	setString(&c.DNSUpstream, resolvConfUpstream("/etc/resolv.conf"))
	setString(&c.DatastoreType, v1alpha1.DatastoreSQLite)
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
	if err := c.validateDatastore(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// datastoreSchemes are the connection string schemes kine takes for each external type.
var datastoreSchemes = map[string][]string{
	v1alpha1.DatastorePostgres: {"postgres://", "postgresql://"},
	v1alpha1.DatastoreMySQL:    {"mysql://"},
}

// validateDatastore checks the connection string's scheme against the type. Errors never
// quote the string: it holds a password.
func (c *Config) validateDatastore() error {
	if c.DatastoreType == v1alpha1.DatastoreSQLite {
		if c.Datastore != "" {
			return fmt.Errorf("%w: %s is set but datastoreType is SQLite", ErrInvalidConfig, DatastoreEnv)
		}
		return nil
	}
	schemes, ok := datastoreSchemes[c.DatastoreType]
	switch {
	case !ok:
		return fmt.Errorf("%w: datastoreType %q: must be SQLite, Postgres or MySQL", ErrInvalidConfig, c.DatastoreType)
	case c.Datastore == "":
		return fmt.Errorf("%w: datastoreType %s needs its connection string in %s (the Secret the tenant file names)", ErrInvalidConfig, c.DatastoreType, DatastoreEnv)
	}
	for _, s := range schemes {
		if strings.HasPrefix(c.Datastore, s) {
			return nil
		}
	}
	return fmt.Errorf("%w: the %s connection string in %s must start with %s", ErrInvalidConfig, c.DatastoreType, DatastoreEnv, strings.Join(schemes, " or "))
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
