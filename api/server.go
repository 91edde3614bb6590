// Package api is licenseflow's HTTP front: the gin router, authentication,
// and the handlers that start license workflows and send them updates.
// Tables are read here; license state only ever changes through a workflow.
package api

import (
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/lifecycle"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments"
	"github.com/licenseflow/licenseflow/siteapi"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/usage"
	"github.com/licenseflow/licenseflow/workflows"
)

// Deps are the API's collaborators.
type Deps struct {
	Store    *store.Store
	Temporal client.Client
	// Namespace is the Temporal namespace (for Web UI links).
	Namespace string
	// WebUIURL is the Temporal Web UI's base URL; empty omits links.
	WebUIURL string
	// Policy sets the lifecycle windows of new licenses.
	Policy workflows.Policy
	Logger *slog.Logger
	Now    func() time.Time
	// UpdateTimeout bounds how long a change waits for its workflow.
	UpdateTimeout time.Duration
	// PublicURL is where customers reach licenseflow (Checkout return links).
	PublicURL string
	// Payments creates Stripe Checkout Sessions; nil without a Stripe key
	// (renewal links then become pending CRM orders).
	Payments *payments.Checkout
	// WebhookSecrets verify Stripe webhooks (several while rotating).
	WebhookSecrets []string
	// ReleasesDir holds uploaded release artifacts.
	ReleasesDir string
	// Usage records site-facing hits; nil starts one that is never closed
	// (tests); production passes one and closes it on shutdown.
	Usage *usage.Recorder
	// ReleaseEmailsPerMinute throttles new-release notifications.
	ReleaseEmailsPerMinute int
	// SiteCacheTTL keeps looked-up keys in memory for site-facing calls,
	// invalidated by the store's change notices; 0 reads the database every
	// time (use 0 when another process writes licenses and no notices reach
	// this one, i.e. SQLite shared by separate processes).
	SiteCacheTTL time.Duration
	// AdminEmails may sign in to the dashboard by magic link.
	AdminEmails []string
	// TrustedProxies may set X-Forwarded-For (client IPs for rate limits);
	// empty trusts none.
	TrustedProxies []string
}

type server struct {
	Deps
	lifecycle  lifecycle.Client
	idempotent gin.HandlerFunc
	site       site
}

// NewRouter builds the HTTP handler.
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
	if d.ReleasesDir == "" {
		d.ReleasesDir = "data/releases"
	}
	s := &server{Deps: d, idempotent: httpx.Idempotent(d.Store, d.Now), site: site{
		signer:      &signer{store: d.Store},
		unknownKeys: httpx.NewLimiterSet(60, 30),
		activations: httpx.NewLimiterSet(30, 20),
		signIns:     httpx.NewLimiterSet(10, 10),
		usage:       d.Usage,
	}}
	s.lifecycle = lifecycle.New(d.Temporal, lifecycle.Options{Namespace: d.Namespace, WebUIURL: d.WebUIURL, Policy: d.Policy,
		UpdateTimeout: d.UpdateTimeout, ReleaseEmailsPerMinute: d.ReleaseEmailsPerMinute})
	if d.SiteCacheTTL > 0 {
		s.site.cache = siteapi.NewCache(d.Store, d.SiteCacheTTL)
	}

	r := httpx.NewRouter(httpx.Options{Logger: d.Logger, Database: d.Store, TrustedProxies: d.TrustedProxies})
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)

	v1 := r.Group("/api/v1")
	read, write := s.requireScope(models.ScopeLicensesRead), s.requireScope(models.ScopeLicensesWrite)
	licensing := v1.Group("/licensing/licenses")
	licensing.POST("", write, s.idempotent, s.createLicense)
	licensing.GET("", read, s.listLicenses)
	licensing.GET("/:id", read, s.getLicense)
	licensing.PATCH("/:id", write, s.patchLicense)
	licensing.POST("/:id/:action", write, s.idempotent, s.licenseAction)
	licensing.GET("/:id/emails", read, s.licenseEmails)
	licensing.GET("/:id/invoices", read, s.licenseInvoices)
	licensing.GET("/:id/orders", read, s.licenseOrders)
	licensing.POST("/:id/renewal-link", write, s.idempotent, s.renewalLinkHandler)

	orders := s.requireScope(models.ScopeOrdersWrite)
	v1.POST("/orders", orders, s.idempotent, s.createOrder)
	v1.POST("/orders/:id/paid", orders, s.payOrder)
	v1.GET("/orders/:id", s.requireScope(models.ScopeLicensesRead, models.ScopeOrdersWrite), s.getOrder)
	v1.POST("/webhooks/stripe", s.stripeWebhook)
	v1.GET("/webhooks/stripe/events", s.requireScope(models.ScopeAdmin), s.stripeEvents)
	v1.GET("/webhooks/stripe/events/:id", s.requireScope(models.ScopeAdmin), s.stripeEvent)
	v1.GET("/invoices/:number", read, s.getInvoice)
	v1.GET("/invoices/:number/pdf", read, s.invoicePDF)
	v1.GET("/emails", s.requireScope(models.ScopeAdmin), s.listEmails)

	catalog := s.requireScope(models.ScopeCatalogWrite)
	v1.GET("/products", read, s.listProducts)
	v1.GET("/products/:code", read, s.getProduct)
	v1.POST("/products", catalog, s.idempotent, s.createProduct)
	v1.PUT("/products/:code", catalog, s.updateProduct)
	v1.DELETE("/products/:code", catalog, s.deleteProduct)
	v1.GET("/tiers", read, s.listTiers)
	v1.GET("/tiers/:key", read, s.getTier)
	v1.POST("/tiers", catalog, s.idempotent, s.createTier)
	v1.PUT("/tiers/:key", catalog, s.updateTier)
	v1.DELETE("/tiers/:key", catalog, s.retireTier)

	// Site-facing: installed sites only have their key.
	v1.POST("/licenses/validate", s.validate)
	v1.POST("/licenses/activate", s.activate)
	v1.POST("/licenses/deactivate", s.deactivate)
	v1.POST("/licenses/heartbeat", s.heartbeat)
	v1.POST("/licenses/token", s.siteToken)
	v1.POST("/licenses/:id/token", s.requireScope(models.ScopeAdmin), s.adminToken)
	v1.GET("/keys/public", s.publicKeys)
	v1.POST("/keys/rotate", s.requireScope(models.ScopeAdmin), s.rotateKey)
	licensing.GET("/:id/usage", read, s.licenseUsage)
	licensing.GET("/:id/activations", read, s.licenseActivations)
	v1.POST("/products/:code/releases", s.requireScope(models.ScopeReleasesWrite), s.publishRelease)
	v1.GET("/products/:code/releases", read, s.listReleases)
	r.GET("/updates/:product", s.joomlaFeed)
	r.GET("/updates/:product/latest", s.latestVersion)
	r.GET("/downloads/:product/:version", s.download)

	s.webRoutes(r)

	admin := s.requireScope(models.ScopeAdmin)
	v1.GET("/tokens", admin, s.listTokens)
	v1.POST("/tokens", admin, s.idempotent, s.createToken)
	v1.DELETE("/tokens/:id", admin, s.revokeToken)
	return r
}

func (s *server) requireScope(scopes ...models.Scope) gin.HandlerFunc {
	return httpx.RequireScope(s.Store, s.Now, scopes...)
}
