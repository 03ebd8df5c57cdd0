package notify

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Provider types accepted in a config.
const (
	TypeSlack       = "slack"
	TypeSlackBot    = "slack-bot"
	TypeTeams       = "teams"
	TypeDiscord     = "discord"
	TypeGoogleChat  = "googlechat"
	TypeWebhook     = "webhook"
	TypeHMACWebhook = "hmac-webhook"
)

var providerTypes = []string{TypeSlack, TypeSlackBot, TypeTeams, TypeDiscord, TypeGoogleChat, TypeWebhook, TypeHMACWebhook}

// Config is the notification config, usually mounted from a Secret:
//
//	providers:
//	  - name: platform-slack
//	    type: slack            # slack | slack-bot | teams | discord | googlechat | webhook | hmac-webhook
//	    url: https://hooks.slack.com/services/...   # or urlFile: /etc/tenantry/notify/slack-url
//	  - name: platform-bot
//	    type: slack-bot
//	    channel: "#platform"
//	    tokenFile: /etc/tenantry/notify/slack-token  # or token:
//	    # url: overrides the Web API base URL (default https://slack.com/api)
//	  - name: audit
//	    type: hmac-webhook
//	    url: https://audit.example.com/hooks/tenantry
//	    secretFile: /etc/tenantry/notify/hmac        # or secret:
//	routes:                     # none: every event to every provider
//	  - kinds: [drift, failure, recovered, pruned, heldBack, stalled]   # empty = all
//	    tenants: ["team-*"]                                              # path.Match globs; empty = all
//	    providers: [platform-slack]
//	dedupInterval: 1h           # default 1h
//	batchWindow: 10s            # default 10s
//
// Secrets (url, token, secret) may be given inline or, better, as files; files are read
// by Build. Unknown fields are errors.
type Config struct {
	Providers     []ProviderConfig `yaml:"providers"`
	Routes        []Route          `yaml:"routes"`
	DedupInterval time.Duration    `yaml:"dedupInterval"`
	BatchWindow   time.Duration    `yaml:"batchWindow"`
}

// ProviderConfig is one provider. Exactly one of each secret and its file may be set.
type ProviderConfig struct {
	Name       string `yaml:"name"`
	Type       string `yaml:"type"`
	URL        string `yaml:"url"`
	URLFile    string `yaml:"urlFile"`
	Channel    string `yaml:"channel"`
	Token      string `yaml:"token"`
	TokenFile  string `yaml:"tokenFile"`
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secretFile"`
}

// String names p without its secrets, so a logged config leaks nothing.
func (p ProviderConfig) String() string { return fmt.Sprintf("%s (%s)", p.Name, p.Type) }

// GoString is String, for %#v.
func (p ProviderConfig) GoString() string { return p.String() }

// LoadConfig reads, strictly decodes and validates the config at path. It does not
// read the secret files (Build does).
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading notify config: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("notify config %s: %w", path, err)
	}
	return c, nil
}

// ParseConfig strictly decodes and validates a YAML config.
func ParseConfig(data []byte) (*Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("config is empty")
		}
		return nil, fmt.Errorf("decoding: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks c without reading secret files. Errors name the field, never a secret.
func (c *Config) Validate() error {
	if len(c.Providers) == 0 {
		return errors.New("providers: at least one provider is required")
	}
	names := map[string]bool{}
	for i, p := range c.Providers {
		if err := p.validate(); err != nil {
			return fmt.Errorf("providers[%d]%s%w", i, p.label(), err)
		}
		if names[p.Name] {
			return fmt.Errorf("providers[%d].name: duplicate name %q", i, p.Name)
		}
		names[p.Name] = true
	}
	if c.DedupInterval < 0 {
		return errors.New("dedupInterval: must not be negative")
	}
	if c.BatchWindow < 0 {
		return errors.New("batchWindow: must not be negative")
	}
	return validateRoutes(c.Routes, func(name string) bool { return names[name] })
}

func (p ProviderConfig) label() string {
	if p.Name == "" {
		return ""
	}
	return " (" + p.Name + ")"
}

func (p ProviderConfig) validate() error {
	if p.Name == "" {
		return errors.New(".name: required")
	}
	known := false
	for _, t := range providerTypes {
		known = known || p.Type == t
	}
	if !known {
		return fmt.Errorf(".type: unknown provider type %q (want one of %s)", p.Type, strings.Join(providerTypes, ", "))
	}
	urlRequired := p.Type != TypeSlackBot
	if err := oneOf("url", p.URL, p.URLFile, urlRequired); err != nil {
		return err
	}
	if p.URL != "" {
		if err := checkURL(p.URL); err != nil {
			return fmt.Errorf(".url: %w", err)
		}
	}
	bot, hmacType := p.Type == TypeSlackBot, p.Type == TypeHMACWebhook
	if err := onlyFor("channel", p.Channel != "", bot); err != nil {
		return err
	}
	if bot && p.Channel == "" {
		return errors.New(".channel: required for type slack-bot")
	}
	if err := onlyFor("token", p.Token != "" || p.TokenFile != "", bot); err != nil {
		return err
	}
	if err := oneOf("token", p.Token, p.TokenFile, bot); err != nil {
		return err
	}
	if err := onlyFor("secret", p.Secret != "" || p.SecretFile != "", hmacType); err != nil {
		return err
	}
	return oneOf("secret", p.Secret, p.SecretFile, hmacType)
}

// oneOf checks that at most one of field and fieldFile is set, and one when required.
func oneOf(field, inline, file string, required bool) error {
	switch {
	case inline != "" && file != "":
		return fmt.Errorf(".%s: set %s or %sFile, not both", field, field, field)
	case required && inline == "" && file == "":
		return fmt.Errorf(".%s: %s or %sFile is required", field, field, field)
	}
	return nil
}

func onlyFor(field string, set, allowed bool) error {
	if set && !allowed {
		return fmt.Errorf(".%s: not used by this provider type", field)
	}
	return nil
}

// checkURL accepts absolute http(s) URLs; the error never repeats the URL.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid URL")
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("must be an absolute http(s) URL")
	}
	return nil
}

