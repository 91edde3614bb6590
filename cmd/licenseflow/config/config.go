// Package config reads licenseflow's configuration from environment
// variables, once, in main. Every variable is declared in Vars, which is
// also what the table in docs/configuration.md and the docker-compose check are held to.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/licenseflow/licenseflow/database"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/sealing"
	"github.com/licenseflow/licenseflow/worker"
)

// Role is what a licenseflow process runs: its command.
type Role string

// The commands.
const (
	RoleDev     Role = "dev"
	RoleAPI     Role = "api"
	RoleWorker  Role = "worker"
	RoleMigrate Role = "migrate"
)

// Roles are the commands, in the order docs/configuration.md lists them.
var Roles = []Role{RoleDev, RoleAPI, RoleWorker, RoleMigrate}

// Var is one environment variable licenseflow reads.
type Var struct {
	Name        string
	Default     string
	Description string
	// ReadBy are the commands that read it.
	ReadBy []Role
	// RequiredBy are the production commands that refuse to start unless
	// it is set: a default that suits `licenseflow dev` (SQLite in ./data,
	// links to localhost, no SMTP) would be a quiet mistake there.
	RequiredBy []Role
}

// Who reads what.
var (
	every         = []Role{RoleDev, RoleAPI, RoleWorker, RoleMigrate}
	services      = []Role{RoleDev, RoleAPI, RoleWorker}
	apiSide       = []Role{RoleDev, RoleAPI}
	apiAndMigrate = []Role{RoleDev, RoleAPI, RoleMigrate}
	workerSide    = []Role{RoleDev, RoleWorker}
	production    = []Role{RoleAPI, RoleWorker}
	devOnly       = []Role{RoleDev}
)

// Reads reports whether role reads v.
func (v Var) Reads(role Role) bool { return slices.Contains(v.ReadBy, role) }

// Requires reports whether role refuses to start without v.
func (v Var) Requires(role Role) bool { return slices.Contains(v.RequiredBy, role) }

