// Package api is licenseflow's JSON API under /api/v1 for the vendor's CRM
// and operators: licenses and the changes sent to their workflows, orders,
// the catalog, releases, invoices, the outbox and API tokens. Tables are
// read here; license state only ever changes through a workflow.
package api

import (
	"context"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/lifecycle"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments"
	"github.com/licenseflow/licenseflow/webhooks"
)

// Deps are the JSON API's collaborators.
type Deps struct {
	Store     Store
	Lifecycle lifecycle.Client
	// Renewals prepares renewal links.
	Renewals *payments.Renewals
	Now      func() time.Time
	// ReleasesDir holds uploaded release artifacts.
	ReleasesDir string
	// WebhookTargets says where webhook endpoints may point; WebhookSecrets
	// seals their signing secrets (nil: stored as they are).
	WebhookTargets webhooks.Targets
	WebhookSecrets *webhooks.SecretBox
}

// Store is what the JSON API reads and records (a license's own state
// changes only through its workflow).
type Store interface {
	httpx.Tokens
	httpx.IdempotencyKeys
	WebhookStore
	CountActiveDomains(ctx context.Context, licenseID string) (int, error)
	CreateOrder(ctx context.Context, n models.NewOrder) (models.Order, bool, error)
	CreateProduct(ctx context.Context, p models.Product) (models.Product, error)
	CreateRelease(ctx context.Context, r models.Release) (models.Release, error)
	CreateTier(ctx context.Context, t models.Tier) (models.Tier, error)
	CreateToken(ctx context.Context, name string, scopes models.StringList) (string, models.APIToken, error)
	DeleteProduct(ctx context.Context, code string) error
	GetEntitlements(ctx context.Context, licenseID string) ([]models.Entitlement, error)
	GetInvoice(ctx context.Context, number string) (models.Invoice, error)
	GetLicense(ctx context.Context, id string) (models.License, error)
	GetOrder(ctx context.Context, id string) (models.Order, error)
	GetProduct(ctx context.Context, code string) (models.Product, error)
	GetRelease(ctx context.Context, productCode, version string) (models.Release, error)
	GetTier(ctx context.Context, key string) (models.Tier, error)
	LicenseLedger(ctx context.Context, f models.LedgerFilter) ([]models.LicenseEvent, error)
	ListActivations(ctx context.Context, licenseID string) ([]models.Activation, error)
	ListEmails(ctx context.Context, f models.EmailFilter) ([]models.EmailMessage, error)
	ListInvoices(ctx context.Context, licenseID string) ([]models.Invoice, error)
	ListLicenses(ctx context.Context, f models.LicenseFilter) (models.LicensePage, error)
	ListOrders(ctx context.Context, licenseID string) ([]models.Order, error)
	FilterOrders(ctx context.Context, f models.OrderFilter) (models.OrderPage, error)
	SetDomains(ctx context.Context, licenseID string, domains []string, now time.Time) error
	ListProducts(ctx context.Context) ([]models.Product, error)
	ListReleases(ctx context.Context, productCode string) ([]models.Release, error)
	ListTiers(ctx context.Context, activeOnly bool) ([]models.Tier, error)
	ListTokens(ctx context.Context) ([]models.APIToken, error)
	PayOrder(ctx context.Context, id, paymentRef string, paidAt time.Time, workflowID func(string) string) (models.Order, models.License, error)
	RecordPurchase(ctx context.Context, p models.Purchase) (order models.Order, license models.License, created bool, err error)
	RecordRenewal(ctx context.Context, r models.RenewalOrder) (models.Order, error)
	RetireTier(ctx context.Context, key string) (models.Tier, error)
	RevokeToken(ctx context.Context, id uint, now time.Time) error
	UpdateProduct(ctx context.Context, code string, p models.Product) (models.Product, error)
	UpdateTier(ctx context.Context, key string, t models.Tier) (models.Tier, error)
	UsageSince(ctx context.Context, licenseID string, since time.Time) (models.Usage, error)
}

type server struct {
	Deps
}

// Mount adds the JSON API's routes to r.
func Mount(r gin.IRouter, d Deps) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.ReleasesDir == "" {
		d.ReleasesDir = "data/releases"
	}
	s := &server{Deps: d}
	scope := func(scopes ...models.Scope) gin.HandlerFunc { return httpx.RequireScope(d.Store, d.Now, scopes...) }
	idempotent := httpx.Idempotent(d.Store, d.Now)

	v1 := r.Group("/api/v1", httpx.NoStore)
	read, write := scope(models.ScopeLicensesRead), scope(models.ScopeLicensesWrite)
	licensing := v1.Group("/licensing/licenses")
	licensing.POST("", write, idempotent, s.createLicense)
	licensing.GET("", read, s.listLicenses)
	licensing.GET("/:id", read, s.getLicense)
	licensing.PATCH("/:id", write, s.patchLicense)
	licensing.POST("/:id/:action", write, idempotent, s.licenseAction)
	licensing.GET("/:id/emails", read, s.licenseEmails)
	licensing.GET("/:id/invoices", read, s.licenseInvoices)
	licensing.GET("/:id/orders", read, s.licenseOrders)
	licensing.POST("/:id/renewal-link", write, idempotent, s.renewalLink)
	licensing.GET("/:id/usage", read, s.licenseUsage)
	licensing.GET("/:id/activations", read, s.licenseActivations)
	licensing.GET("/:id/events", read, s.licenseEvents)

	orders := scope(models.ScopeOrdersWrite)
	v1.POST("/orders", orders, idempotent, s.createOrder)
	v1.POST("/orders/:id/paid", orders, s.payOrder)
	orderReaders := scope(models.ScopeLicensesRead, models.ScopeOrdersWrite)
	v1.GET("/orders", orderReaders, s.listOrders)
	v1.GET("/orders/:id", orderReaders, s.getOrder)
	v1.GET("/invoices/:number", read, s.getInvoice)
	v1.GET("/invoices/:number/pdf", read, s.invoicePDF)
	v1.GET("/emails", scope(models.ScopeAdmin), s.listEmails)

	catalog := scope(models.ScopeCatalogWrite)
	v1.GET("/products", read, s.listProducts)
	v1.GET("/products/:code", read, s.getProduct)
	v1.POST("/products", catalog, idempotent, s.createProduct)
	v1.PUT("/products/:code", catalog, s.updateProduct)
	v1.DELETE("/products/:code", catalog, s.deleteProduct)
	v1.GET("/tiers", read, s.listTiers)
	v1.GET("/tiers/:key", read, s.getTier)
	v1.POST("/tiers", catalog, idempotent, s.createTier)
	v1.PUT("/tiers/:key", catalog, s.updateTier)
	v1.DELETE("/tiers/:key", catalog, s.retireTier)
	v1.POST("/products/:code/releases", scope(models.ScopeReleasesWrite), s.publishRelease)
	v1.GET("/products/:code/releases", read, s.listReleases)

	admin := scope(models.ScopeAdmin)
	v1.GET("/tokens", admin, s.listTokens)
	v1.POST("/tokens", admin, idempotent, s.createToken)
	v1.DELETE("/tokens/:id", admin, s.revokeToken)
	s.mountWebhooks(v1, admin, idempotent)
}
