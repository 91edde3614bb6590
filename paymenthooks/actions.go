package paymenthooks

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/licenseflow/licenseflow/models"
)

// What a payment does to a license, whoever took it. Each provider's
// handler reads its event into these and leaves the rest here.

// purchase records a paid purchase (customer, order, pending license) and
// starts the license's workflow. The caller has checked that the money
// covers what is issued (paidFor).
func (s *server) purchase(ctx context.Context, p models.Purchase) (outcome, error) {
	order, license, _, err := s.Store.RecordPurchase(ctx, p)
	if err != nil {
		return outcome{orderID: p.OrderID}, err
	}
	return outcome{licenseID: license.ID, orderID: order.ID}, s.Lifecycle.StartLicense(ctx, license, order, p.Tier, p.CustomerName)
}

// paidRenewal is a renewal payment reported by a webhook.
type paidRenewal struct {
	orderID    string
	months     int
	expiresAt  *time.Time
	amount     int64
	currency   string
	paymentRef string
	stripe     models.StripeLinks
	provider   models.ProviderPayment
	stripeTax  int64
}

// renewFromPayment records the renewal order and signals the renewal; the
// payment ref makes a redelivered payment renew once.
func (s *server) renewFromPayment(ctx context.Context, l models.License, p paidRenewal) (outcome, error) {
	out := outcome{licenseID: l.ID, orderID: p.orderID}
	if l.Status == models.StatusRevoked {
		return out, models.CheckTransition(l.Status, models.ActionRenew)
	}
	if l.Lifetime() {
		return out, models.Conflict("license_lifetime", "license %s is a lifetime license; a renewal payment for it needs a refund, not a renewal", l.ID)
	}
	tier, err := s.Store.GetTier(ctx, l.TierKey)
	if err != nil {
		return out, err
	}
	months := p.months
	if months <= 0 {
		months, _ = tier.Months()
	}
	if months > models.MaxTermMonths {
		return out, models.Invalid("invalid_months", "metadata.months", "metadata.months %d is more than %d", months, models.MaxTermMonths)
	}
	currency, err := paidCurrency(p.currency, tier)
	if err != nil {
		return out, err
	}
	if _, err := s.Store.RecordLicenseOrder(ctx, models.LicenseOrder{
		OrderID: p.orderID, License: l, Months: months, AmountCents: p.amount, Currency: currency,
		PaymentRef: p.paymentRef, Stripe: p.stripe, Provider: p.provider, PaidAt: s.Now(),
		AmountIncludesTax: true, StripeTaxCents: p.stripeTax,
	}); err != nil {
		return out, err
	}
	req := models.RenewRequest{PaymentRef: p.paymentRef, OrderID: p.orderID}
	if p.expiresAt != nil {
		req.ExpiresAt = p.expiresAt
	} else {
		req.Months = months
	}
	return out, s.Lifecycle.SignalLicense(ctx, l, &req)
}

// renewForLicense renews the license a payment names (a renewal link's
// order, a subscription's custom id): see renewPaid.
func (s *server) renewForLicense(ctx context.Context, licenseID string, months int, paid int64, p paidRenewal) (outcome, error) {
	l, err := s.Store.GetLicense(ctx, licenseID)
	if err != nil {
		return outcome{licenseID: licenseID, orderID: p.orderID}, err
	}
	return s.renewPaid(ctx, l, months, paid, p)
}

// renewPaid renews when paid (before the vendor's discounts) pays months
// of the license's tier (0: its term), and holds the payment for review
// otherwise; p.amount is what is recorded as charged.
func (s *server) renewPaid(ctx context.Context, l models.License, months int, paid int64, p paidRenewal) (outcome, error) {
	tier, err := s.Store.GetTier(ctx, l.TierKey)
	if err != nil {
		return outcome{licenseID: l.ID, orderID: p.orderID}, err
	}
	if months <= 0 {
		months, _ = tier.Months()
	}
	if reason := paidFor(paid, p.currency, tier, months); reason != "" {
		return needsReview(reason, l.ID, p.orderID), nil
	}
	p.months = months
	return s.renewFromPayment(ctx, l, p)
}