// Vars lists every variable, in the order docs/configuration.md shows them.
var Vars = []Var{
	{Name: "DATABASE_URL", Default: "sqlite:data/licenseflow.db", ReadBy: every, RequiredBy: []Role{RoleAPI, RoleWorker, RoleMigrate},
		Description: "Application database: `postgres://user:pass@host:5432/db?sslmode=disable` in production, or `sqlite:<path>`. Required by `api`, `worker` and `migrate` (only dev mode falls back to the SQLite file)."},
	{Name: "LICENSEFLOW_HTTP_ADDR", Default: ":8080", ReadBy: apiSide,
		Description: "Address the API listens on."},
	{Name: "LICENSEFLOW_PUBLIC_URL", Default: "http://localhost:8080", ReadBy: services, RequiredBy: []Role{RoleAPI, RoleWorker},
		Description: "Where customers and sites reach licenseflow (links in emails)."},
	{Name: "LICENSEFLOW_ADMIN_TOKEN", Default: "", ReadBy: apiAndMigrate,
		Description: "Bootstrap admin API token (at least 16 characters). Unset: one is generated and printed once, when no admin token exists."},
	{Name: "LICENSEFLOW_ADMIN_EMAILS", Default: "", ReadBy: apiSide,
		Description: "Comma-separated emails of the dashboard's owners: they sign in to /admin by magic link and may do everything (an admin API token also works). See [Operator roles](selling.md#operator-roles)."},
	{Name: "LICENSEFLOW_SUPPORT_EMAILS", Default: "", ReadBy: apiSide,
		Description: "Comma-separated emails of support operators: they sign in to /admin by magic link and look after licenses and customers (suspend, reinstate, domains; everything read-only besides), but change neither the catalog, releases, webhooks nor tokens, and neither create nor revoke licenses. An address may not be in both lists. Moving an address between the lists takes effect on its next request."},
	{Name: "LICENSEFLOW_SECRET_KEYS", Default: "", ReadBy: services, RequiredBy: []Role{RoleAPI, RoleWorker},
		Description: "Key-encryption keys that seal every secret licenseflow stores (webhook signing secrets, the private halves of the keys that sign site answers and offline tokens) and encrypt every Temporal payload: `id:key` pairs, comma-separated, the current key first; each key is 32 random bytes, base64 (`openssl rand -base64 32`). Required by `api` and `worker`. Dev mode: generated once into `<data dir>/secret-keys` when unset. To rotate, put a new key first and keep the old ones after it."},
	{Name: "LICENSEFLOW_DATA_DIR", Default: "data", ReadBy: devOnly,
		Description: "Dev mode: directory for the embedded Temporal server's SQLite file."},
	{Name: "LICENSEFLOW_GRACE_DAYS", Default: "7", ReadBy: apiSide,
		Description: "Days an expired license still validates (with a warning)."},
	{Name: "LICENSEFLOW_RETENTION_DAYS", Default: "365", ReadBy: apiSide,
		Description: "Days after the grace period a license's workflow waits for a renewal before closing (a later renewal resumes it)."},
	{Name: "LICENSEFLOW_LOG_LEVEL", Default: "info", ReadBy: every,
		Description: "debug, info, warn or error."},
	{Name: "LICENSEFLOW_LOG_FORMAT", Default: "text", ReadBy: every,
		Description: "text or json."},
	{Name: "LICENSEFLOW_RELEASES_DIR", Default: "data/releases", ReadBy: apiSide,
		Description: "Where uploaded release artifacts are stored (shared storage when several API instances run)."},
	{Name: "LICENSEFLOW_DOMAIN_SILENCE_DAYS", Default: "30", ReadBy: services,
		Description: "Domains with no heartbeat or validation for this many days are released by a daily schedule."},
	{Name: "LICENSEFLOW_HEARTBEAT_FLUSH_SECONDS", Default: "10", ReadBy: apiSide,
		Description: "Heartbeats' last-seen times are written in batches this often (1 to 3600): a crash loses at most this much of them, far below the domain silence (a heartbeat of a domain silent for half of it is written at once)."},
	{Name: "LICENSEFLOW_RELEASE_EMAILS_PER_MINUTE", Default: "120", ReadBy: apiSide,
		Description: "Throttle of new-release notification emails."},
	{Name: "LICENSEFLOW_TRUSTED_PROXIES", Default: "", ReadBy: apiSide,
		Description: "Comma-separated proxy addresses/CIDRs allowed to set X-Forwarded-For (client IPs for rate limits). Empty: none."},
	{Name: "LICENSEFLOW_STAGING_DOMAINS", Default: "default", ReadBy: apiSide,
		Description: "Staging and local copies of sites, which activate without taking a domain slot: comma-separated names (`localhost`), `*.suffix`, `prefix.*` (a subdomain whose first label is prefix, in front of a domain already active on the same license) and CIDR prefixes. `default` stands for `" + strings.Join(models.DefaultStagingDomains, ", ") + "`; add to it (`default,*.internal`) or replace it; `none` exempts nothing."},
	{Name: "LICENSEFLOW_WORKER_HEALTH_ADDR", Default: ":8081", ReadBy: []Role{RoleWorker},
		Description: "Address where a `worker` process answers `GET /healthz` (the process runs) and `GET /readyz` (its database and Temporal namespace answer), for an orchestrator's probes."},
	{Name: "LICENSEFLOW_WORKFLOW_CACHE", Default: strconv.Itoa(worker.DefaultWorkflowCache), ReadBy: workerSide,
		Description: "How many license workflows a worker process keeps in memory between their steps (about 100–200 KB each, see Performance); others replay their short history when their next step comes. Bounds the worker's memory whatever the number of licenses; dev mode bounds the embedded Temporal server's cache of workflow states to the same number."},
	{Name: "LICENSEFLOW_WORKER_DRAIN_SECONDS", Default: "30", ReadBy: workerSide,
		Description: "On SIGTERM the worker stops taking tasks and waits this long (0 to 3600 seconds) for those under way (an email being sent, a webhook being delivered) before it cancels them; give the orchestrator's grace period a few seconds more."},
	{Name: "LICENSEFLOW_METRICS_ADDR", Default: "", ReadBy: services,
		Description: "Separate address for `GET /metrics` (e.g. `127.0.0.1:9090`, reachable by Prometheus only). Empty: the API serves /metrics on its own address and the worker serves none."},
	{Name: "LICENSEFLOW_METRICS_TOKEN", Default: "", ReadBy: services,
		Description: "When set, `/metrics` answers only requests with `Authorization: Bearer <token>`."},
	{Name: "TEMPORAL_ADDRESS", Default: "127.0.0.1:7233", ReadBy: services, RequiredBy: []Role{RoleAPI, RoleWorker},
		Description: "Temporal frontend (host:port). Dev mode serves the embedded server here."},
	{Name: "TEMPORAL_NAMESPACE", Default: "default", ReadBy: services,
		Description: "Temporal namespace."},
	{Name: "TEMPORAL_TLS_CERT", Default: "", ReadBy: production,
		Description: "Client certificate file for mTLS to Temporal."},
	{Name: "TEMPORAL_TLS_KEY", Default: "", ReadBy: production,
		Description: "Client key file for mTLS to Temporal."},
	{Name: "TEMPORAL_TLS_CA", Default: "", ReadBy: production,
		Description: "CA bundle to verify the Temporal server (empty: system roots when TLS is on)."},
	{Name: "TEMPORAL_TLS_SERVER_NAME", Default: "", ReadBy: production,
		Description: "Server name to verify, when it differs from the address."},
	{Name: "TEMPORAL_API_KEY", Default: "", ReadBy: production,
		Description: "API key for Temporal Cloud (implies TLS)."},
	{Name: "TEMPORAL_UI_URL", Default: "http://localhost:8233", ReadBy: apiSide,
		Description: "Temporal Web UI base URL, for links from licenses to their workflows. Unset: `http://localhost:<TEMPORAL_UI_PORT>`."},
	{Name: "TEMPORAL_UI_PORT", Default: "8233", ReadBy: devOnly,
		Description: "Dev mode: port of the embedded Web UI (and of the links to it unless `TEMPORAL_UI_URL` is set)."},
	{Name: "TEMPORAL_LOG_LEVEL", Default: "error", ReadBy: devOnly,
		Description: "Dev mode: log level of the embedded Temporal server."},
	{Name: "LICENSEFLOW_HISTORY_RETENTION", Default: "", ReadBy: services,
		Description: "How long Temporal keeps a license's closed workflow runs (`30d`, `720h`; at least a day). Set on the namespace at start when given; dev mode uses 30d and also archives closed runs under `<data dir>/archive`."},
	{Name: "SMTP_HOST", Default: "", ReadBy: workerSide, RequiredBy: []Role{RoleWorker},
		Description: "SMTP server. `none` (or unset in dev mode): emails stay in the outbox (status held), readable through the API."},
	{Name: "SMTP_PORT", Default: "587", ReadBy: workerSide,
		Description: "SMTP port."},
	{Name: "SMTP_USERNAME", Default: "", ReadBy: workerSide,
		Description: "SMTP user (no authentication when empty)."},
	{Name: "SMTP_PASSWORD", Default: "", ReadBy: workerSide,
		Description: "SMTP password."},
	{Name: "SMTP_FROM", Default: "licenses@localhost", ReadBy: workerSide, RequiredBy: []Role{RoleWorker},
		Description: "Sender address of every email."},
	{Name: "SMTP_TLS", Default: "starttls", ReadBy: workerSide,
		Description: "starttls, tls (implicit, port 465) or none (local mail catchers)."},
	{Name: "STRIPE_SECRET_KEY", Default: "", ReadBy: apiSide,
		Description: "Stripe secret key (sk_live_… / sk_test_…), for renewal and plans-page Checkout Sessions. Unset: renewal links and plans-page purchases become pending CRM orders."},
	{Name: "STRIPE_WEBHOOK_SECRETS", Default: "", ReadBy: apiSide,
		Description: "Signing secrets of the Stripe webhook endpoint (whsec_…), comma-separated while rotating. Unset: the webhook answers 503."},
	{Name: "PAYPAL_WEBHOOK_ID", Default: "", ReadBy: apiSide,
		Description: "Id of the PayPal webhook (PayPal's developer dashboard), part of what PayPal signs. Unset: POST /api/v1/webhooks/paypal answers 503."},
	{Name: "PAYPAL_CLIENT_ID", Default: "", ReadBy: apiSide,
		Description: "PayPal REST app client id: renewal links of licenses PayPal paid for become PayPal orders (with PAYPAL_CLIENT_SECRET). Unset: they renew through Stripe or the CRM."},
	{Name: "PAYPAL_CLIENT_SECRET", Default: "", ReadBy: apiSide,
		Description: "PayPal REST app secret, with PAYPAL_CLIENT_ID."},
	{Name: "PAYPAL_API_URL", Default: "https://api-m.paypal.com", ReadBy: apiSide,
		Description: "PayPal REST API base URL: https://api-m.sandbox.paypal.com for the sandbox."},
	{Name: "PADDLE_WEBHOOK_SECRETS", Default: "", ReadBy: apiSide,
		Description: "Secret keys of the Paddle notification destination (pdl_ntfset_…), comma-separated while rotating. Unset: POST /api/v1/webhooks/paddle answers 503."},
	{Name: "STRIPE_API_URL", Default: "", ReadBy: apiSide,
		Description: "Stripe API base URL override (stripe-mock in tests); empty means https://api.stripe.com."},
	{Name: "LICENSEFLOW_WEBHOOK_TRUSTED_TARGETS", Default: "", ReadBy: services,
		Description: "Comma-separated hosts and networks (`crm.internal,10.1.0.0/16`) webhook endpoints may point to although private, over plain http too. Others must be https on public addresses. Dev mode trusts every target."},
	{Name: "LICENSEFLOW_WEBHOOK_RETRY_HOURS", Default: "72", ReadBy: services,
		Description: "How long a failing webhook delivery is retried (backing off from 30 s to 1 h) before it is marked failed."},
	{Name: "LICENSEFLOW_WEBHOOK_TIMEOUT_SECONDS", Default: "10", ReadBy: services,
		Description: "How long one webhook delivery may take before it counts as failed (and is retried)."},
	{Name: "LICENSEFLOW_VENDOR_NAME", Default: "licenseflow", ReadBy: services, RequiredBy: []Role{RoleWorker},
		Description: "Seller name on invoices, credit notes and emails."},
	{Name: "LICENSEFLOW_VENDOR_ADDRESS", Default: "", ReadBy: services,
		Description: "Seller address on invoices and credit notes (use \\n for line breaks)."},
	{Name: "LICENSEFLOW_VENDOR_COUNTRY", Default: "", ReadBy: services,
		Description: "Seller country (ISO 3166 alpha-2, e.g. `DE`): turns VAT on. Invoices then carry the domestic rate, an EU consumer's country's rate, reverse charge for EU businesses with a VAT ID, or no VAT outside the EU. Unset: invoices carry no tax (see [Tax and credit notes](selling.md#tax-and-credit-notes))."},
	{Name: "LICENSEFLOW_VENDOR_VAT_ID", Default: "", ReadBy: services,
		Description: "Seller VAT id on invoices and credit notes."},
	{Name: "LICENSEFLOW_VENDOR_EMAIL", Default: "", ReadBy: services,
		Description: "Seller contact email on invoices and credit notes."},
	{Name: "LICENSEFLOW_PRICES_INCLUDE_TAX", Default: "false", ReadBy: workerSide,
		Description: "`true`: catalog prices and CRM amounts are gross (VAT included, split out on the invoice); `false`: they are net and VAT is added. What Stripe charged is always read as tax included."},
	{Name: "LICENSEFLOW_TAX_RATES", Default: "", ReadBy: workerSide,
		Description: "VAT rates by customer country over the built-in EU standard rates (as of 1 August 2025), in percent with up to two decimals: `DE=19,FR=20,CH=8.1`."},
	{Name: "LICENSEFLOW_TOKEN_DAYS", Default: "30", ReadBy: apiSide,
		Description: "Days an offline license token is usable after it is issued (1 to 365), whatever the license's term: sites fetch a fresh one before then, and a revoked, suspended or expired license gets none."},
	{Name: "STRIPE_MODE", Default: "", ReadBy: apiSide,
		Description: "`live` or `test`: the Stripe mode whose events are acted upon; an event of the other mode (its `livemode`) issues and renews nothing and is held for review. Empty: `live` for `licenseflow api`, `test` for `licenseflow dev`."},
}

