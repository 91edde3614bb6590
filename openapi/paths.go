package openapi

import (
	"net/http"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/paymenthooks"
	"github.com/licenseflow/licenseflow/payments"
	"github.com/licenseflow/licenseflow/siteapi"
)

// Scope names, as operations list them.
var (
	read    = []string{string(models.ScopeLicensesRead)}
	write   = []string{string(models.ScopeLicensesWrite)}
	care    = []string{string(models.ScopeLicensesWrite), string(models.ScopeLicensesSupport)}
	orders  = []string{string(models.ScopeOrdersWrite)}
	catalog = []string{string(models.ScopeCatalogWrite)}
	admin   = []string{string(models.ScopeAdmin)}
)

// none requires no body field: every one may be left out.
var none = []string{}

// tierFields are what a tier cannot do without (models.Tier.Validate):
// price_cents may be left out (a free tier), term_months is needed only by
// a custom term, and a PUT keeps the key of its path.
var tierFields = []string{"name", "products", "max_domains", "term", "currency", "channels"}

// answers is a shorthand for one success status and its body type.
func answers(status int, body any) map[int]any { return map[int]any{status: body} }

// Operations are every /api/v1 route. A route added to the router must be
// added here (TestEveryRouteIsDocumented fails until it is).
var Operations = []Operation{
	// The CRM and operators: licenses.
	{Method: http.MethodPost, Path: "/api/v1/licensing/licenses", Idempotent: true, Summary: "Issue a license (the CRM's order-completed call); starts its workflow",
		Auth: Token, Scopes: write, Body: api.CreateLicenseRequest{}, Required: []string{"user_email", "tier"},
		Answers: map[int]any{http.StatusAccepted: api.LicenseView{}, http.StatusOK: api.LicenseView{}}},
	{Method: http.MethodGet, Path: "/api/v1/licensing/licenses", Summary: "List licenses", Auth: Token, Scopes: read,
		Query: map[string]string{"email": "customer email", "status": "license status", "tier": "tier key",
			"expiring_within": "expiring within (30, 30d, 720h)", "limit": "page size (at most 500)", "cursor": "next_cursor of the previous page"},
		Answers: answers(http.StatusOK, httpx.Page[api.LicenseView]{})},
	{Method: http.MethodGet, Path: "/api/v1/licensing/licenses/{id}", Summary: "A license with its entitlements and its workflow's live state",
		Auth: Token, Scopes: read, Answers: answers(http.StatusOK, api.LicenseView{})},
	{Method: http.MethodPatch, Path: "/api/v1/licensing/licenses/{id}", Summary: "Change a license (renew, correct the expiry, tier, domains, status) all or nothing",
		Auth: Token, Scopes: care, Body: api.PatchLicenseRequest{}, Required: none, Answers: answers(http.StatusOK, api.LicenseView{})},
	{Method: http.MethodPost, Path: "/api/v1/licensing/licenses/{id}/{action}", Idempotent: true, Summary: "Renew, suspend, reinstate or revoke a license",
		Auth: Token, Scopes: care, Body: api.ActionRequest{}, Required: none, Enums: map[string][]string{"action": {"renew", "suspend", "reinstate", "revoke"}},
		Answers: answers(http.StatusOK, api.LicenseView{})},
	{Method: http.MethodGet, Path: "/api/v1/licensing/licenses/{id}/events", Summary: "The license's ledger: every change, old and new value, who asked; newest first",
		Auth: Token, Scopes: read, Query: map[string]string{"limit": "page size (1-500, default 100)", "cursor": "next_cursor of the previous page"},
		Answers: answers(http.StatusOK, httpx.Page[api.LedgerLineView]{})},
	{Method: http.MethodGet, Path: "/api/v1/licensing/licenses/{id}/emails", Summary: "The license's emails", Auth: Token, Scopes: read,
		Query: map[string]string{"template": "email template"}, Answers: answers(http.StatusOK, httpx.Page[api.EmailView]{})},
	{Method: http.MethodGet, Path: "/api/v1/licensing/licenses/{id}/invoices", Summary: "The license's invoices", Auth: Token, Scopes: read,
		Answers: answers(http.StatusOK, httpx.Page[api.InvoiceView]{})},
	{Method: http.MethodGet, Path: "/api/v1/licensing/licenses/{id}/credit-notes", Summary: "The license's credit notes", Auth: Token, Scopes: read,
		Answers: answers(http.StatusOK, httpx.Page[api.CreditNoteView]{})},
	{Method: http.MethodGet, Path: "/api/v1/licensing/licenses/{id}/orders", Summary: "The license's orders with their Stripe ids", Auth: Token, Scopes: read,
		Answers: answers(http.StatusOK, httpx.Page[api.OrderView]{})},
	{Method: http.MethodPost, Path: "/api/v1/licensing/licenses/{id}/rotate-key", Idempotent: true, Summary: "Give the master license a new key at once (shown once in dlid); the old key stops working",
		Auth: Token, Scopes: admin, Body: api.ActionRequest{}, Required: none, Answers: answers(http.StatusOK, api.LicenseView{})},
	{Method: http.MethodPost, Path: "/api/v1/licensing/licenses/{id}/renewal-link", Idempotent: true, Summary: "A Stripe Checkout link renewing the license, or a pending CRM order",
		Auth: Token, Scopes: care, Body: api.RenewalLinkRequest{}, Required: none, Answers: answers(http.StatusCreated, payments.RenewalLink{})},
	{Method: http.MethodGet, Path: "/api/v1/licensing/licenses/{id}/usage", Summary: "Validations, activations, feeds and downloads by day",
		Auth: Token, Scopes: read, Query: map[string]string{"days": "how many days back (default 30)"}, Answers: answers(http.StatusOK, models.Usage{})},
	{Method: http.MethodGet, Path: "/api/v1/licensing/licenses/{id}/activations", Summary: "The license's domains (staging copies flagged)",
		Auth: Token, Scopes: read, Answers: answers(http.StatusOK, httpx.Page[api.ActivationView]{})},

	// Orders, invoices, the outbox.
	{Method: http.MethodPost, Path: "/api/v1/orders", Idempotent: true, Summary: "Record a CRM order (new or renewal)", Auth: Token, Scopes: orders,
		Body: api.CreateOrderRequest{}, Required: none, Answers: map[int]any{http.StatusCreated: api.OrderView{}, http.StatusOK: api.OrderView{}}},
	{Method: http.MethodPost, Path: "/api/v1/orders/{id}/paid", Summary: "Mark an order paid: issues or renews its license", Auth: Token, Scopes: orders,
		Body: api.PayOrderRequest{}, Required: none, Answers: map[int]any{http.StatusAccepted: api.OrderPaid{}, http.StatusOK: api.OrderPaid{}}},
	{Method: http.MethodGet, Path: "/api/v1/orders", Summary: "List orders newest first, for a CRM following payments", Auth: Token,
		Scopes: append(append([]string{}, read...), orders...),
		Query: map[string]string{"status": "pending, paid, failed or refunded", "email": "customer email", "customer_id": "customer id",
			"license_id": "the license created or renewed", "created_from": "created at or after (RFC 3339)",
			"created_before": "created before (RFC 3339)", "limit": "page size (1-200, default 50)", "cursor": "next_cursor of the previous page"},
		Answers: answers(http.StatusOK, httpx.Page[api.OrderView]{})},
	{Method: http.MethodGet, Path: "/api/v1/orders/{id}", Summary: "An order", Auth: Token, Scopes: append(append([]string{}, read...), orders...),
		Answers: answers(http.StatusOK, api.OrderView{})},
	{Method: http.MethodGet, Path: "/api/v1/invoices/{number}", Summary: "An invoice", Auth: Token, Scopes: read, Answers: answers(http.StatusOK, api.InvoiceView{})},
	{Method: http.MethodGet, Path: "/api/v1/invoices/{number}/pdf", Summary: "An invoice as PDF", Auth: Token, Scopes: read,
		Answers: answers(http.StatusOK, nil), ContentType: "application/pdf"},
	{Method: http.MethodGet, Path: "/api/v1/invoices/{number}/credit-notes", Summary: "The invoice's credit notes", Auth: Token, Scopes: read,
		Answers: answers(http.StatusOK, httpx.Page[api.CreditNoteView]{})},
	{Method: http.MethodPost, Path: "/api/v1/invoices/{number}/credit-notes", Idempotent: true, Summary: "Credit an invoice for a refund made outside Stripe",
		Auth: Token, Scopes: admin, Body: api.CreditInvoiceRequest{}, Required: []string{"reason"}, Answers: answers(http.StatusCreated, api.CreditNoteView{})},
	{Method: http.MethodGet, Path: "/api/v1/credit-notes/{number}", Summary: "A credit note", Auth: Token, Scopes: read, Answers: answers(http.StatusOK, api.CreditNoteView{})},
	{Method: http.MethodGet, Path: "/api/v1/credit-notes/{number}/pdf", Summary: "A credit note as PDF", Auth: Token, Scopes: read,
		Answers: answers(http.StatusOK, nil), ContentType: "application/pdf"},
	{Method: http.MethodGet, Path: "/api/v1/emails", Summary: "The outbox", Auth: Token, Scopes: admin,
		Query:   map[string]string{"license_id": "license id", "to": "recipient", "template": "email template", "limit": "at most 500"},
		Answers: answers(http.StatusOK, httpx.Page[api.EmailView]{})},

	// The catalog and releases.
	{Method: http.MethodGet, Path: "/api/v1/products", Summary: "List products", Auth: Token, Scopes: read, Answers: answers(http.StatusOK, httpx.Page[api.ProductView]{})},
	{Method: http.MethodPost, Path: "/api/v1/products", Idempotent: true, Summary: "Add a product (platform joomla, dolibarr, wordpress or both)", Auth: Token, Scopes: catalog,
		Body: api.ProductRequest{}, Required: []string{"code", "repo", "name", "platform"}, Answers: answers(http.StatusCreated, api.ProductView{})},
	{Method: http.MethodGet, Path: "/api/v1/products/{code}", Summary: "A product", Auth: Token, Scopes: read, Answers: answers(http.StatusOK, api.ProductView{})},
	{Method: http.MethodPut, Path: "/api/v1/products/{code}", Summary: "Change a product", Auth: Token, Scopes: catalog,
		Body: api.ProductRequest{}, Required: []string{"code", "repo", "name", "platform"}, Answers: answers(http.StatusOK, api.ProductView{})},
	{Method: http.MethodDelete, Path: "/api/v1/products/{code}", Summary: "Remove a product no tier grants", Auth: Token, Scopes: catalog,
		Answers: answers(http.StatusNoContent, nil)},
	{Method: http.MethodGet, Path: "/api/v1/tiers", Summary: "List tiers", Auth: Token, Scopes: read,
		Query: map[string]string{"active": "true: only tiers on sale"}, Answers: answers(http.StatusOK, httpx.Page[api.TierView]{})},
	{Method: http.MethodPost, Path: "/api/v1/tiers", Idempotent: true, Summary: "Add a tier", Auth: Token, Scopes: catalog,
		Body: api.TierRequest{}, Required: append([]string{"key"}, tierFields...), Answers: answers(http.StatusCreated, api.TierView{})},
	{Method: http.MethodGet, Path: "/api/v1/tiers/{key}", Summary: "A tier", Auth: Token, Scopes: read, Answers: answers(http.StatusOK, api.TierView{})},
	{Method: http.MethodPut, Path: "/api/v1/tiers/{key}", Summary: "Change a tier", Auth: Token, Scopes: catalog,
		Body: api.TierRequest{}, Required: tierFields, Answers: answers(http.StatusOK, api.TierView{})},
	{Method: http.MethodDelete, Path: "/api/v1/tiers/{key}", Summary: "Retire a tier (licenses on it keep working)", Auth: Token, Scopes: catalog,
		Answers: answers(http.StatusOK, api.TierView{})},
	{Method: http.MethodPost, Path: "/api/v1/products/{code}/releases", Summary: "Publish a release (multipart upload)", Auth: Token,
		Scopes: []string{string(models.ScopeReleasesWrite)},
		Multipart: map[string]string{"version": "semantic version", "channel": "stable (default), beta, …", "notes": "release notes",
			"element": "Joomla element", "type": "Joomla extension type", "target_platform": "Joomla versions, e.g. 5.*",
			"php_minimum": "oldest PHP version", "requires": "oldest host version (WordPress: Requires at least)",
			"tested": "newest host version tested (WordPress: Tested up to)"},
		Answers: answers(http.StatusCreated, api.ReleaseView{})},
	{Method: http.MethodGet, Path: "/api/v1/products/{code}/releases", Summary: "A product's releases, newest first", Auth: Token, Scopes: read,
		Answers: answers(http.StatusOK, httpx.Page[api.ReleaseView]{})},

	// API tokens.
	{Method: http.MethodGet, Path: "/api/v1/tokens", Summary: "List API tokens", Auth: Token, Scopes: admin, Answers: answers(http.StatusOK, httpx.Page[api.TokenView]{})},
	{Method: http.MethodPost, Path: "/api/v1/tokens", Idempotent: true, Summary: "Create an API token (its secret is shown once)", Auth: Token, Scopes: admin,
		Body: api.TokenRequest{}, Required: []string{"name", "scopes"}, Answers: answers(http.StatusCreated, api.TokenCreated{})},
	{Method: http.MethodDelete, Path: "/api/v1/tokens/{id}", Summary: "Revoke an API token", Auth: Token, Scopes: admin, Answers: answers(http.StatusNoContent, nil)},

	// Webhooks to the vendor's CRM.
	{Method: http.MethodGet, Path: "/api/v1/webhook-endpoints", Summary: "List webhook endpoints", Auth: Token, Scopes: admin,
		Answers: answers(http.StatusOK, httpx.Page[api.WebhookEndpointView]{})},
	{Method: http.MethodPost, Path: "/api/v1/webhook-endpoints", Idempotent: true, Summary: "Register a webhook endpoint (its signing secret is shown once)",
		Auth: Token, Scopes: admin, Body: api.WebhookEndpointRequest{}, Required: []string{"url", "event_types"}, Answers: answers(http.StatusCreated, api.WebhookSecretShown{})},
	{Method: http.MethodGet, Path: "/api/v1/webhook-endpoints/{id}", Summary: "A webhook endpoint", Auth: Token, Scopes: admin,
		Answers: answers(http.StatusOK, api.WebhookEndpointView{})},
	{Method: http.MethodPatch, Path: "/api/v1/webhook-endpoints/{id}", Summary: "Change a webhook endpoint (URL, event types, full key, description, enabled)",
		Auth: Token, Scopes: admin, Body: api.WebhookEndpointRequest{}, Required: none, Answers: answers(http.StatusOK, api.WebhookEndpointView{})},
	{Method: http.MethodDelete, Path: "/api/v1/webhook-endpoints/{id}", Summary: "Delete a webhook endpoint and its delivery log", Auth: Token, Scopes: admin,
		Answers: answers(http.StatusNoContent, nil)},
	{Method: http.MethodPost, Path: "/api/v1/webhook-endpoints/{id}/rotate-secret", Summary: "A new signing secret, shown once (the old one signs for 24 h more)",
		Auth: Token, Scopes: admin, Answers: answers(http.StatusOK, api.WebhookSecretShown{})},
	{Method: http.MethodGet, Path: "/api/v1/webhook-endpoints/{id}/deliveries", Summary: "The endpoint's delivery log, newest first", Auth: Token, Scopes: admin,
		Query: map[string]string{"status": "pending, delivered or failed", "event_type": "event type", "event_id": "event id", "license_id": "license id",
			"limit": "page size (1-500, default 100)", "before": "next_cursor of the previous page"},
		Answers: answers(http.StatusOK, httpx.Page[api.WebhookDeliveryView]{})},
	{Method: http.MethodGet, Path: "/api/v1/webhook-endpoints/{id}/deliveries/{delivery}", Summary: "A delivery with the event it carries", Auth: Token, Scopes: admin,
		Answers: answers(http.StatusOK, api.WebhookDeliveryView{})},
	{Method: http.MethodPost, Path: "/api/v1/webhook-endpoints/{id}/deliveries/{delivery}/redeliver", Summary: "Send a delivered or failed event again (same event id)",
		Auth: Token, Scopes: admin, Answers: answers(http.StatusAccepted, api.WebhookDeliveryView{})},

	// Installed sites.
	{Method: http.MethodPost, Path: "/api/v1/licenses/validate", Summary: "Validate a key (for a domain and product)", Auth: Key,
		Body: siteapi.SiteRequest{}, Required: []string{"dlid"}, Answers: answers(http.StatusOK, siteapi.SiteAnswer{})},
	{Method: http.MethodPost, Path: "/api/v1/licenses/activate", Summary: "Activate a domain (staging copies take no slot)", Auth: Key,
		Body: siteapi.SiteRequest{}, Required: []string{"dlid"}, Answers: answers(http.StatusOK, siteapi.SiteAnswer{})},
	{Method: http.MethodPost, Path: "/api/v1/licenses/deactivate", Summary: "Free a domain's slot", Auth: Key,
		Body: siteapi.SiteRequest{}, Required: []string{"dlid"}, Answers: answers(http.StatusOK, siteapi.SiteAnswer{})},
	{Method: http.MethodPost, Path: "/api/v1/licenses/heartbeat", Summary: "Keep a domain's slot (daily)", Auth: Key,
		Body: siteapi.SiteRequest{}, Required: []string{"dlid"}, Answers: answers(http.StatusOK, siteapi.SiteAnswer{})},
	{Method: http.MethodPost, Path: "/api/v1/licenses/token", Summary: "An offline license token for a usable key", Auth: Key,
		Body: siteapi.SiteRequest{}, Required: []string{"dlid"}, Answers: answers(http.StatusOK, siteapi.LicenseToken{})},
	{Method: http.MethodGet, Path: "/api/v1/keys/public", Summary: "The public keys that verify signed answers and tokens", Auth: Key,
		Answers: answers(http.StatusOK, siteapi.PublicKeys{})},
	{Method: http.MethodPost, Path: "/api/v1/licenses/{id}/token", Summary: "An offline license token for a license", Auth: Token, Scopes: admin,
		Answers: answers(http.StatusOK, siteapi.LicenseToken{})},
	{Method: http.MethodPost, Path: "/api/v1/keys/rotate", Summary: "Start a new signing key (the old one verifies for the overlap, signs no more)", Auth: Token, Scopes: admin,
		Answers: answers(http.StatusCreated, siteapi.PublicKey{})},
	{Method: http.MethodPost, Path: "/api/v1/keys/{kid}/retire", Summary: "Retire a signing key at once (a leaked one): unpublished, its private half deleted", Auth: Token, Scopes: admin,
		Answers: answers(http.StatusOK, siteapi.RetiredKey{})},

	// Payment providers.
	{Method: http.MethodPost, Path: "/api/v1/webhooks/stripe", Summary: "Stripe's webhook (each event handled once)", Auth: StripeSignature,
		Answers: answers(http.StatusOK, paymenthooks.Receipt{})},
	{Method: http.MethodPost, Path: "/api/v1/webhooks/paypal", Summary: "PayPal's webhook (each event handled once)", Auth: PayPalSignature,
		Answers: answers(http.StatusOK, paymenthooks.Receipt{})},
	{Method: http.MethodPost, Path: "/api/v1/webhooks/paddle", Summary: "Paddle Billing's notifications (each event handled once)", Auth: PaddleSignature,
		Answers: answers(http.StatusOK, paymenthooks.Receipt{})},
	{Method: http.MethodGet, Path: "/api/v1/webhooks/{provider}/events", Summary: "Received events of a payment provider and their outcome", Auth: Token, Scopes: admin,
		Enums:   map[string][]string{"provider": {"stripe", "paypal", "paddle"}},
		Query:   map[string]string{"outcome": "processed, ignored, failed or needs_review", "license_id": "license id", "limit": "at most 500"},
		Answers: answers(http.StatusOK, httpx.Page[paymenthooks.EventView]{})},
	{Method: http.MethodGet, Path: "/api/v1/webhooks/{provider}/events/{id}", Summary: "A received event of a payment provider", Auth: Token, Scopes: admin,
		Enums:   map[string][]string{"provider": {"stripe", "paypal", "paddle"}},
		Answers: answers(http.StatusOK, paymenthooks.EventView{})},
}
