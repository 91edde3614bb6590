// Package config reads licenseflow's configuration from environment
// variables, once, in main. Every variable is declared in Vars, which is
// also what the README's table and the docker-compose check are held to.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/sealing"
)

// Var is one environment variable licenseflow reads.
type Var struct {
	Name        string
	Default     string
	Description string
}

// Vars lists every variable, in README order.
var Vars = []Var{
	{"DATABASE_URL", "sqlite:data/licenseflow.db", "Application database: `postgres://user:pass@host:5432/db?sslmode=disable` in production, or `sqlite:<path>`."},
	{"LICENSEFLOW_HTTP_ADDR", ":8080", "Address the API listens on."},
	{"LICENSEFLOW_PUBLIC_URL", "http://localhost:8080", "Where customers and sites reach licenseflow (links in emails)."},
	{"LICENSEFLOW_ADMIN_TOKEN", "", "Bootstrap admin API token (at least 16 characters). Unset: one is generated and printed once, when no admin token exists."},
	{"LICENSEFLOW_ADMIN_EMAILS", "", "Comma-separated operator emails that may sign in to /admin by magic link (an admin API token also works)."},
	{"LICENSEFLOW_SECRET_KEYS", "", "Key-encryption keys that seal every secret licenseflow stores (webhook signing secrets and the other sealed values): `id:key` pairs, comma-separated, the current key first; each key is 32 random bytes, base64 (`openssl rand -base64 32`). Required by `api` and `worker`. Dev mode: generated once into `<data dir>/secret-keys` when unset. To rotate, put a new key first and keep the old ones after it."},
	{"LICENSEFLOW_DATA_DIR", "data", "Dev mode: directory for the embedded Temporal server's SQLite file."},
	{"LICENSEFLOW_GRACE_DAYS", "7", "Days an expired license still validates (with a warning)."},
	{"LICENSEFLOW_RETENTION_DAYS", "365", "Days after the grace period a license's workflow waits for a renewal before closing (a later renewal resumes it)."},
	{"LICENSEFLOW_LOG_LEVEL", "info", "debug, info, warn or error."},
	{"LICENSEFLOW_LOG_FORMAT", "text", "text or json."},
	{"LICENSEFLOW_RELEASES_DIR", "data/releases", "Where uploaded release artifacts are stored (shared storage when several API instances run)."},
	{"LICENSEFLOW_DOMAIN_SILENCE_DAYS", "30", "Domains with no heartbeat or validation for this many days are released by a daily schedule."},
	{"LICENSEFLOW_HEARTBEAT_FLUSH_SECONDS", "10", "Heartbeats' last-seen times are written in batches this often (1 to 3600): a crash loses at most this much of them, far below the domain silence (a heartbeat of a domain silent for half of it is written at once)."},
	{"LICENSEFLOW_RELEASE_EMAILS_PER_MINUTE", "120", "Throttle of new-release notification emails."},
	{"LICENSEFLOW_TRUSTED_PROXIES", "", "Comma-separated proxy addresses/CIDRs allowed to set X-Forwarded-For (client IPs for rate limits). Empty: none."},
	{"LICENSEFLOW_STAGING_DOMAINS", "default", "Staging and local copies of sites, which activate without taking a domain slot: comma-separated names (`localhost`), `*.suffix`, `prefix.*` (a subdomain whose first label is prefix) and CIDR prefixes. `default` stands for `" + strings.Join(models.DefaultStagingDomains, ", ") + "`; add to it (`default,*.internal`) or replace it; `none` exempts nothing."},
	{"LICENSEFLOW_METRICS_ADDR", "", "Separate address for `GET /metrics` (e.g. `127.0.0.1:9090`, reachable by Prometheus only). Empty: the API serves /metrics on its own address and the worker serves none."},
	{"LICENSEFLOW_METRICS_TOKEN", "", "When set, `/metrics` answers only requests with `Authorization: Bearer <token>`."},
	{"TEMPORAL_ADDRESS", "127.0.0.1:7233", "Temporal frontend (host:port). Dev mode serves the embedded server here."},
	{"TEMPORAL_NAMESPACE", "default", "Temporal namespace."},
	{"TEMPORAL_TLS_CERT", "", "Client certificate file for mTLS to Temporal."},
	{"TEMPORAL_TLS_KEY", "", "Client key file for mTLS to Temporal."},
	{"TEMPORAL_TLS_CA", "", "CA bundle to verify the Temporal server (empty: system roots when TLS is on)."},
	{"TEMPORAL_TLS_SERVER_NAME", "", "Server name to verify, when it differs from the address."},
	{"TEMPORAL_API_KEY", "", "API key for Temporal Cloud (implies TLS)."},
	{"TEMPORAL_UI_URL", "http://localhost:8233", "Temporal Web UI base URL, for links from licenses to their workflows. Unset: `http://localhost:<TEMPORAL_UI_PORT>`."},
	{"TEMPORAL_UI_PORT", "8233", "Dev mode: port of the embedded Web UI (and of the links to it unless `TEMPORAL_UI_URL` is set)."},
	{"TEMPORAL_LOG_LEVEL", "error", "Dev mode: log level of the embedded Temporal server."},
	{"LICENSEFLOW_HISTORY_RETENTION", "", "How long Temporal keeps a license's closed workflow runs (`30d`, `720h`; at least a day). Set on the namespace at start when given; dev mode uses 30d and also archives closed runs under `<data dir>/archive`."},
	{"SMTP_HOST", "", "SMTP server. Unset: emails stay in the outbox (status held), readable through the API."},
	{"SMTP_PORT", "587", "SMTP port."},
	{"SMTP_USERNAME", "", "SMTP user (no authentication when empty)."},
	{"SMTP_PASSWORD", "", "SMTP password."},
	{"SMTP_FROM", "licenses@localhost", "Sender address of every email."},
	{"SMTP_TLS", "starttls", "starttls, tls (implicit, port 465) or none (local mail catchers)."},
	{"STRIPE_SECRET_KEY", "", "Stripe secret key (sk_live_… / sk_test_…), for renewal Checkout Sessions. Unset: renewal links become pending CRM orders."},
	{"STRIPE_WEBHOOK_SECRETS", "", "Signing secrets of the Stripe webhook endpoint (whsec_…), comma-separated while rotating. Unset: the webhook answers 503."},
	{"STRIPE_API_URL", "", "Stripe API base URL override (stripe-mock in tests); empty means https://api.stripe.com."},
	{"LICENSEFLOW_WEBHOOK_TRUSTED_TARGETS", "", "Comma-separated hosts and networks (`crm.internal,10.1.0.0/16`) webhook endpoints may point to although private, over plain http too. Others must be https on public addresses. Dev mode trusts every target."},
	{"LICENSEFLOW_WEBHOOK_RETRY_HOURS", "72", "How long a failing webhook delivery is retried (backing off from 30 s to 1 h) before it is marked failed."},
	{"LICENSEFLOW_WEBHOOK_TIMEOUT_SECONDS", "10", "How long one webhook delivery may take before it counts as failed (and is retried)."},
	{"LICENSEFLOW_VENDOR_NAME", "licenseflow", "Seller name on invoices and emails."},
	{"LICENSEFLOW_VENDOR_ADDRESS", "", "Seller address on invoices (use \\n for line breaks)."},
	{"LICENSEFLOW_VENDOR_VAT_ID", "", "Seller VAT id on invoices."},
	{"LICENSEFLOW_VENDOR_EMAIL", "", "Seller contact email on invoices."},
}