// Config is the parsed configuration.
type Config struct {
	DatabaseURL string
	HTTPAddr    string
	PublicURL   string
	AdminToken  string
	AdminEmails []string
	// SupportEmails are the dashboard's support operators.
	SupportEmails []string
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
	PayPal      PayPal
	Paddle      Paddle
	Vendor      Vendor
	Webhooks    Webhooks
	Metrics     Metrics
	Worker      Worker
}

// Worker configures a worker process.
type Worker struct {
	HealthAddr   string
	DrainTimeout time.Duration
	// WorkflowCache is how many workflows the process keeps in memory.
	WorkflowCache int
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
	// TokenValidity is how long an offline token is usable.
	TokenValidity time.Duration
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
	// Livemode is the mode of the events acted upon (STRIPE_MODE=live).
	Livemode bool
}

// PayPal and Paddle verify those providers' webhooks; empty answers them 503.
type (
	PayPal struct{ WebhookID, ClientID, ClientSecret, APIURL string }
	Paddle struct{ WebhookSecrets []string }
)

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
	Country string
	VATID   string
	Email   string
	// Tax is the catalog's tax policy (Country is its seller country).
	Tax models.TaxPolicy
}

// Load reads the configuration of a process running role; getenv is
// os.Getenv in main. Every problem is reported at once, before the process
// touches anything; a variable the role requires but that is unset is one.
func Load(getenv func(string) string, role Role) (Config, error) {
	var missing []string
	get := func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		for _, v := range Vars {
			if v.Name == name {
				if v.Requires(role) {
					if !slices.Contains(missing, name) {
						missing = append(missing, name)
					}
					return ""
				}
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
		DatabaseURL:   get("DATABASE_URL"),
		HTTPAddr:      get("LICENSEFLOW_HTTP_ADDR"),
		PublicURL:     strings.TrimRight(get("LICENSEFLOW_PUBLIC_URL"), "/"),
		AdminToken:    get("LICENSEFLOW_ADMIN_TOKEN"),
		AdminEmails:   lowerAll(splitList(get("LICENSEFLOW_ADMIN_EMAILS"))),
		SupportEmails: lowerAll(splitList(get("LICENSEFLOW_SUPPORT_EMAILS"))),
		SecretKeys:    get("LICENSEFLOW_SECRET_KEYS"),
		DataDir:       get("LICENSEFLOW_DATA_DIR"),
		GracePeriod:   time.Duration(integer("LICENSEFLOW_GRACE_DAYS", 0, 365)) * 24 * time.Hour,
		Retention:     time.Duration(integer("LICENSEFLOW_RETENTION_DAYS", 1, 3650)) * 24 * time.Hour,
		Site: Site{
			ReleasesDir:            get("LICENSEFLOW_RELEASES_DIR"),
			DomainSilence:          time.Duration(integer("LICENSEFLOW_DOMAIN_SILENCE_DAYS", 1, 3650)) * 24 * time.Hour,
			TokenValidity:          time.Duration(integer("LICENSEFLOW_TOKEN_DAYS", 1, 365)) * 24 * time.Hour,
			HeartbeatFlush:         time.Duration(integer("LICENSEFLOW_HEARTBEAT_FLUSH_SECONDS", 1, 3600)) * time.Second,
			ReleaseEmailsPerMinute: integer("LICENSEFLOW_RELEASE_EMAILS_PER_MINUTE", 1, 100000),
			TrustedProxies:         splitList(get("LICENSEFLOW_TRUSTED_PROXIES")),
		},
		Metrics: Metrics{Addr: get("LICENSEFLOW_METRICS_ADDR"), Token: get("LICENSEFLOW_METRICS_TOKEN")},
		Worker: Worker{
			HealthAddr:    get("LICENSEFLOW_WORKER_HEALTH_ADDR"),
			DrainTimeout:  time.Duration(integer("LICENSEFLOW_WORKER_DRAIN_SECONDS", 0, 3600)) * time.Second,
			WorkflowCache: integer("LICENSEFLOW_WORKFLOW_CACHE", 10, 1_000_000),
		},
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
		PayPal: PayPal{WebhookID: get("PAYPAL_WEBHOOK_ID"), ClientID: get("PAYPAL_CLIENT_ID"), ClientSecret: get("PAYPAL_CLIENT_SECRET"), APIURL: get("PAYPAL_API_URL")},
		Paddle: Paddle{WebhookSecrets: splitList(get("PADDLE_WEBHOOK_SECRETS"))},
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
	if err := c.Vendor.readTax(get("LICENSEFLOW_VENDOR_COUNTRY"), get("LICENSEFLOW_PRICES_INCLUDE_TAX"), get("LICENSEFLOW_TAX_RATES")); err != nil {
		errs = append(errs, err)
	}
	switch mode := strings.ToLower(get("STRIPE_MODE")); mode {
	case "":
		// Test payments must never issue real licenses in production, and
		// dev mode is where test-mode Stripe is tried.
		c.Stripe.Livemode = role != RoleDev
	case "live", "test":
		c.Stripe.Livemode = mode == "live"
	default:
		errs = append(errs, fmt.Errorf("STRIPE_MODE=%q must be live or test", mode))
	}
	if c.SMTP.Host == "none" {
		c.SMTP.Host = "" // said explicitly: emails stay in the outbox
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") && !strings.HasPrefix(c.DatabaseURL, "sqlite:") {
		errs = append(errs, fmt.Errorf("DATABASE_URL=%q: use postgres://user:pass@host:5432/db?sslmode=… (or sqlite:<path> for an SQLite file)", database.Redact(c.DatabaseURL)))
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
	for _, email := range c.SupportEmails {
		if slices.Contains(c.AdminEmails, email) {
			errs = append(errs, fmt.Errorf("%s is in both LICENSEFLOW_ADMIN_EMAILS and LICENSEFLOW_SUPPORT_EMAILS; an operator has one role: keep the address in one list", email))
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
	if len(missing) > 0 {
		errs = append([]error{fmt.Errorf("`licenseflow %s` needs %s set; see docs/configuration.md for what each process reads", role, strings.Join(missing, ", "))}, errs...)
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

// readTax reads the seller's country and the tax policy.
func (v *Vendor) readTax(country, inclusive, rates string) error {
	if country != "" {
		c, err := models.NormalizeCountry(country, "LICENSEFLOW_VENDOR_COUNTRY")
		if err != nil {
			return fmt.Errorf("LICENSEFLOW_VENDOR_COUNTRY=%q must be an ISO 3166 country code such as DE", country)
		}
		v.Country = c
	}
	table, err := models.ParseTaxRates(rates)
	if err != nil {
		return fmt.Errorf("LICENSEFLOW_TAX_RATES: %w", err)
	}
	v.Tax = models.TaxPolicy{SellerCountry: v.Country, Rates: table}
	switch strings.ToLower(inclusive) {
	case "", "false", "0", "no":
	case "true", "1", "yes":
		v.Tax.PricesIncludeTax = true
	default:
		return fmt.Errorf("LICENSEFLOW_PRICES_INCLUDE_TAX=%q must be true or false", inclusive)
	}
	if err := v.Tax.Check(); err != nil {
		return fmt.Errorf("LICENSEFLOW_VENDOR_COUNTRY: %w", err)
	}
	return nil
}