// Build reads the secret files and returns a started Router (see Router) over the
// providers. The Notifier it returns is a *Router: Close it to flush on shutdown.
// opts are applied after the config's dedupInterval and batchWindow.
func (c *Config) Build(opts ...Option) (Notifier, error) {
	r, err := c.BuildRouter(opts...)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// BuildRouter is Build returning the *Router.
func (c *Config) BuildRouter(opts ...Option) (*Router, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("notify config: %w", err)
	}
	providers := map[string]Notifier{}
	for i, p := range c.Providers {
		n, err := p.build()
		if err != nil {
			return nil, fmt.Errorf("notify config: providers[%d]%s%w", i, p.label(), err)
		}
		providers[p.Name] = n
	}
	all := append([]Option{WithDedupInterval(c.DedupInterval), WithBatchWindow(c.BatchWindow)}, opts...)
	return NewRouter(providers, c.Routes, all...)
}

// Provider builds the provider called name, reading its secret files.
func (c *Config) Provider(name string) (Notifier, error) {
	for i, p := range c.Providers {
		if p.Name == name {
			if err := p.validate(); err != nil {
				return nil, fmt.Errorf("providers[%d]%s%w", i, p.label(), err)
			}
			return p.build()
		}
	}
	return nil, fmt.Errorf("no provider %q", name)
}

func (p ProviderConfig) build() (Notifier, error) {
	u, err := secretValue("url", p.URL, p.URLFile)
	if err != nil {
		return nil, err
	}
	if p.URLFile != "" && u != "" {
		if err := checkURL(u); err != nil {
			return nil, fmt.Errorf(".urlFile: %w", err)
		}
	}
	switch p.Type {
	case TypeSlack:
		return NewSlack(u), nil
	case TypeSlackBot:
		token, err := secretValue("token", p.Token, p.TokenFile)
		if err != nil {
			return nil, err
		}
		s := NewSlackBot(token, p.Channel)
		if u != "" {
			s.APIURL = u
		}
		return s, nil
	case TypeTeams:
		return NewTeams(u), nil
	case TypeDiscord:
		return NewDiscord(u), nil
	case TypeGoogleChat:
		return NewGoogleChat(u), nil
	case TypeWebhook:
		return NewWebhook(u), nil
	case TypeHMACWebhook:
		secret, err := secretValue("secret", p.Secret, p.SecretFile)
		if err != nil {
			return nil, err
		}
		return NewHMACWebhook(u, []byte(secret)), nil
	}
	return nil, fmt.Errorf(".type: unknown provider type %q", p.Type)
}

// secretValue is inline, or the trimmed content of file. Errors name the file, never its content.
func secretValue(field, inline, file string) (string, error) {
	if file == "" {
		return inline, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf(".%sFile: %w", field, err)
	}
	v := strings.TrimSpace(string(data))
	if v == "" {
		return "", fmt.Errorf(".%sFile: %s is empty", field, file)
	}
	return v, nil
}