// Config is the parsed configuration.
type Config struct {
	DatabaseURL string
	HTTPAddr    string
	PublicURL   string
	AdminToken  string
	AdminEmails []string
	// SecretKeys is the keyring specification (sealing.Parse); empty
	// outside dev mode is refused by the roles that need it.
	SecretKeys  string
	DataDir     string
	GracePeriod time.Duration
	Retention   time.Duration
	Site        Site
	LogLevel    string
	LogFormat   string
	Temporal    Temporal
	SMTP        SMTP
	Stripe      Stripe
	Vendor      Vendor
	Webhooks    Webhooks
	Metrics     Metrics
}

// Webhooks configures outbound webhooks.
type Webhooks struct {
	TrustedTargets []string
	RetryFor       time.Duration
	Timeout        time.Duration
}

// Site configures the site-facing API.
type Site struct {
	ReleasesDir   string
	DomainSilence time.Duration
	// HeartbeatFlush is how often heartbeats' last-seen times are written.
	HeartbeatFlush         time.Duration
	ReleaseEmailsPerMinute int
	TrustedProxies         []string
	// Staging tells staging copies of sites, which take no domain slot.
	Staging models.StagingRule
}

// Metrics says where Prometheus scrapes licenseflow.
type Metrics struct {
	// Addr is a separate listener for /metrics; empty serves it on the API.
	Addr  string
	Token string
}

