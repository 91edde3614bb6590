// Package app composes licenseflow from its parts: the HTTP router (the
// JSON API, the site-facing API, Stripe webhooks, the portal and dashboard,
// and health checks) and the worker's activities. cmd/licenseflow and the
// integration tests' stack both build licenseflow through it.
package app

import (
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/invoicepdf"
	"github.com/licenseflow/licenseflow/lifecycle"
	"github.com/licenseflow/licenseflow/metrics"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/openapi"
	"github.com/licenseflow/licenseflow/payloadcodec"
	"github.com/licenseflow/licenseflow/paymenthooks"
	"github.com/licenseflow/licenseflow/payments"
	"github.com/licenseflow/licenseflow/payments/paypal"
	"github.com/licenseflow/licenseflow/sealing"
	"github.com/licenseflow/licenseflow/siteapi"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/usage"
	"github.com/licenseflow/licenseflow/web"
)

// Deps are what the HTTP side of licenseflow runs on.
type Deps struct {
	Store *store.Store
	// Lifecycle is the door to the license workflows (lifecycle.New on a
	// Temporal client; handler tests pass lifecyclefake).
	Lifecycle lifecycle.Client
	Logger    *slog.Logger
	Now       func() time.Time
	// PublicURL is where customers and sites reach licenseflow.
	PublicURL string
	// Payments creates Stripe Checkout Sessions; nil without a Stripe key
	// (renewal links then become pending CRM orders).
	Payments *payments.Checkout
	// WebhookSecrets verify Stripe webhooks (several while rotating).
	WebhookSecrets []string
	// StripeLivemode is the Stripe mode whose events are acted upon.
	StripeLivemode bool
	// PayPal verifies PayPal's webhooks (nil: not configured).
	PayPal *paypal.Verifier
	// PayPalOrders creates the PayPal orders of renewal links (nil: none).
	PayPalOrders *paypal.Client
	// PaddleSecrets verify Paddle's notifications (none: not configured).
	PaddleSecrets []string
	// ReleasesDir holds uploaded release artifacts.
	ReleasesDir string
	// Usage records site-facing hits; nil starts one that is never closed
	// (tests); production passes one and closes it on shutdown.
	Usage *usage.Recorder
	// LastSeen writes heartbeats in batches (production passes one and
	// closes it on shutdown); nil writes each heartbeat at once.
	LastSeen *usage.LastSeen
	// DomainSilence is how long a domain may stay silent before it is
	// released; heartbeats are batched only well within it (see siteapi).
	DomainSilence time.Duration
	// TokenValidity is how long an offline token is usable (0: 30 days).
	TokenValidity time.Duration
	// SiteCacheTTL keeps looked-up keys in memory for site-facing calls,
	// invalidated by the store's change notices; 0 reads the database every
	// time (use 0 when another process writes licenses and no notices reach
	// this one, i.e. SQLite shared by separate processes).
	SiteCacheTTL time.Duration
	// AdminEmails sign in to the dashboard by magic link as owners,
	// SupportEmails as support operators.
	AdminEmails, SupportEmails []string
	// TrustedProxies may set X-Forwarded-For (client IPs for rate limits);
	// empty trusts none.
	TrustedProxies []string
	// Webhooks configures the registration of webhook endpoints.
	Webhooks Webhooks
	// Staging tells staging and local copies of sites, which activate
	// without taking a domain slot; the zero rule exempts nothing.
	Staging models.StagingRule
	// Metrics instruments the HTTP side; nil measures nothing.
	Metrics *metrics.Metrics
	// ServeMetrics adds GET /metrics to the router (false when it is served
	// on a separate address); MetricsToken, when set, must come as a bearer
	// token.
	ServeMetrics bool
	MetricsToken string
	// SecretKeys seal the sites' signing keys in the database and encrypt
	// Temporal payloads; the router serves the codec endpoint
	// (/codec/encode, /codec/decode) to signed-in operators. Required.
	SecretKeys *sealing.Keyring
	// Seller is printed on the credit notes the API and Stripe refunds issue.
	Seller invoicepdf.Seller
	// CodecOrigins are the Temporal Web UI origins that may call the codec
	// endpoint with an operator's cookies.
	CodecOrigins []string
}

// NewRouter builds the HTTP handler: every audience's routes on one router,
// plus /healthz, /readyz, /openapi.json and, when asked, /metrics.
func NewRouter(d Deps) *gin.Engine {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Usage == nil {
		d.Usage = usage.NewRecorder(d.Store, d.Logger, 200*time.Millisecond)
	}
	flows := d.Lifecycle
	renewals := &payments.Renewals{Store: d.Store, Checkout: d.Payments, PayPal: d.PayPalOrders, PublicURL: d.PublicURL}
	storefront := &payments.Storefront{Store: d.Store, Checkout: d.Payments, PublicURL: d.PublicURL}

	r := httpx.NewRouter(httpx.Options{Logger: d.Logger, Database: d.Store, TrustedProxies: d.TrustedProxies, Requests: d.Metrics})
	checks := health{store: d.Store, lifecycle: flows, log: d.Logger}
	r.GET("/healthz", checks.healthz)
	r.GET("/readyz", checks.readyz)
	d.Metrics.WatchLicenses(d.Store.LicensesByStatus)
	r.GET("/openapi.json", gin.WrapF(openapi.Handler))
	if d.ServeMetrics && d.Metrics != nil {
		r.GET("/metrics", gin.WrapH(d.Metrics.Handler(d.MetricsToken)))
	}
	creditNotes := func(cn models.CreditNote, inv models.Invoice) ([]byte, error) {
		return invoicepdf.RenderCreditNote(cn, inv, d.Seller)
	}
	api.Mount(r, api.Deps{Store: d.Store, Lifecycle: flows, Renewals: renewals, Now: d.Now, ReleasesDir: d.ReleasesDir,
		WebhookTargets: d.Webhooks.Targets, WebhookSecrets: d.Webhooks.Secrets, RenderCreditNote: creditNotes})
	siteapi.Mount(r, siteapi.Deps{Store: d.Store, Keys: d.SecretKeys, Usage: d.Usage, PublicURL: d.PublicURL, Now: d.Now,
		SiteCacheTTL: d.SiteCacheTTL, Staging: d.Staging, Metrics: d.Metrics, LastSeen: d.LastSeen, DomainSilence: d.DomainSilence,
		TokenValidity: d.TokenValidity})
	paymenthooks.Mount(r, paymenthooks.Deps{Store: d.Store, Lifecycle: flows, Payments: d.Payments,
		WebhookSecrets: d.WebhookSecrets, Livemode: d.StripeLivemode, PayPal: d.PayPal, PaddleSecrets: d.PaddleSecrets, Now: d.Now, Metrics: d.Metrics,
		RenderCreditNote: creditNotes})
	codec := codecHandler(payloadcodec.New(d.SecretKeys))
	web.Mount(r, web.Deps{Store: d.Store, Lifecycle: flows, Renewals: renewals, Storefront: storefront, PublicURL: d.PublicURL,
		AdminEmails: d.AdminEmails, SupportEmails: d.SupportEmails, WebhookTargets: d.Webhooks.Targets, WebhookSecrets: d.Webhooks.Secrets, Now: d.Now,
		Codec: codec, CodecOrigins: d.CodecOrigins, ReleasesDir: d.ReleasesDir})
	return r
}
