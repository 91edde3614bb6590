package api

import (
	"time"

	"github.com/gin-gonic/gin"
	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/lifecycle"
	"github.com/licenseflow/licenseflow/models"
)

// LicenseView is a license as the API shows it.
type LicenseView struct {
	ID           string               `json:"id"`
	Name         string               `json:"name"`
	DLID         string               `json:"dlid,omitempty"`
	DLIDMasked   string               `json:"dlid_masked,omitempty"`
	Status       models.LicenseStatus `json:"status"`
	Type         models.LicenseType   `json:"type"`
	Tier         string               `json:"tier"`
	Customer     CustomerView         `json:"customer"`
	StartsAt     *time.Time           `json:"starts_at"`
	ExpiresAt    *time.Time           `json:"expires_at"`
	GraceUntil   *time.Time           `json:"grace_until"`
	Lifetime     bool                 `json:"lifetime"`
	MaxDomains   int                  `json:"max_domains"`
	Channels     []string             `json:"channels"`
	Entitlements []EntitlementView    `json:"entitlements,omitempty"`
	OrderID      string               `json:"order_id"`
	WorkflowID   string               `json:"workflow_id"`
	WorkflowURL  string               `json:"workflow_url,omitempty"`
	// Revision increases with every change the workflow projects.
	Revision  int64         `json:"revision"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
	Workflow  *WorkflowView `json:"workflow,omitempty"`
}

// CustomerView is a license's customer.
type CustomerView struct {
	ID      string `json:"id"`
	Email   string `json:"email"`
	Name    string `json:"name,omitempty"`
	Company string `json:"company,omitempty"`
}

// EntitlementView is one entitled product.
type EntitlementView struct {
	Product string                   `json:"product"`
	Repo    string                   `json:"repo"`
	Source  models.EntitlementSource `json:"source"`
}

// WorkflowView is the live state of the license's workflow, when reachable.
type WorkflowView struct {
	Reachable     bool                 `json:"reachable"`
	Error         string               `json:"error,omitempty"`
	Status        models.LicenseStatus `json:"status,omitempty"`
	Revision      int64                `json:"revision,omitempty"`
	Renewals      int                  `json:"renewals"`
	Run           int                  `json:"run"`
	Issued        bool                 `json:"issued"`
	StepsDone     []string             `json:"steps_done,omitempty"`
	SuspendReason string               `json:"suspend_reason,omitempty"`
	RevokeReason  string               `json:"revoke_reason,omitempty"`
}

// licenseView is a license as the caller may see it: the full key only
// for a token that may read licenses (licenses:read or admin). A token
// that may only write (an order flow, a CRM's update hook) gets the masked
// key, so a leaked write token reads no keys.
func (s *server) licenseView(c *gin.Context, l models.License, ents []models.Entitlement) LicenseView {
	v := LicenseView{
		ID: l.ID, Name: l.Name, DLID: l.Key(), Status: l.Status, Type: l.Type, Tier: l.TierKey,
		Customer: CustomerView{ID: l.Customer.ID, Email: l.Customer.Email, Name: l.Customer.Name, Company: l.Customer.Company},
		StartsAt: l.StartsAt, ExpiresAt: l.ExpiresAt, GraceUntil: l.GraceUntil, Lifetime: l.Lifetime(),
		MaxDomains: l.MaxDomains, Channels: l.Channels, OrderID: l.OrderID, WorkflowID: l.WorkflowID,
		WorkflowURL: s.Lifecycle.WorkflowURL(l.WorkflowID), Revision: l.Revision, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt,
	}
	if v.DLID != "" {
		v.DLIDMasked = models.MaskDLID(v.DLID)
	}
	if !httpx.Token(c).Allows(models.ScopeLicensesRead) {
		v.DLID = ""
	}
	if v.Channels == nil {
		v.Channels = []string{}
	}
	for _, e := range ents {
		v.Entitlements = append(v.Entitlements, EntitlementView{Product: e.ProductCode, Repo: e.Repo, Source: e.Source})
	}
	return v
}

func workflowView(st lifecycle.Live) *WorkflowView {
	return &WorkflowView{
		Reachable: true, Status: st.Status, Revision: st.Revision, Renewals: st.Renewals, Run: st.Run,
		Issued: st.Issued, StepsDone: st.StepsDone, SuspendReason: st.SuspendReason, RevokeReason: st.RevokeReason,
	}
}

// OrderView is an order as the API shows it.
type OrderView struct {
	ID          string             `json:"id"`
	CustomerID  string             `json:"customer_id"`
	Tier        string             `json:"tier"`
	Kind        models.OrderKind   `json:"kind"`
	Product     string             `json:"product,omitempty"` // an add-on's product
	Months      int                `json:"months"`
	Lifetime    bool               `json:"lifetime"`
	ExpiresAt   *time.Time         `json:"expires_at,omitempty"`
	MaxDomains  int                `json:"max_domains"`
	AmountCents int64              `json:"amount_cents"`
	Currency    string             `json:"currency"`
	Status      models.OrderStatus `json:"status"`
	PaymentRef  string             `json:"payment_ref"`
	// AmountIncludesTax: the amount is what was paid, tax included (Stripe);
	// StripeTaxCents is the tax Stripe Checkout computed, if any.
	AmountIncludesTax bool  `json:"amount_includes_tax"`
	StripeTaxCents    int64 `json:"stripe_tax_cents,omitempty"`
	// Stripe links, when the order was paid through Stripe.
	StripeCustomerID        string `json:"stripe_customer_id,omitempty"`
	StripeSubscriptionID    string `json:"stripe_subscription_id,omitempty"`
	StripeCheckoutSessionID string `json:"stripe_checkout_session_id,omitempty"`
	StripePaymentIntentID   string `json:"stripe_payment_intent_id,omitempty"`
	StripeInvoiceID         string `json:"stripe_invoice_id,omitempty"`
	// The provider and its ids when PayPal or Paddle took the payment
	// (Paddle's own invoice number as merchant of record).
	PaymentProvider        models.PaymentProvider `json:"payment_provider,omitempty"`
	ProviderPaymentID      string                 `json:"provider_payment_id,omitempty"`
	ProviderSubscriptionID string                 `json:"provider_subscription_id,omitempty"`
	ProviderInvoiceNumber  string                 `json:"provider_invoice_number,omitempty"`
	LicenseID              string                 `json:"license_id"`
	PaidAt                 *time.Time             `json:"paid_at"`
	CreatedAt              time.Time              `json:"created_at"`
	UpdatedAt              time.Time              `json:"updated_at"`
}

func orderView(o models.Order) OrderView {
	return OrderView{
		ID: o.ID, CustomerID: o.CustomerID, Tier: o.TierKey, Kind: o.Kind, Product: o.Product, Months: o.Months, Lifetime: o.Lifetime, ExpiresAt: o.ExpiresAt,
		MaxDomains: o.MaxDomains, AmountCents: o.AmountCents, Currency: o.Currency, Status: o.Status, PaymentRef: o.PaymentRef,
		StripeCustomerID: o.StripeCustomerID, StripeSubscriptionID: o.StripeSubscriptionID,
		StripeCheckoutSessionID: o.StripeCheckoutSessionID, StripePaymentIntentID: o.StripePaymentIntentID,
		StripeInvoiceID: o.StripeInvoiceID, PaymentProvider: o.PaymentProvider, ProviderPaymentID: o.ProviderPaymentID,
		ProviderSubscriptionID: o.ProviderSubscriptionID, ProviderInvoiceNumber: o.ProviderInvoiceNumber, LicenseID: o.LicenseID, PaidAt: o.PaidAt, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
		AmountIncludesTax: o.AmountIncludesTax, StripeTaxCents: o.StripeTaxCents,
	}
}

// InvoiceView is an invoice without its PDF (GET …/pdf has that).
type InvoiceView struct {
	Number        string            `json:"number"`
	Year          int               `json:"year"`
	Sequence      int               `json:"sequence"`
	OrderID       string            `json:"order_id"`
	LicenseID     string            `json:"license_id"`
	CustomerID    string            `json:"customer_id"`
	BillTo        string            `json:"bill_to"`
	Lines         []InvoiceLineView `json:"lines"`
	SubtotalCents int64             `json:"subtotal_cents"`
	TaxCents      int64             `json:"tax_cents"`
	TotalCents    int64             `json:"total_cents"`
	Currency      string            `json:"currency"`
	// TaxRateBP is the rate in basis points (1900 = 19 %); TaxTreatment
	// says why (domestic, eu_destination, reverse_charge, outside_eu,
	// stripe, or empty when no seller country is configured); TaxNotice is
	// the legal line printed on the invoice.
	TaxRateBP       int    `json:"tax_rate_bp"`
	TaxTreatment    string `json:"tax_treatment,omitempty"`
	TaxNotice       string `json:"tax_notice,omitempty"`
	CustomerCountry string `json:"customer_country,omitempty"`
	CustomerVATID   string `json:"customer_vat_id,omitempty"`
	// CreditedCents is what credit notes took back; Status is issued,
	// partially_credited or credited.
	CreditedCents int64  `json:"credited_cents"`
	Status        string `json:"status"`
	// IssuedBy is the merchant of record that issued the invoice (paddle);
	// its PDF is the merchant's.
	IssuedBy  models.PaymentProvider `json:"issued_by,omitempty"`
	IssuedAt  time.Time              `json:"issued_at"`
	CreatedAt time.Time              `json:"created_at"`
}

// InvoiceLineView is one billed item.
type InvoiceLineView struct {
	Description string `json:"description"`
	Quantity    int    `json:"quantity"`
	UnitCents   int64  `json:"unit_cents"`
	TotalCents  int64  `json:"total_cents"`
}

func invoiceView(inv models.Invoice) InvoiceView {
	v := InvoiceView{
		Number: inv.Number, Year: inv.Year, Sequence: inv.Sequence, OrderID: inv.OrderID, LicenseID: inv.LicenseID,
		CustomerID: inv.CustomerID, BillTo: inv.BillTo, SubtotalCents: inv.SubtotalCents, TaxCents: inv.TaxCents,
		TotalCents: inv.TotalCents, Currency: inv.Currency, Status: inv.Status, IssuedAt: inv.IssuedAt, CreatedAt: inv.CreatedAt,
		TaxRateBP: inv.TaxRateBP, TaxTreatment: string(inv.TaxTreatment), TaxNotice: inv.TaxNotice,
		CustomerCountry: inv.CustomerCountry, CustomerVATID: inv.CustomerVATID, CreditedCents: inv.CreditedCents,
		IssuedBy: inv.IssuedBy,
	}
	if inv.Lines.V != nil {
		v.Lines = make([]InvoiceLineView, 0, len(inv.Lines.V))
	}
	for _, l := range inv.Lines.V {
		v.Lines = append(v.Lines, InvoiceLineView{Description: l.Description, Quantity: l.Quantity, UnitCents: l.UnitCents, TotalCents: l.TotalCents})
	}
	return v
}

// EmailView is one outbox message.
type EmailView struct {
	ID                uint               `json:"id"`
	IdempotencyKey    string             `json:"idempotency_key"`
	To                string             `json:"to"`
	Template          string             `json:"template"`
	Subject           string             `json:"subject"`
	TextBody          string             `json:"text_body"`
	HTMLBody          string             `json:"html_body"`
	LicenseID         string             `json:"license_id"`
	InvoiceNumber     string             `json:"invoice_number,omitempty"`
	Status            models.EmailStatus `json:"status"`
	Attempts          int                `json:"attempts"`
	LastError         string             `json:"last_error,omitempty"`
	ProviderMessageID string             `json:"provider_message_id,omitempty"`
	SentAt            *time.Time         `json:"sent_at"`
	CreatedAt         time.Time          `json:"created_at"`
	UpdatedAt         time.Time          `json:"updated_at"`
}

func emailView(m models.EmailMessage) EmailView {
	return EmailView{
		ID: m.ID, IdempotencyKey: m.IdempotencyKey, To: m.To, Template: m.Template, Subject: m.Subject,
		TextBody: m.TextBody, HTMLBody: m.HTMLBody, LicenseID: m.LicenseID, InvoiceNumber: m.InvoiceNumber,
		Status: m.Status, Attempts: m.Attempts, LastError: m.LastError, ProviderMessageID: m.ProviderMessageID,
		SentAt: m.SentAt, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt,
	}
}

// ProductView is a catalog product.
type ProductView struct {
	Code           string          `json:"code"`
	Repo           string          `json:"repo"`
	Name           string          `json:"name"`
	Platform       models.Platform `json:"platform"`
	RequiresKey    bool            `json:"requires_key"`
	DomainRequired bool            `json:"domain_required"`
	// AddonPriceCents > 0: sold as an add-on, at this price in AddonCurrency.
	AddonPriceCents int64     `json:"addon_price_cents"`
	AddonCurrency   string    `json:"addon_currency,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

func productView(p models.Product) ProductView {
	return ProductView{Code: p.Code, Repo: p.Repo, Name: p.Name, Platform: p.Platform, RequiresKey: p.RequiresKey,
		DomainRequired: p.DomainRequired, AddonPriceCents: p.AddonPriceCents, AddonCurrency: p.AddonCurrency,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

// TierView is a sellable tier.
type TierView struct {
	Key           string      `json:"key"`
	Name          string      `json:"name"`
	Description   string      `json:"description"`
	Products      []string    `json:"products"`
	MaxDomains    int         `json:"max_domains"`
	Term          models.Term `json:"term"`
	TermMonths    int         `json:"term_months"`
	PriceCents    int64       `json:"price_cents"`
	Currency      string      `json:"currency"`
	Channels      []string    `json:"channels"`
	Active        bool        `json:"active"`
	TrialDays     int         `json:"trial_days"`
	StripePriceID string      `json:"stripe_price_id,omitempty"`
	CreatedAt     time.Time   `json:"created_at"`
	UpdatedAt     time.Time   `json:"updated_at"`
}

func tierView(t models.Tier) TierView {
	return TierView{Key: t.Key, Name: t.Name, Description: t.Description, Products: t.Products, MaxDomains: t.MaxDomains, Term: t.Term,
		TermMonths: t.TermMonths, PriceCents: t.PriceCents, Currency: t.Currency, Channels: t.Channels, Active: t.Active,
		TrialDays: t.TrialDays, StripePriceID: t.StripePriceID, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

// TokenView is an API token, never its secret.
type TokenView struct {
	ID         uint       `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	CreatedAt  time.Time  `json:"created_at"`
}

func tokenView(t models.APIToken) TokenView {
	return TokenView{ID: t.ID, Name: t.Name, Prefix: t.Prefix, Scopes: t.Scopes, LastUsedAt: t.LastUsedAt,
		RevokedAt: t.RevokedAt, CreatedAt: t.CreatedAt}
}

// ReleaseView is a published release.
type ReleaseView struct {
	Product        string    `json:"product"`
	Version        string    `json:"version"`
	Channel        string    `json:"channel"`
	Notes          string    `json:"notes"`
	Element        string    `json:"element"`
	Type           string    `json:"type"`
	TargetPlatform string    `json:"target_platform"`
	PHPMinimum     string    `json:"php_minimum,omitempty"`
	Requires       string    `json:"requires,omitempty"`
	Tested         string    `json:"tested,omitempty"`
	Filename       string    `json:"filename"`
	Size           int64     `json:"size"`
	SHA256         string    `json:"sha256"`
	PublishedAt    time.Time `json:"published_at"`
}

func releaseView(r models.Release) ReleaseView {
	return ReleaseView{Product: r.ProductCode, Version: r.Version, Channel: r.Channel, Notes: r.Notes, Element: r.Element,
		Type: r.ExtensionType, TargetPlatform: r.TargetPlatform, PHPMinimum: r.PHPMinimum, Requires: r.Requires, Tested: r.Tested, Filename: r.Filename,
		Size: r.Size, SHA256: r.SHA256, PublishedAt: r.PublishedAt}
}

// ActivationView is one domain of a license.
type ActivationView struct {
	Domain        string                  `json:"domain"`
	Status        models.ActivationStatus `json:"status"`
	Staging       bool                    `json:"staging"`
	FirstSeen     time.Time               `json:"first_seen"`
	LastSeen      time.Time               `json:"last_seen"`
	DeactivatedAt *time.Time              `json:"deactivated_at,omitempty"`
}

func activationView(a models.Activation) ActivationView {
	return ActivationView{Domain: a.Domain, Status: a.Status, Staging: a.Staging, FirstSeen: a.FirstSeen, LastSeen: a.LastSeen, DeactivatedAt: a.DeactivatedAt}
}

// pageOf shows rows as a page (an empty list, never null).
func pageOf[T, V any](rows []T, view func(T) V) httpx.Page[V] {
	out := httpx.Page[V]{Data: make([]V, 0, len(rows))}
	for _, r := range rows {
		out.Data = append(out.Data, view(r))
	}
	return out
}
