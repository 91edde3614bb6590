package payments

import (
	"context"
	"fmt"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
)

// Storefront starts purchases from the plans page: a Stripe Checkout
// Session when Stripe is configured, otherwise a pending order the
// vendor's CRM collects.
type Storefront struct {
	Store *store.Store
	// Checkout creates Stripe Checkout Sessions; nil without a Stripe key.
	Checkout *Checkout
	// PublicURL is where customers reach licenseflow (return links).
	PublicURL string
}

// Purchase is what a buyer chose on the plans page.
type Purchase struct {
	Tier       models.Tier
	Offer      models.Offer
	MaxDomains int
	// Email is where the license goes: typed by the buyer or the signed-in
	// customer's; optional with Stripe (Checkout then asks for it).
	Email string
	// CustomerID is the signed-in customer buying from the portal.
	CustomerID string
}

// PurchaseLink is where the buyer goes next.
type PurchaseLink struct {
	// Provider is "stripe" (go to URL) or "crm" (a pending order).
	Provider  string
	URL       string
	SessionID string
	OrderID   string
	Email     string
	Amount    string
}

// Selling reports whether buyers pay on Stripe (true) or the CRM collects.
func (f *Storefront) Selling() bool { return f.Checkout != nil }

// Start prepares the payment of a purchase. Every call is a new order: a
// buyer who comes back to the plans page buys again, and an abandoned
// Checkout Session expires on Stripe's side without a trace here beyond its
// checkout record.
func (f *Storefront) Start(ctx context.Context, p Purchase) (PurchaseLink, error) {
	email := ""
	if p.Email != "" || f.Checkout == nil {
		var err error
		if email, err = models.NormalizeEmail(p.Email, "email"); err != nil {
			return PurchaseLink{}, err
		}
	}
	orderID := models.NewOrderID()
	amount := p.Offer.PriceCents
	link := PurchaseLink{OrderID: orderID, Email: email, Amount: models.FormatMoney(amount, p.Tier.Currency)}
	if f.Checkout == nil {
		o, _, err := f.Store.CreateOrder(ctx, models.NewOrder{
			ID: orderID, Email: email, Tier: p.Tier, Kind: models.OrderNew, Months: p.Offer.Months, Lifetime: p.Offer.Lifetime,
			MaxDomains: p.MaxDomains, AmountCents: amount, Currency: p.Tier.Currency, Requested: true,
		})
		if err != nil {
			return PurchaseLink{}, err
		}
		link.Provider, link.OrderID = "crm", o.ID
		return link, nil
	}
	// A yearly purchase of a monthly tier with its own Stripe price is
	// twelve of that price.
	priceID, quantity := stripePrice(p.Tier, p.Offer.Months)
	session, err := f.Checkout.CreatePurchaseSession(ctx, PurchaseSession{
		OrderID: orderID, TierKey: p.Tier.Key, TierName: p.Tier.Name, Term: p.Offer.Term, Months: p.Offer.Months,
		Lifetime: p.Offer.Lifetime, MaxDomains: p.MaxDomains, PriceID: priceID, Quantity: quantity,
		AmountCents: amount, Currency: p.Tier.Currency, CustomerEmail: email,
		SuccessURL: f.PublicURL + "/checkout/success?session_id={CHECKOUT_SESSION_ID}", CancelURL: f.PublicURL + "/plans",
	})
	if err != nil {
		return PurchaseLink{}, err
	}
	if err := f.Store.CreateCheckout(ctx, models.Checkout{
		SessionID: session.ID, OrderID: orderID, TierKey: p.Tier.Key, Term: p.Offer.Term, Months: p.Offer.Months,
		Lifetime: p.Offer.Lifetime, MaxDomains: p.MaxDomains, Email: email, CustomerID: p.CustomerID,
		AmountCents: amount, Currency: p.Tier.Currency,
	}); err != nil {
		return PurchaseLink{}, fmt.Errorf("record checkout %s: %w", session.ID, err)
	}
	link.Provider, link.URL, link.SessionID = "stripe", session.URL, session.ID
	return link, nil
}
