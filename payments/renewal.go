package payments

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments/paypal"
	"github.com/licenseflow/licenseflow/store"
)

// RenewalLink is where a customer pays a renewal: a Stripe Checkout page, a
// PayPal order's approval page (licenses PayPal paid for), or, without
// Stripe, a pending renewal order for the CRM to collect.
type RenewalLink struct {
	Provider  string `json:"provider"`
	URL       string `json:"url,omitempty"`
	SessionID string `json:"session_id,omitempty"`
	// PayPalOrderID is the PayPal order the customer approves at URL.
	PayPalOrderID string `json:"paypal_order_id,omitempty"`
	OrderID       string `json:"order_id,omitempty"`
	Message       string `json:"message"`
}

// Renewals prepares the payments of existing licenses: renewals, priced
// from their tier, and add-ons, priced from the catalog.
type Renewals struct {
	// Store prices renewals from their tier and records CRM orders.
	Store *store.Store
	// Checkout creates Stripe Checkout Sessions; nil without a Stripe key
	// (renewal links then become pending CRM orders).
	Checkout *Checkout
	// PayPal creates and captures PayPal orders; nil without PayPal's REST
	// credentials (licenses PayPal paid for then renew like any other).
	PayPal *paypal.Client
	// PublicURL is where customers reach licenseflow (Checkout return links).
	PublicURL string
}

// PayPalReturnPath is where PayPal sends a customer back after approving a
// renewal order: licenseflow captures the order there.
const PayPalReturnPath = "/portal/paypal/return"

// Link prepares a renewal payment for a license, for months (nil: the
// tier's term).
func (r *Renewals) Link(ctx context.Context, l models.License, months *int) (RenewalLink, error) {
	if err := models.CheckRenewal(l); err != nil {
		return RenewalLink{}, err
	}
	tier, err := r.Store.GetTier(ctx, l.TierKey)
	if err != nil {
		return RenewalLink{}, err
	}
	term, _ := tier.Months()
	if months != nil {
		if *months < 1 || *months > models.MaxTermMonths {
			return RenewalLink{}, models.Invalid("invalid_months", "months", "months must be between 1 and %d", models.MaxTermMonths)
		}
		term = *months
	}
	// Asking again for the same renewal (a second click on Renew) gets the
	// same order or Checkout Session, not another one: the reference names
	// everything the payment is for, and the license's expiry moves once it
	// is paid.
	ref := fmt.Sprintf("renewal:%s:%d:%d:%s:%d%s", l.ID, term, l.ExpiresAt.Unix(), tier.Key, tier.PriceFor(term), tier.Currency)
	if l.PaymentProvider == models.ProviderPayPal && r.PayPal != nil {
		return r.paypalRenewal(ctx, l, tier, term, ref)
	}
	if r.Checkout == nil {
		order := models.NewOrder{
			ID: ref, Kind: models.OrderRenewal, Email: l.Customer.Email, Tier: tier, LicenseID: l.ID,
			Months: term, MaxDomains: l.MaxDomains, AmountCents: tier.PriceFor(term), Currency: tier.Currency, Requested: true,
		}
		o, err := r.pendingOrder(ctx, order)
		if err != nil {
			return RenewalLink{}, err
		}
		return RenewalLink{Provider: "crm", OrderID: o.ID,
			Message: fmt.Sprintf("Stripe is not configured: renewal order %s (%s) awaits payment; the CRM marks it paid with POST /api/v1/orders/%s/paid",
				o.ID, models.FormatMoney(o.AmountCents, o.Currency), o.ID)}, nil
	}
	priceID, quantity := stripePrice(tier, term)
	session, err := r.Checkout.CreateRenewalSession(ctx, RenewalSession{
		LicenseID: l.ID, TierKey: tier.Key, TierName: tier.Name, Months: term, PriceID: priceID, Quantity: quantity,
		AmountCents: tier.PriceFor(term), Currency: tier.Currency, CustomerID: l.StripeCustomerID, CustomerEmail: l.Customer.Email,
		SuccessURL: r.PublicURL + "/portal?renewed=" + l.ID, CancelURL: r.PublicURL + "/portal",
		IdempotencyKey: ref + ":" + l.StripeCustomerID + ":" + l.Customer.Email, // Stripe refuses a key reused with other parameters
	})
	if err != nil {
		return RenewalLink{}, err
	}
	return RenewalLink{Provider: "stripe", URL: session.URL, SessionID: session.ID,
		Message: "send the customer to url; the license is renewed when Stripe reports the payment"}, nil
}

