package payments

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/licenseflow/licenseflow/models"
	"github.com/stripe/stripe-go/v79"
	"github.com/stripe/stripe-go/v79/client"
)

// Config reaches the Stripe API.
type Config struct {
	SecretKey string
	// APIURL overrides https://api.stripe.com (stripe-mock in tests).
	APIURL string
}

// Checkout creates Checkout Sessions and reads their line items.
type Checkout struct {
	api *client.API
}

// NewCheckout returns a Stripe API client; it talks to Stripe only when called.
func NewCheckout(cfg Config) (*Checkout, error) {
	if cfg.SecretKey == "" {
		return nil, errors.New("a Stripe secret key is required")
	}
	backendCfg := &stripe.BackendConfig{
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelError},
		MaxNetworkRetries: stripe.Int64(2),
	}
	if cfg.APIURL != "" {
		backendCfg.URL = stripe.String(cfg.APIURL)
	}
	backend := stripe.GetBackendWithConfig(stripe.APIBackend, backendCfg)
	return &Checkout{api: client.New(cfg.SecretKey, &stripe.Backends{API: backend, Connect: backend, Uploads: backend})}, nil
}

// RenewalSession describes the Checkout Session that renews a license.
type RenewalSession struct {
	LicenseID string
	TierKey   string
	TierName  string
	Months    int
	// PriceID is the tier's Stripe price, if it has one; otherwise the
	// amount is sent as ad-hoc price data.
	PriceID string
	// Quantity is how many of PriceID are sold (terms); 0 means 1.
	Quantity      int64
	AmountCents   int64
	Currency      string
	CustomerID    string
	CustomerEmail string
	SuccessURL    string
	CancelURL     string
	// IdempotencyKey makes Stripe answer a repeated request within 24
	// hours with the session it made the first time.
	IdempotencyKey string
}

// Session is a created Checkout Session.
type Session struct {
	ID  string
	URL string
}

// CreateRenewalSession creates a one-off payment for a renewal. The license
// id rides in the session's and the payment's metadata, so the
// checkout.session.completed event renews that license, and a later refund
// can be traced back to it.
func (c *Checkout) CreateRenewalSession(ctx context.Context, r RenewalSession) (Session, error) {
	metadata := map[string]string{"license_id": r.LicenseID, "tier": r.TierKey, "months": strconv.Itoa(r.Months)}
	item := lineItem(r.PriceID, r.Quantity, r.AmountCents, r.Currency, fmt.Sprintf("%s renewal, %d months", r.TierName, r.Months))
	params := paymentSession(item, metadata, r.LicenseID, r.SuccessURL, r.CancelURL)
	s, err := c.create(ctx, params, r.CustomerID, r.CustomerEmail, r.IdempotencyKey)
	if err != nil {
		return Session{}, fmt.Errorf("create Stripe Checkout Session for license %s: %w", r.LicenseID, err)
	}
	return s, nil
}

// create asks Stripe for the session params describe, for the buyer's
// Stripe customer when there is one (else their address, when known);
// idempotencyKey makes a repeated request get the first session.
func (c *Checkout) create(ctx context.Context, params *stripe.CheckoutSessionParams, customerID, email, idempotencyKey string) (Session, error) {
	if customerID != "" {
		params.Customer = stripe.String(customerID)
	} else if email != "" {
		params.CustomerEmail = stripe.String(email)
	}
	params.Context = ctx
	if idempotencyKey != "" {
		params.SetIdempotencyKey(idempotencyKey)
	}
	s, err := c.api.CheckoutSessions.New(params)
	if err != nil {
		return Session{}, err
	}
	return Session{ID: s.ID, URL: s.URL}, nil
}

// AddonSession describes the Checkout Session of an add-on bought for a
// license.
type AddonSession struct {
	LicenseID      string
	Product        models.Product
	CustomerID     string
	CustomerEmail  string
	SuccessURL     string
	CancelURL      string
	IdempotencyKey string
}

