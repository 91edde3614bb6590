// Package api is licenseflow's HTTP front: the gin router, authentication,
// and the handlers that start license workflows and send them updates.
// Tables are read here; license state only ever changes through a workflow.
package api

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"

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
	site site
}

// NewRouter builds the HTTP handler.
func NewRouter(d Deps) *gin.Engine {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.UpdateTimeout == 0 {
		d.UpdateTimeout = 30 * time.Second
	}
	if d.Usage == nil {
		d.Usage = usage.NewRecorder(d.Store, d.Logger, 200*time.Millisecond)
	}
	if d.ReleasesDir == "" {
		d.ReleasesDir = "data/releases"
	}
	s := &server{Deps: d, site: site{
		signer:      &signer{store: d.Store},
		unknownKeys: newLimiterSet(60, 30),
		activations: newLimiterSet(30, 20),
		signIns:     newLimiterSet(10, 10),
		usage:       d.Usage,
	}}
	if d.SiteCacheTTL > 0 {
		s.site.cache = siteapi.NewCache(d.Store, d.SiteCacheTTL)
	}

	r := gin.New()
	if err := r.SetTrustedProxies(d.TrustedProxies); err != nil {
		d.Logger.Error("ignoring LICENSEFLOW_TRUSTED_PROXIES", "error", err)
		_ = r.SetTrustedProxies(nil)
	}
	r.HandleMethodNotAllowed = true
	r.Use(s.requestContext, s.recover)
	r.NoRoute(func(c *gin.Context) {
		abort(c, newError(http.StatusNotFound, "route_not_found", "", "no such endpoint: "+c.Request.Method+" "+c.Request.URL.Path))
	})
	r.NoMethod(func(c *gin.Context) {
		abort(c, newError(http.StatusMethodNotAllowed, "method_not_allowed", "", c.Request.Method+" is not allowed on "+c.Request.URL.Path))
	})

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

const (
	ctxLogger = "licenseflow.logger"
	ctxToken  = "licenseflow.token"
)

// requestContext tags the request with an id (echoed in X-Request-ID) and
// logs it when done.
func (s *server) requestContext(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if id == "" || len(id) > 64 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Header("X-Request-ID", id)
	l := s.Logger.With("request_id", id) // With is cheap: attributes are formatted only when logged
	c.Set(ctxLogger, l)
	start := time.Now()
	c.Next()
	// Successful requests log at debug: sites validate thousands of times a
	// second, and an access log line each would cost more than the answer.
	level := slog.LevelDebug
	switch status := c.Writer.Status(); {
	case status >= 500:
		level = slog.LevelError
	case status >= 400:
		level = slog.LevelInfo
	}
	if l.Enabled(c.Request.Context(), level) {
		l.Log(c.Request.Context(), level, "http request", "method", c.Request.Method, "path", c.FullPath(),
			"status", c.Writer.Status(), "duration_ms", time.Since(start).Milliseconds())
	}
}

func (s *server) recover(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			logger(c).Error("panic serving request", "panic", r)
			abort(c, newError(http.StatusInternalServerError, "internal", "", "something went wrong on our side; the error is logged"))
		}
	}()
	c.Next()
}

func logger(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(ctxLogger); ok {
		return l.(*slog.Logger)
	}
	return slog.Default()
}