// Stripe configures payments; an empty SecretKey means no outgoing calls.
type Stripe struct {
	SecretKey      string
	WebhookSecrets []string
	APIURL         string
}

// Temporal is how to reach the Temporal cluster.
type Temporal struct {
	Address    string
	Namespace  string
	TLSCert    string
	TLSKey     string
	TLSCA      string
	ServerName string
	APIKey     string
	UIURL      string
	UIPort     int
	LogLevel   string
	// HistoryRetention is the namespace's retention of closed runs; 0
	// leaves the namespace's own (dev mode: DevHistoryRetention).
	HistoryRetention time.Duration
}

// DevHistoryRetention is how long `licenseflow dev` keeps closed runs.
const DevHistoryRetention = 30 * 24 * time.Hour

// TLS reports whether the connection to Temporal uses TLS.
func (t Temporal) TLS() bool {
	return t.TLSCert != "" || t.TLSCA != "" || t.APIKey != "" || t.ServerName != ""
}

// SMTP is the mail server; Host == "" means no SMTP (outbox only).
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	From     string
	TLS      string
}

// Vendor is who sells, for invoices.
type Vendor struct {
	Name    string
	Address string
	VATID   string
	Email   string
}

// Load reads the configuration; getenv is os.Getenv in main.
func Load(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		for _, v := range Vars {
			if v.Name == name {
				return v.Default
			}
		}
		panic("config: undeclared variable " + name)
	}
	var errs []error
	integer := func(name string, min, max int) int {
		n, err := strconv.Atoi(get(name))
		if err != nil || n < min || n > max {
			errs = append(errs, fmt.Errorf("%s=%q must be a whole number between %d and %d", name, get(name), min, max))
		}
		return n
	}
	// duration reads `30d` or a Go duration such as `720h`; empty is 0.
	duration := func(name string, min time.Duration) time.Duration {
		raw := get(name)
		if raw == "" {
			return 0
		}
		d, err := time.ParseDuration(raw)
		if days, derr := strconv.Atoi(strings.TrimSuffix(raw, "d")); derr == nil && strings.HasSuffix(raw, "d") {
			d, err = time.Duration(days)*24*time.Hour, nil
		}
		if err != nil || d < min {
			errs = append(errs, fmt.Errorf("%s=%q must be a duration of at least %s, such as 30d or 720h", name, raw, min))
		}
		return d
	}
	oneOf := func(name string, allowed ...string) string {
		v := strings.ToLower(get(name))
		for _, a := range allowed {
			if v == a {
				return v
			}
		}
		errs = append(errs, fmt.Errorf("%s=%q must be one of %s", name, v, strings.Join(allowed, ", ")))
		return v
	}
	c := Config{
		DatabaseURL: get("DATABASE_URL"),
		HTTPAddr:    get("LICENSEFLOW_HTTP_ADDR"),
		PublicURL:   strings.TrimRight(get("LICENSEFLOW_PUBLIC_URL"), "/"),
		AdminToken:  get("LICENSEFLOW_ADMIN_TOKEN"),
		AdminEmails: lowerAll(splitList(get("LICENSEFLOW_ADMIN_EMAILS"))),
		SecretKeys:  get("LICENSEFLOW_SECRET_KEYS"),
		DataDir:     get("LICENSEFLOW_DATA_DIR"),
		GracePeriod: time.Duration(integer("LICENSEFLOW_GRACE_DAYS", 0, 365)) * 24 * time.Hour,
		Retention:   time.Duration(integer("LICENSEFLOW_RETENTION_DAYS", 1, 3650)) * 24 * time.Hour,
		Site: Site{
			ReleasesDir:            get("LICENSEFLOW_RELEASES_DIR"),
			DomainSilence:          time.Duration(integer("LICENSEFLOW_DOMAIN_SILENCE_DAYS", 1, 3650)) * 24 * time.Hour,
			HeartbeatFlush:         time.Duration(integer("LICENSEFLOW_HEARTBEAT_FLUSH_SECONDS", 1, 3600)) * time.Second,
			ReleaseEmailsPerMinute: integer("LICENSEFLOW_RELEASE_EMAILS_PER_MINUTE", 1, 100000),
			TrustedProxies:         splitList(get("LICENSEFLOW_TRUSTED_PROXIES")),
		},
		Metrics:   Metrics{Addr: get("LICENSEFLOW_METRICS_ADDR"), Token: get("LICENSEFLOW_METRICS_TOKEN")},
		LogLevel:  oneOf("LICENSEFLOW_LOG_LEVEL", "debug", "info", "warn", "error"),
		LogFormat: oneOf("LICENSEFLOW_LOG_FORMAT", "text", "json"),
		Temporal: Temporal{
			Address: get("TEMPORAL_ADDRESS"), Namespace: get("TEMPORAL_NAMESPACE"),
			TLSCert: get("TEMPORAL_TLS_CERT"), TLSKey: get("TEMPORAL_TLS_KEY"), TLSCA: get("TEMPORAL_TLS_CA"),
			ServerName: get("TEMPORAL_TLS_SERVER_NAME"), APIKey: get("TEMPORAL_API_KEY"),
			UIURL: strings.TrimRight(get("TEMPORAL_UI_URL"), "/"), UIPort: integer("TEMPORAL_UI_PORT", 1, 65535),
			LogLevel:         oneOf("TEMPORAL_LOG_LEVEL", "debug", "info", "warn", "error"),
			HistoryRetention: duration("LICENSEFLOW_HISTORY_RETENTION", 24*time.Hour),
		},
		SMTP: SMTP{
			Host: get("SMTP_HOST"), Port: integer("SMTP_PORT", 1, 65535), Username: get("SMTP_USERNAME"),
			Password: get("SMTP_PASSWORD"), From: get("SMTP_FROM"), TLS: oneOf("SMTP_TLS", "starttls", "tls", "none"),
		},
		Stripe: Stripe{SecretKey: get("STRIPE_SECRET_KEY"), WebhookSecrets: splitList(get("STRIPE_WEBHOOK_SECRETS")), APIURL: get("STRIPE_API_URL")},
		Webhooks: Webhooks{
			TrustedTargets: splitList(get("LICENSEFLOW_WEBHOOK_TRUSTED_TARGETS")),
			RetryFor:       time.Duration(integer("LICENSEFLOW_WEBHOOK_RETRY_HOURS", 1, 24*30)) * time.Hour,
			Timeout:        time.Duration(integer("LICENSEFLOW_WEBHOOK_TIMEOUT_SECONDS", 1, 120)) * time.Second,
		},
		Vendor: Vendor{
			Name: get("LICENSEFLOW_VENDOR_NAME"), Address: strings.ReplaceAll(get("LICENSEFLOW_VENDOR_ADDRESS"), `\n`, "\n"),
			VATID: get("LICENSEFLOW_VENDOR_VAT_ID"), Email: get("LICENSEFLOW_VENDOR_EMAIL"),
		},
	}
	staging, err := stagingRule(get("LICENSEFLOW_STAGING_DOMAINS"))
	if err != nil {
		errs = append(errs, fmt.Errorf("LICENSEFLOW_STAGING_DOMAINS: %w", err))
	}
	c.Site.Staging = staging
	if strings.TrimSpace(getenv("TEMPORAL_UI_URL")) == "" {
		// Without an explicit URL the link follows the UI's port (the
		// embedded Web UI in dev mode listens on TEMPORAL_UI_PORT).
		c.Temporal.UIURL = fmt.Sprintf("http://localhost:%d", c.Temporal.UIPort)
	}
	if c.SecretKeys != "" {
		if _, err := sealing.Parse(c.SecretKeys); err != nil {
			errs = append(errs, fmt.Errorf("LICENSEFLOW_SECRET_KEYS: %w", err))
		}
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		errs = append(errs, errors.New("LICENSEFLOW_ADMIN_TOKEN must be at least 16 characters"))
	}
	if (c.Temporal.TLSCert == "") != (c.Temporal.TLSKey == "") {
		errs = append(errs, errors.New("TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together: set both or neither"))
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("LICENSEFLOW_PUBLIC_URL=%q must be an http(s) URL such as https://licenses.example.com", c.PublicURL))
	}
	return c, errors.Join(errs...)
}

// stagingRule reads LICENSEFLOW_STAGING_DOMAINS: patterns, where default
// stands for the built-in list and none for no exemption.
func stagingRule(raw string) (models.StagingRule, error) {
	var patterns []string
	for _, p := range splitList(raw) {
		switch strings.ToLower(p) {
		case "none":
		case "default":
			patterns = append(patterns, models.DefaultStagingDomains...)
		default:
			patterns = append(patterns, p)
		}
	}
	return models.ParseStagingRule(patterns)
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func lowerAll(list []string) []string {
	for i := range list {
		list[i] = strings.ToLower(list[i])
	}
	return list
}