// CreateAddonSession creates a one-off payment of a product's add-on
// price. The metadata names the license and the product:
// checkout.session.completed grants it once the amount is checked against
// the catalog's add-on price.
func (c *Checkout) CreateAddonSession(ctx context.Context, a AddonSession) (Session, error) {
	metadata := map[string]string{"license_id": a.LicenseID, "addon": a.Product.Code}
	item := lineItem("", 1, a.Product.AddonPriceCents, a.Product.AddonCurrency, a.Product.Name+" add-on")
	params := paymentSession(item, metadata, a.LicenseID, a.SuccessURL, a.CancelURL)
	s, err := c.create(ctx, params, a.CustomerID, a.CustomerEmail, a.IdempotencyKey)
	if err != nil {
		return Session{}, fmt.Errorf("create Stripe Checkout Session for add-on %s of license %s: %w", a.Product.Code, a.LicenseID, err)
	}
	return s, nil
}

// PurchaseSession describes the Checkout Session of a new license bought
// on the plans page.
type PurchaseSession struct {
	// OrderID is the order the paid session becomes: it rides in the
	// metadata and as the client reference, and keys the request to Stripe.
	OrderID    string
	TierKey    string
	TierName   string
	Term       string
	Months     int
	Lifetime   bool
	MaxDomains int
	// PriceID is the tier's Stripe price, if it has one; otherwise the
	// amount is sent as ad-hoc price data.
	PriceID       string
	Quantity      int64
	AmountCents   int64
	Currency      string
	CustomerEmail string
	SuccessURL    string
	CancelURL     string
}

// CreatePurchaseSession creates a one-off payment for a new license. The
// metadata names the tier, the months (none for a lifetime license), the
// domains and the order: checkout.session.completed turns it into that
// order's purchase, checked against the catalog's price.
func (c *Checkout) CreatePurchaseSession(ctx context.Context, p PurchaseSession) (Session, error) {
	metadata := map[string]string{"order_id": p.OrderID, "tier": p.TierKey, "max_domains": strconv.Itoa(p.MaxDomains)}
	if p.Lifetime {
		metadata["lifetime"] = "true"
	} else {
		metadata["months"] = strconv.Itoa(p.Months)
	}
	item := lineItem(p.PriceID, p.Quantity, p.AmountCents, p.Currency, fmt.Sprintf("%s, %s", p.TierName, p.Term))
	params := paymentSession(item, metadata, p.OrderID, p.SuccessURL, p.CancelURL)
	s, err := c.create(ctx, params, "", p.CustomerEmail, "purchase:"+p.OrderID)
	if err != nil {
		return Session{}, fmt.Errorf("create Stripe Checkout Session for order %s: %w", p.OrderID, err)
	}
	return s, nil
}

// lineItem charges quantity of a Stripe price, or, without one, the amount
// as ad-hoc price data named name.
func lineItem(priceID string, quantity, amountCents int64, currency, name string) *stripe.CheckoutSessionLineItemParams {
	item := &stripe.CheckoutSessionLineItemParams{Quantity: stripe.Int64(max(quantity, 1))}
	if priceID != "" {
		item.Price = stripe.String(priceID)
		return item
	}
	item.PriceData = &stripe.CheckoutSessionLineItemPriceDataParams{
		Currency:    stripe.String(strings.ToLower(currency)),
		UnitAmount:  stripe.Int64(amountCents),
		ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String(name)},
	}
	return item
}

// paymentSession is a one-off payment of item, with metadata on the
// session and on its payment (so a refund can be traced back).
func paymentSession(item *stripe.CheckoutSessionLineItemParams, metadata map[string]string, reference, successURL, cancelURL string) *stripe.CheckoutSessionParams {
	params := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		LineItems:         []*stripe.CheckoutSessionLineItemParams{item},
		ClientReferenceID: stripe.String(reference),
		SuccessURL:        stripe.String(successURL),
		CancelURL:         stripe.String(cancelURL),
		PaymentIntentData: &stripe.CheckoutSessionPaymentIntentDataParams{Metadata: metadata},
	}
	params.Metadata = metadata
	return params
}

// SessionPriceID returns the price of a session's first line item, for
// sessions created without tier metadata.
func (c *Checkout) SessionPriceID(ctx context.Context, sessionID string) (string, error) {
	params := &stripe.CheckoutSessionListLineItemsParams{Session: stripe.String(sessionID)}
	params.Context = ctx
	it := c.api.CheckoutSessions.ListLineItems(params)
	for it.Next() {
		if item := it.LineItem(); item.Price != nil {
			return item.Price.ID, nil
		}
	}
	if err := it.Err(); err != nil {
		return "", fmt.Errorf("list line items of Checkout Session %s: %w", sessionID, err)
	}
	return "", fmt.Errorf("checkout Session %s has no priced line item", sessionID)
}