// paypalRenewal creates the PayPal order of a renewal: its custom_id names
// the license and the months, so the capture's webhook renews it (once the
// money covers the term). The reference is PayPal's request id, so asking
// again for the same renewal gets the same order.
func (r *Renewals) paypalRenewal(ctx context.Context, l models.License, tier models.Tier, months int, ref string) (RenewalLink, error) {
	order, err := r.PayPal.CreateOrder(ctx, paypal.OrderRequest{
		RequestID: ref, CustomID: fmt.Sprintf("license=%s&months=%d", l.ID, months),
		Description: fmt.Sprintf("Renewal of your %s license, %d months", tier.Name, months),
		Amount:      paypal.Money{CurrencyCode: tier.Currency, Value: paypal.FormatAmount(tier.PriceFor(months))},
		ReturnURL:   r.PublicURL + PayPalReturnPath, CancelURL: r.PublicURL + "/portal/licenses/" + l.ID,
	})
	if err != nil {
		return RenewalLink{}, err
	}
	approve := order.ApproveURL
	if approve == "" { // approved already (the same renewal asked again): capture it
		approve = r.PublicURL + PayPalReturnPath + "?token=" + url.QueryEscape(order.ID)
	}
	return RenewalLink{Provider: "paypal", URL: approve, PayPalOrderID: order.ID,
		Message: "send the customer to url; the license is renewed when PayPal reports the captured payment"}, nil
}

// CapturePayPal captures the PayPal order a customer approved (PayPal's
// return link names it) and says which license it renews. Capturing twice
// is the same capture; the license is renewed by the capture's webhook.
func (r *Renewals) CapturePayPal(ctx context.Context, orderID string) (licenseID string, err error) {
	if r.PayPal == nil {
		return "", models.NotFound("paypal_not_configured", "PayPal orders are not configured here")
	}
	o, err := r.PayPal.CaptureOrder(ctx, orderID)
	if errors.Is(err, paypal.ErrNotApproved) {
		return "", models.Conflict("paypal_not_approved", "the PayPal payment was not approved; start the renewal again from your license")
	}
	if err != nil {
		return "", err
	}
	unit, _ := o.Unit()
	custom, _ := url.ParseQuery(unit.CustomID)
	return custom.Get("license"), nil
}

// pendingOrder records order for the CRM to collect, under its id (made
// of what is paid for, so asking twice is the same order) unless that
// order was paid already or made for another address: then a new one.
func (r *Renewals) pendingOrder(ctx context.Context, order models.NewOrder) (models.Order, error) {
	o, _, err := r.Store.CreateOrder(ctx, order)
	if p, ok := models.AsProblem(err); (ok && p.Code == "order_exists") || (err == nil && o.Status != models.OrderPending) {
		order.ID = models.NewOrderID()
		o, _, err = r.Store.CreateOrder(ctx, order)
	}
	return o, err
}

// stripePrice is what a Checkout line item charges for months of a tier:
// the tier's own Stripe price sells one term, so whole terms are that
// many of it; any other length (or a tier without one) is its pro-rata
// amount as price data (priceID "").
func stripePrice(tier models.Tier, months int) (priceID string, quantity int64) {
	termMonths, lifetime := tier.Months()
	if tier.StripePriceID == "" || !(lifetime || (termMonths > 0 && months%termMonths == 0)) {
		return "", 1
	}
	if lifetime {
		return tier.StripePriceID, 1
	}
	return tier.StripePriceID, int64(months / termMonths)
}

// AddonLink prepares the payment of product p for license l (checked by
// the caller with store.AddonFor). Asking again for the same add-on gets
// the same order or Checkout Session, as for renewals.
func (r *Renewals) AddonLink(ctx context.Context, l models.License, p models.Product) (RenewalLink, error) {
	ref := fmt.Sprintf("addon:%s:%s:%d%s", l.ID, p.Code, p.AddonPriceCents, p.AddonCurrency)
	if r.Checkout == nil {
		tier, err := r.Store.GetTier(ctx, l.TierKey)
		if err != nil {
			return RenewalLink{}, err
		}
		order := models.NewOrder{
			ID: ref, Kind: models.OrderAddon, Email: l.Customer.Email, Tier: tier, LicenseID: l.ID, Product: p.Code,
			MaxDomains: l.MaxDomains, AmountCents: p.AddonPriceCents, Currency: p.AddonCurrency, Requested: true,
		}
		o, err := r.pendingOrder(ctx, order)
		if err != nil {
			return RenewalLink{}, err
		}
		return RenewalLink{Provider: "crm", OrderID: o.ID,
			Message: fmt.Sprintf("Stripe is not configured: add-on order %s (%s) awaits payment; the CRM marks it paid with POST /api/v1/orders/%s/paid",
				o.ID, models.FormatMoney(o.AmountCents, o.Currency), o.ID)}, nil
	}
	session, err := r.Checkout.CreateAddonSession(ctx, AddonSession{
		LicenseID: l.ID, Product: p, CustomerID: l.StripeCustomerID, CustomerEmail: l.Customer.Email,
		SuccessURL: r.PublicURL + "/portal/licenses/" + l.ID + "?addon=" + p.Code, CancelURL: r.PublicURL + "/portal/licenses/" + l.ID,
		IdempotencyKey: ref + ":" + l.StripeCustomerID + ":" + l.Customer.Email,
	})
	if err != nil {
		return RenewalLink{}, err
	}
	return RenewalLink{Provider: "stripe", URL: session.URL, SessionID: session.ID,
		Message: "send the customer to url; the product is added when Stripe reports the payment"}, nil
}
