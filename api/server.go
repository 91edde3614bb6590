// Package api is licenseflow's JSON API under /api/v1 for the vendor's CRM
// and operators: licenses and the changes sent to their workflows, orders,
// the catalog, releases, invoices, the outbox and API tokens. Tables are
// read here; license state only ever changes through a workflow.
package api

import (
	"time"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/lifecycle"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/webhooks"
)

// Deps are the JSON API's collaborators.
type Deps struct {
	Store     *store.Store
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
	// RenderCreditNote lays out a credit note as a PDF (invoicepdf with
	// the seller); nil refuses to issue credit notes.
	RenderCreditNote func(models.CreditNote, models.Invoice) ([]byte, error)
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
	// care is the support role's share of writing: licenses:support may
	// suspend, reinstate, renew and set domains; the handlers keep
	// creating, revoking and other changes to licenses:write.
	care := scope(models.ScopeLicensesWrite, models.ScopeLicensesSupport)
	licensing := v1.Group("/licensing/licenses")
	licensing.POST("", write, idempotent, s.createLicense)
	licensing.GET("", read, s.listLicenses)
	licensing.GET("/:id", read, s.getLicense)
	licensing.PATCH("/:id", care, s.patchLicense)
	licensing.POST("/:id/:action", care, idempotent, s.licenseAction)
	licensing.GET("/:id/emails", read, s.licenseEmails)
	licensing.GET("/:id/invoices", read, s.licenseInvoices)
	licensing.GET("/:id/orders", read, s.licenseOrders)
	licensing.POST("/:id/renewal-link", care, idempotent, s.renewalLink)
	licensing.POST("/:id/rotate-key", scope(models.ScopeAdmin), idempotent, s.rotateKey)
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
	v1.GET("/invoices/:number/credit-notes", read, s.invoiceCreditNotes)
	v1.POST("/invoices/:number/credit-notes", scope(models.ScopeAdmin), idempotent, s.creditInvoice)
	v1.GET("/credit-notes/:number", read, s.getCreditNote)
	v1.GET("/credit-notes/:number/pdf", read, s.creditNotePDF)
	licensing.GET("/:id/credit-notes", read, s.licenseCreditNotes)
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