// providerRef reports whether id looks like a PayPal or Paddle id and fits
// the columns provider ids are stored in.
func providerRef(id string) bool {
	return id != "" && len(id) <= 100 && strings.Trim(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == ""
}

// paymentFailed emails the customer of a license whose renewal payment
// failed (dunning), with the amount due and where to pay it.
func (s *server) paymentFailed(ctx context.Context, l models.License, eventID string, amountDue int64, currency, payAt string) (outcome, error) {
	out := outcome{licenseID: l.ID}
	if currency != "" { // the email then shows the amount without one
		var err error
		if currency, err = paidCurrency(currency, models.Tier{}); err != nil {
			return out, err
		}
	}
	return out, s.Lifecycle.SignalLicense(ctx, l, &models.PaymentFailedRequest{
		EventID: eventID, AmountDue: models.FormatMoney(amountDue, currency), PaymentURL: paymentURL(payAt),
	})
}

// reversal is money taken back from an order: a refund (full or partial)
// or a dispute (chargeback).
type reversal struct {
	order   models.Order
	dispute bool
	// full: the whole payment was refunded (a partial refund leaves the
	// license active).
	full bool
	// reason is the ledger's line for the suspension.
	reason string
	// credited says what crediting the invoice did ("" when the provider
	// credits it itself or nothing was credited); issued: a credit note was.
	credited string
	issued   bool
	eventID  string
}

// reverse acts on money taken back: a full refund marks the order
// refunded and suspends the license it bought (or takes back the add-on it
// bought), a dispute suspends the license, a partial refund changes
// nothing but the invoice's credit.
func (s *server) reverse(ctx context.Context, r reversal) (outcome, error) {
	o := r.order
	out := outcome{licenseID: o.LicenseID, orderID: o.ID, reason: r.credited}
	if !r.dispute && !r.full {
		return out, nil
	}
	reason := models.CleanLine(r.reason, models.MaxReasonLength)
	if !r.dispute {
		if err := s.Store.MarkOrder(ctx, o.ID, models.OrderRefunded); err != nil {
			return out, err
		}
	}
	l, err := s.Store.GetLicense(ctx, o.LicenseID)
	if err != nil {
		return out, err
	}
	if !r.dispute && o.Kind == models.OrderAddon {
		// A refunded add-on takes back the product, not the license the
		// customer paid for separately. (A dispute still suspends it.)
		return out, s.Lifecycle.SignalLicense(ctx, l, &models.RemoveEntitlementRequest{Product: o.Product, Reason: reason, RequestID: r.eventID})
	}
	if l.Status == models.StatusSuspended || l.Status == models.StatusRevoked {
		out.outcome, out.reason = models.PaymentEventIgnored, "the license is already "+string(l.Status)
		if r.credited != "" {
			out.reason = r.credited + "; " + out.reason
		}
		if r.issued {
			out.outcome = models.PaymentEventProcessed
		}
		return out, nil
	}
	return out, s.Lifecycle.SignalLicense(ctx, l, &models.SuspendRequest{Reason: reason, RequestID: r.eventID})
}

// refund is what a provider reports of a refunded payment, for its
// credit note.
type refund struct {
	// source makes the note idempotent: the provider's event ("stripe:evt_…").
	source string
	// paymentID is the refunded charge or capture; refundedCents what was
	// refunded of it so far (cumulative); full: all of it.
	paymentID     string
	refundedCents int64
	full          bool
	currency      string
	// label names the payment on the note ("charge ch_…").
	label string
}

// creditRefund issues the credit note of a refund on the order's invoice,
// idempotent by the event: a redelivered event issues nothing more. It
// says what it did, for the event's reason, and whether it issued a note.
// A merchant of record's invoice is credited by the merchant, not here.
func (s *server) creditRefund(ctx context.Context, o models.Order, r refund) (string, bool, error) {
	inv, err := s.Store.InvoiceForOrder(ctx, o.ID)
	if p, ok := models.AsProblem(err); ok && errors.Is(p, models.ErrNotFound) {
		return "order " + o.ID + " has no invoice yet, so no credit note was issued", false, nil
	} else if err != nil {
		return "", false, err
	}
	if inv.IssuedBy != "" {
		return fmt.Sprintf("invoice %s was issued by %s, which credits it", inv.Number, inv.IssuedBy.Title()), false, nil
	}
	if r.currency != "" && !strings.EqualFold(r.currency, inv.Currency) {
		return fmt.Sprintf("the refund is in %s and invoice %s in %s: no credit note was issued", models.Clip(r.currency, 3), inv.Number, inv.Currency), false, nil
	}
	if s.RenderCreditNote == nil {
		return "no credit note was issued (this server cannot lay them out)", false, nil
	}
	cn, created, err := s.Store.IssueCreditNote(ctx, models.CreditRequest{
		InvoiceNumber: inv.Number, Full: r.full, Reason: "Refund of " + r.label,
		Source: r.source, RefundedPaymentID: r.paymentID, RefundedCents: r.refundedCents, Actor: models.ActorFrom(ctx),
	}, s.Now(), s.RenderCreditNote)
	switch {
	case err != nil:
		return "", false, err
	case cn.Number == "":
		return "invoice " + inv.Number + " already credits this refund", false, nil
	case !created:
		return "credit note " + cn.Number + " was issued for this event before", false, nil
	}
	return fmt.Sprintf("credit note %s credits %s of invoice %s", cn.Number, models.FormatMoney(cn.TotalCents, cn.Currency), inv.Number), true, nil
}

// autoRenewOff turns automatic renewal off (a cancelled subscription); the
// license runs to its expiry and its reminders still go out.
func (s *server) autoRenewOff(ctx context.Context, l models.License) (outcome, error) {
	return outcome{licenseID: l.ID}, s.Store.SetAutoRenew(ctx, l.ID, false)
}

// paidFor says why a payment does not pay for a tier's term ("" when it
// does): "paid means paid" for every provider. A payment pays when its
// currency is the tier's and its amount before the vendor's discounts
// covers the tier's price for the months bought. What a provider's own
// price ids prove (a Stripe price, a subscription kept at an earlier
// price) is the provider's handler's to add.
func paidFor(paid int64, rawCurrency string, tier models.Tier, months int) string {
	want := tier.PriceFor(months)
	currency, _ := models.NormalizeCurrency(rawCurrency, "currency")
	if currency == tier.Currency && paid >= want {
		return ""
	}
	term := fmt.Sprintf("%d months", months)
	if _, lifetime := tier.Months(); lifetime {
		term = "lifetime"
	}
	return fmt.Sprintf("the payment is %s (discounts included) but tier %s for %s costs %s: nothing is issued",
		models.FormatMoney(paid, models.Clip(currency, 3)), tier.Key, term, models.FormatMoney(want, tier.Currency))
}

// addonPaidFor is paidFor for an add-on: the product's add-on price in its
// currency.
func addonPaidFor(paid int64, rawCurrency string, p models.Product) string {
	if !p.SoldAsAddon() {
		return fmt.Sprintf("product %s is not sold as an add-on: nothing is granted", p.Code)
	}
	currency, _ := models.NormalizeCurrency(rawCurrency, "currency")
	if currency == p.AddonCurrency && paid >= p.AddonPriceCents {
		return ""
	}
	return fmt.Sprintf("the payment is %s (discounts included) but the %s add-on costs %s: nothing is granted",
		models.FormatMoney(paid, models.Clip(currency, 3)), p.Code, models.FormatMoney(p.AddonPriceCents, p.AddonCurrency))
}

// paidCurrency is the ISO 4217 code of a payment's currency (Stripe sends
// lower case), the tier's when the provider sent none.
func paidCurrency(raw string, tier models.Tier) (string, error) {
	if raw == "" && tier.Currency != "" {
		return tier.Currency, nil
	}
	return models.NormalizeCurrency(raw, "currency")
}

// paymentURL keeps the provider's payment page for the dunning email when
// it is a sane https URL, and drops it otherwise.
func paymentURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || len(raw) > 2048 || models.CheckLine("url", raw, 2048) != nil {
		return ""
	}
	return raw
}
