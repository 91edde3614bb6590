// Package stripehook receives Stripe's webhooks: it verifies each event,
// records it once, and turns it into a purchase, a renewal, a dunning email
// or a suspension through the license's workflow. Operators list the
// received events and what became of them.
package stripehook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/lifecycle"
	"github.com/licenseflow/licenseflow/metrics"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments"
	"github.com/licenseflow/licenseflow/store"
)

// Deps are the webhook's collaborators.
type Deps struct {
	Store     *store.Store
	Lifecycle lifecycle.Client
	// Payments looks up the price a Checkout Session sold; nil without a
	// Stripe key (sessions then need a tier in their metadata).
	Payments *payments.Checkout
	// WebhookSecrets verify Stripe webhooks (several while rotating).
	WebhookSecrets []string
	// Livemode is the Stripe mode whose events are acted upon (STRIPE_MODE):
	// a test-mode event reaching a live endpoint (or the other way round)
	// issues nothing. The zero value accepts test mode only, so a
	// deployment that forgets it pays out nothing for free.
	Livemode bool
	Now      func() time.Time
	// Metrics counts received events by outcome; nil counts nothing.
	Metrics *metrics.Metrics
	// RenderCreditNote lays out the credit note of a refund; nil issues
	// none (the refund is then noted in the event's reason).
	RenderCreditNote func(models.CreditNote, models.Invoice) ([]byte, error)
}

type server struct {
	Deps
}

// Mount adds the webhook and the admin listing of its events to r.
func Mount(r gin.IRouter, d Deps) {
	if d.Now == nil {
		d.Now = time.Now
	}
	s := &server{Deps: d}
	admin := httpx.RequireScope(d.Store, d.Now, models.ScopeAdmin)
	v1 := r.Group("/api/v1")
	v1.POST("/webhooks/stripe", s.stripeWebhook)
	v1.GET("/webhooks/stripe/events", admin, s.stripeEvents)
	v1.GET("/webhooks/stripe/events/:id", admin, s.stripeEvent)
}

// Receipt acknowledges a webhook to Stripe.
type Receipt struct {
	Received bool `json:"received"`
	// Duplicate says the event was handled before (a redelivery).
	Duplicate bool                      `json:"duplicate,omitempty"`
	Outcome   models.StripeEventOutcome `json:"outcome"`
	Reason    string                    `json:"reason,omitempty"`
}

// EventView is a received Stripe event and what became of it.
type EventView struct {
	ID         string                    `json:"id"`
	Type       string                    `json:"type"`
	Livemode   bool                      `json:"livemode"`
	Outcome    models.StripeEventOutcome `json:"outcome"`
	Reason     string                    `json:"reason,omitempty"`
	LicenseID  string                    `json:"license_id,omitempty"`
	OrderID    string                    `json:"order_id,omitempty"`
	ReceivedAt time.Time                 `json:"received_at"`
	FinishedAt *time.Time                `json:"finished_at"`
}

func eventView(e models.StripeEvent) EventView {
	return EventView{ID: e.ID, Type: e.Type, Livemode: e.Livemode, Outcome: e.Outcome, Reason: e.Reason,
		LicenseID: e.LicenseID, OrderID: e.OrderID, ReceivedAt: e.CreatedAt, FinishedAt: e.FinishedAt}
}

// stripeOutcome is what handling one event came to.
type stripeOutcome struct {
	outcome   models.StripeEventOutcome
	reason    string
	licenseID string
	orderID   string
}

func ignored(reason string) stripeOutcome {
	return stripeOutcome{outcome: models.StripeEventIgnored, reason: reason}
}

// stripeWebhook receives Stripe events. The signature is verified first
// (a bad one is a 400 and nothing is recorded), then the event id is
// recorded (unique: each event is handled once, concurrent redeliveries
// included), then the event is acted upon. Stripe gets a 2xx only once the
// event is recorded and its effect is durable (a workflow signal or start
// accepted by Temporal); an outage answers 503 and releases the event so
// Stripe's redelivery handles it. An event that can never apply (no such
// license) is recorded as failed with the reason, and acknowledged.
func (s *server) stripeWebhook(c *gin.Context) {
	if len(s.WebhookSecrets) == 0 {
		httpx.Fail(c, httpx.NewError(http.StatusServiceUnavailable, "stripe_not_configured", "",
			"Stripe webhooks are not configured: set STRIPE_WEBHOOK_SECRETS to the endpoint's signing secret"))
		return
	}
	payload, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, httpx.MaxBodyBytes))
	if err != nil {
		httpx.Fail(c, httpx.NewError(http.StatusRequestEntityTooLarge, "body_too_large", "", "the event is larger than 1 MiB"))
		return
	}
	ev, err := payments.VerifyAt(payload, c.GetHeader("Stripe-Signature"), s.WebhookSecrets, s.Now())
	if err != nil {
		s.Metrics.WebhookIn("stripe", "rejected")
		httpx.Fail(c, httpx.NewError(http.StatusBadRequest, "invalid_signature", "Stripe-Signature", err.Error()))
		return
	}
	if !utf8.Valid(payload) || !stripeID(ev.ID) || ev.Type == "" || len(ev.Type) > 100 {
		httpx.Fail(c, httpx.NewError(http.StatusBadRequest, "invalid_event", "", "the event is not a Stripe event this endpoint can record (id, type or encoding)"))
		return
	}
	ctx := c.Request.Context()
	rec, claimed, err := s.Store.ClaimStripeEvent(ctx, models.StripeEvent{
		ID: ev.ID, Type: ev.Type, Livemode: ev.Livemode, Payload: string(payload),
	}, s.Now())
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	if !claimed && rec.Outcome == models.StripeEventReceived {
		// Another delivery is handling it and its effect is not durable yet:
		// no 2xx, so that should it fail, Stripe delivers the event again.
		c.Header("Retry-After", "60")
		httpx.Fail(c, httpx.NewError(http.StatusConflict, "event_in_progress", "",
			fmt.Sprintf("event %s is being handled by another delivery; it is acknowledged once that is done, retry later", ev.ID)))
		return
	}
	if !claimed {
		s.Metrics.WebhookIn("stripe", "duplicate")
		c.JSON(http.StatusOK, Receipt{Received: true, Duplicate: true, Outcome: rec.Outcome})
		return
	}
	result, err := s.handleStripeEvent(ctx, ev)
	if err != nil {
		httpx.Logger(c).Error("stripe event not handled; releasing it for redelivery", "event", ev.ID, "type", ev.Type, "error", err)
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = s.Store.ReleaseStripeEvent(bg, ev.ID)
		s.Metrics.WebhookIn("stripe", "unavailable")
		httpx.Fail(c, err)
		return
	}
	if err := s.Store.FinishStripeEvent(ctx, ev.ID, result.outcome, result.reason, result.licenseID, result.orderID, s.Now()); err != nil {
		httpx.Fail(c, err)
		return
	}
	if result.outcome == models.StripeEventFailed || result.outcome == models.StripeEventNeedsReview {
		httpx.Logger(c).Warn("stripe event "+string(result.outcome), "event", ev.ID, "type", ev.Type, "reason", result.reason)
	}
	s.Metrics.WebhookIn("stripe", string(result.outcome))
	c.JSON(http.StatusOK, Receipt{Received: true, Outcome: result.outcome, Reason: result.reason})
}

// handleStripeEvent acts on one event. A domain Problem (unknown license,
// unknown tier) makes the event failed for good; any other error is
// transient and returned.
func (s *server) handleStripeEvent(ctx context.Context, ev payments.Event) (stripeOutcome, error) {
	ctx = models.WithActor(ctx, "stripe:"+ev.ID)
	if ev.Livemode != s.Livemode {
		reason := fmt.Sprintf("a %s-mode event reached an endpoint that acts on %s-mode events (STRIPE_MODE)", stripeMode(ev.Livemode), stripeMode(s.Livemode))
		if paymentEvent(ev.Type) {
			return needsReview(reason, "", ""), nil
		}
		return ignored(reason), nil
	}
	var (
		out stripeOutcome
		err error
	)
	switch ev.Type {
	case payments.CheckoutCompleted, payments.CheckoutAsyncSucceeded:
		out, err = s.onCheckout(ctx, ev)
	case payments.InvoicePaid:
		out, err = s.onInvoicePaid(ctx, ev)
	case payments.InvoicePaymentFailed:
		out, err = s.onPaymentFailed(ctx, ev)
	case payments.SubscriptionDeleted:
		out, err = s.onSubscriptionDeleted(ctx, ev)
	case payments.ChargeRefunded, payments.DisputeCreated:
		out, err = s.onReversal(ctx, ev)
	default:
		return ignored("licenseflow does not act on " + ev.Type), nil
	}
	if p, ok := models.AsProblem(err); ok && errors.Is(p, models.ErrNotFound) && paymentEvent(ev.Type) {
		// Money moved (or was taken back) and no license matches it: an
		// operator has to look, so it is queued for review and announced,
		// never left as a quiet "failed".
		return stripeOutcome{outcome: models.StripeEventNeedsReview, reason: p.Message, licenseID: out.licenseID, orderID: out.orderID}, nil
	}
	if p, ok := models.AsProblem(err); ok {
		return stripeOutcome{outcome: models.StripeEventFailed, reason: p.Message, licenseID: out.licenseID, orderID: out.orderID}, nil
	}
	if err != nil {
		return out, err
	}
	if out.outcome == "" {
		out.outcome = models.StripeEventProcessed
	}
	return out, nil
}

func stripeMode(live bool) string {
	if live {
		return "live"
	}
	return "test"
}

// paymentEvent reports whether an event type moves money for a license
// (a payment, a refund or a dispute).
func paymentEvent(typ string) bool {
	switch typ {
	case payments.CheckoutCompleted, payments.CheckoutAsyncSucceeded, payments.InvoicePaid,
		payments.ChargeRefunded, payments.DisputeCreated:
		return true
	}
	return false
}

// needsReview holds a payment back for an operator with the reason.
func needsReview(reason string, licenseID, orderID string) stripeOutcome {
	return stripeOutcome{outcome: models.StripeEventNeedsReview, reason: reason, licenseID: licenseID, orderID: orderID}
}

// onCheckout turns a paid Checkout Session into a purchase, or, when the
// session names a license (a renewal link), into a renewal of that license.
func (s *server) onCheckout(ctx context.Context, ev payments.Event) (stripeOutcome, error) {
	var cs payments.CheckoutSession
	if err := ev.Decode(&cs); err != nil {
		return stripeOutcome{}, models.Invalid("invalid_event", "", "%v", err)
	}
	if ev.Type == payments.CheckoutCompleted && cs.PaymentStatus == "unpaid" {
		return ignored("the payment is still processing; checkout.session.async_payment_succeeded will complete it"), nil
	}
	links := models.StripeLinks{CustomerID: string(cs.Customer), SubscriptionID: string(cs.Subscription),
		CheckoutSessionID: cs.ID, PaymentIntentID: string(cs.PaymentIntent), InvoiceID: string(cs.Invoice)}
	if err := checkLinks(links, true); err != nil {
		return stripeOutcome{}, err
	}
	orderID := "stripe:" + cs.ID
	if product := cs.Metadata["addon"]; product != "" {
		return s.addonFromCheckout(ctx, cs, product, links, orderID)
	}
	if licenseID := cs.Metadata["license_id"]; licenseID != "" {
		l, err := s.Store.GetLicense(ctx, licenseID)
		if err != nil {
			return stripeOutcome{licenseID: licenseID}, err
		}
		months := cs.MetadataInt("months")
		tier, err := s.Store.GetTier(ctx, l.TierKey)
		if err != nil {
			return stripeOutcome{licenseID: l.ID}, err
		}
		if months <= 0 {
			months, _ = tier.Months()
		}
		if months > models.MaxTermMonths {
			return stripeOutcome{licenseID: l.ID}, models.Invalid("invalid_months", "metadata.months", "metadata.months %d is more than %d", months, models.MaxTermMonths)
		}
		// A renewal keeps the license's domains: only its months are priced.
		if reason, err := s.unpaid(ctx, cs, tier, months, 0, false); err != nil || reason != "" {
			return needsReview(reason, l.ID, orderID), err
		}
		out, err := s.renewFromPayment(ctx, l, paidRenewal{orderID: orderID, months: months, amount: cs.AmountTotal,
			currency: cs.Currency, paymentRef: cs.ID, links: links, stripeTax: max(cs.TotalDetails.AmountTax, 0)})
		if err != nil {
			return out, err
		}
		return out, s.Store.LinkStripe(ctx, l.ID, links.CustomerID, links.SubscriptionID)
	}
	tier, byPrice, err := s.checkoutTier(ctx, cs)
	if err != nil {
		return stripeOutcome{}, err
	}
	// A session the plans page created becomes the order it was made for
	// (its success page waits on that order), issued to the address the
	// buyer gave there; the metadata's order id counts only when the
	// checkout record binds it to this very session.
	buyerEmail := cs.Email()
	bought, err := s.Store.GetCheckout(ctx, cs.ID)
	switch {
	case err == nil && bought.OrderID == cs.Metadata["order_id"]:
		orderID = bought.OrderID
		if bought.Email != "" {
			buyerEmail = bought.Email
		}
	case err != nil && !errors.Is(err, models.ErrNotFound):
		return stripeOutcome{}, err
	}
	// Everything is checked before the purchase is recorded: an event that
	// can never become a license is failed with the reason (and Stripe is
	// answered 2xx), never recorded half-way and retried forever.
	email, err := models.NormalizeEmail(buyerEmail, "customer_email")
	if err != nil {
		return stripeOutcome{orderID: orderID}, err
	}
	currency, err := paidCurrency(cs.Currency, tier)
	if err != nil {
		return stripeOutcome{}, err
	}
	months, lifetime := tier.Months()
	if m := cs.MetadataInt("months"); m > 0 && !lifetime {
		if m > models.MaxTermMonths {
			return stripeOutcome{}, models.Invalid("invalid_months", "metadata.months", "metadata.months %d is more than %d", m, models.MaxTermMonths)
		}
		months = m
	}
	maxDomains := tier.MaxDomains
	if d := cs.MetadataInt("max_domains"); d > 0 {
		if d > models.MaxDomainsLimit {
			return stripeOutcome{}, models.Invalid("invalid_max_domains", "metadata.max_domains", "metadata.max_domains %d is more than %d", d, models.MaxDomainsLimit)
		}
		maxDomains = d
	}
	if reason, err := s.unpaid(ctx, cs, tier, months, maxDomains, byPrice); err != nil || reason != "" {
		return needsReview(reason, "", orderID), err
	}
	// The name is the buyer's as Stripe has it: the purchase is paid, so it
	// is made safe (one line, at most 200 characters), not refused.
	name := models.CleanLine(cs.CustomerDetails.Name, models.MaxNameLength)
	country, vatID := checkoutTaxIdentity(cs)
	order, license, _, err := s.Store.RecordPurchase(ctx, models.Purchase{
		OrderID: orderID, Email: email, CustomerName: name, Tier: tier, MaxDomains: maxDomains,
		Months: months, Lifetime: lifetime, Type: models.TypeCommercial, AmountCents: cs.AmountTotal,
		Currency: currency, PaymentRef: cs.ID, Stripe: links, PaidAt: s.Now(),
		Country: country, VATID: vatID, AmountIncludesTax: true, StripeTaxCents: max(cs.TotalDetails.AmountTax, 0),
	})
	if err != nil {
		return stripeOutcome{orderID: orderID}, err
	}
	out := stripeOutcome{licenseID: license.ID, orderID: order.ID}
	return out, s.Lifecycle.StartLicense(ctx, license, order, tier, name)
}

// addonFromCheckout grants and invoices the add-on a Checkout Session
// paid for (the portal's add-on button makes such sessions). Metadata is
// checked like any other: the license and the product must exist, and the
// amount paid must cover the product's add-on price in its currency. A
// product the license could not buy any more (granted meanwhile, the
// license suspended) is still granted and invoiced: it was paid for, and a
// refund is the operator's call.
func (s *server) addonFromCheckout(ctx context.Context, cs payments.CheckoutSession, code string, links models.StripeLinks, orderID string) (stripeOutcome, error) {
	if err := models.CheckLine("metadata.addon", code, 64); err != nil {
		return stripeOutcome{}, err
	}
	l, err := s.Store.GetLicense(ctx, cs.Metadata["license_id"])
	if err != nil {
		return stripeOutcome{}, err
	}
	out := stripeOutcome{licenseID: l.ID, orderID: orderID}
	if l.Status == models.StatusRevoked {
		return out, models.CheckTransition(l.Status, models.ActionRenew)
	}
	p, err := s.Store.GetProduct(ctx, code)
	if err != nil {
		return out, err
	}
	if !p.SoldAsAddon() {
		return needsReview(fmt.Sprintf("product %s is not sold as an add-on: nothing is granted", p.Code), l.ID, orderID), nil
	}
	currency, _ := models.NormalizeCurrency(cs.Currency, "currency")
	if paid := cs.AmountTotal + max(cs.TotalDetails.AmountDiscount, 0); currency != p.AddonCurrency || paid < p.AddonPriceCents {
		return needsReview(fmt.Sprintf("the session paid %s (discounts included) but the %s add-on costs %s: nothing is granted",
			models.FormatMoney(paid, models.Clip(currency, 3)), p.Code, models.FormatMoney(p.AddonPriceCents, p.AddonCurrency)), l.ID, orderID), nil
	}
	if _, err := s.Store.RecordLicenseOrder(ctx, models.LicenseOrder{
		OrderID: orderID, License: l, Product: p.Code, AmountCents: cs.AmountTotal, Currency: currency,
		PaymentRef: cs.ID, Stripe: links, PaidAt: s.Now(), AmountIncludesTax: true, StripeTaxCents: max(cs.TotalDetails.AmountTax, 0),
	}); err != nil {
		return out, err
	}
	return out, s.Lifecycle.SignalLicense(ctx, l, &models.AddEntitlementRequest{Product: p.Code, OrderID: orderID})
}

// checkoutTaxIdentity is the buyer's country and VAT ID as Checkout
// collected them. The purchase is paid, so what does not check out (an
// unknown country, a VAT ID of the wrong format) is dropped, not refused:
// the invoice then taxes the buyer as a consumer.
func checkoutTaxIdentity(cs payments.CheckoutSession) (country, vatID string) {
	country, err := models.NormalizeCountry(cs.Country(), "country")
	if err != nil {
		return "", ""
	}
	if vatID, err = models.NormalizeVATID(cs.VATID(), country, "vat_id"); err != nil {
		vatID = ""
	}
	return country, vatID
}

// checkoutTier finds the tier a Checkout Session sold: from its metadata,
// or from the price of its line item (byPrice: the session sold the tier's
// own Stripe price).
func (s *server) checkoutTier(ctx context.Context, cs payments.CheckoutSession) (tier models.Tier, byPrice bool, err error) {
	if key := cs.Metadata["tier"]; key != "" {
		if err := models.CheckLine("metadata.tier", key, 64); err != nil {
			return models.Tier{}, false, err
		}
		tier, err := s.Store.GetTier(ctx, key)
		return tier, false, err
	}
	if s.Payments == nil {
		return models.Tier{}, false, models.Invalid("tier_unknown", "", "checkout session %s has no tier in its metadata and no Stripe API key is configured to look up its price", cs.ID)
	}
	price, err := s.Payments.SessionPriceID(ctx, cs.ID)
	if err != nil {
		return models.Tier{}, false, err
	}
	tier, err = s.Store.TierForStripePrice(ctx, price)
	return tier, err == nil, err
}

// unpaid says why a Checkout Session does not pay for what its metadata
// asks ("" when it does). Metadata is the vendor's or a forger's: only the
// money counts. The session pays when its currency is the tier's and its
// amount before discounts (amount_total + total_details.amount_discount,
// so the vendor's coupons and promotion codes count) covers the tier's
// price for the months asked; or when its line item is the tier's own
// Stripe price for one term. More domains than the tier has are never
// paid for by the tier's price.
func (s *server) unpaid(ctx context.Context, cs payments.CheckoutSession, tier models.Tier, months, maxDomains int, byPrice bool) (string, error) {
	paid, err := s.coversPrice(ctx, cs, tier, months, byPrice)
	if err != nil || paid != "" {
		return paid, err
	}
	if maxDomains > tier.MaxDomains {
		return fmt.Sprintf("the session asks for %d domains; tier %s is sold with %d, so more need an operator", maxDomains, tier.Key, tier.MaxDomains), nil
	}
	return "", nil
}

// coversPrice is unpaid's money half.
func (s *server) coversPrice(ctx context.Context, cs payments.CheckoutSession, tier models.Tier, months int, byPrice bool) (string, error) {
	termMonths, lifetime := tier.Months()
	oneTerm := lifetime || months == termMonths
	if byPrice && oneTerm {
		return "", nil
	}
	want := tier.PriceFor(months)
	paid := cs.AmountTotal + max(cs.TotalDetails.AmountDiscount, 0)
	currency, _ := models.NormalizeCurrency(cs.Currency, "currency")
	if currency == tier.Currency && paid >= want {
		return "", nil
	}
	if oneTerm && tier.StripePriceID != "" && s.Payments != nil {
		price, err := s.Payments.SessionPriceID(ctx, cs.ID)
		if err != nil {
			return "", err
		}
		if price == tier.StripePriceID {
			return "", nil
		}
	}
	term := fmt.Sprintf("%d months", months)
	if lifetime {
		term = "lifetime"
	}
	return fmt.Sprintf("the session paid %s (discounts included) but tier %s for %s costs %s: nothing is issued",
		models.FormatMoney(paid, models.Clip(currency, 3)), tier.Key, term, models.FormatMoney(want, tier.Currency)), nil
}

// onInvoicePaid renews the license a subscription pays for, up to the end
// of the period the invoice covers (not "now + term").
func (s *server) onInvoicePaid(ctx context.Context, ev payments.Event) (stripeOutcome, error) {
	var inv payments.Invoice
	if err := ev.Decode(&inv); err != nil {
		return stripeOutcome{}, models.Invalid("invalid_event", "", "%v", err)
	}
	if inv.BillingReason != "subscription_cycle" {
		return ignored("billing reason " + inv.BillingReason + ": first payments arrive as checkout.session.completed"), nil
	}
	links := models.StripeLinks{CustomerID: string(inv.Customer), SubscriptionID: inv.SubscriptionID(),
		PaymentIntentID: inv.PaymentIntentID(), InvoiceID: inv.ID}
	if err := checkLinks(links, false); err != nil {
		return stripeOutcome{}, err
	}
	l, err := s.Store.LicenseForSubscription(ctx, inv.SubscriptionID())
	if err != nil {
		return stripeOutcome{}, err
	}
	end, ok := inv.ServiceEnd()
	if !ok {
		return stripeOutcome{licenseID: l.ID}, models.Invalid("invalid_event", "", "invoice %s has no service period", inv.ID)
	}
	tier, err := s.Store.GetTier(ctx, l.TierKey)
	if err != nil {
		return stripeOutcome{licenseID: l.ID}, err
	}
	if reason := unpaidInvoice(inv, tier); reason != "" {
		return needsReview(reason, l.ID, "stripe:"+inv.ID), nil
	}
	return s.renewFromPayment(ctx, l, paidRenewal{
		orderID: "stripe:" + inv.ID, expiresAt: &end, amount: inv.AmountPaid, currency: inv.Currency, paymentRef: inv.ID,
		links: links,
	})
}

// unpaidInvoice says why a subscription invoice does not pay a term of the
// license's tier ("" when it does): its currency is the tier's and its
// amount before the vendor's discounts covers the tier's price, or a line
// bills the tier's own Stripe price (a subscriber kept at an earlier price
// the vendor set in Stripe). Otherwise the renewal waits for an operator.
func unpaidInvoice(inv payments.Invoice, tier models.Tier) string {
	if inv.HasPrice(tier.StripePriceID) {
		return ""
	}
	currency, _ := models.NormalizeCurrency(inv.Currency, "currency")
	paid := inv.BeforeDiscounts()
	if currency == tier.Currency && paid >= tier.PriceCents {
		return ""
	}
	return fmt.Sprintf("invoice %s paid %s (discounts included) but a term of tier %s costs %s: the license is not renewed",
		inv.ID, models.FormatMoney(paid, models.Clip(currency, 3)), tier.Key, models.FormatMoney(tier.PriceCents, tier.Currency))
}

func (s *server) onPaymentFailed(ctx context.Context, ev payments.Event) (stripeOutcome, error) {
	var inv payments.Invoice
	if err := ev.Decode(&inv); err != nil {
		return stripeOutcome{}, models.Invalid("invalid_event", "", "%v", err)
	}
	l, err := s.Store.LicenseForSubscription(ctx, inv.SubscriptionID())
	if err != nil {
		return stripeOutcome{}, err
	}
	currency := ""
	if inv.Currency != "" { // the email then shows the amount without one
		if currency, err = paidCurrency(inv.Currency, models.Tier{}); err != nil {
			return stripeOutcome{licenseID: l.ID}, err
		}
	}
	return stripeOutcome{licenseID: l.ID}, s.Lifecycle.SignalLicense(ctx, l, &models.PaymentFailedRequest{
		EventID: ev.ID, AmountDue: models.FormatMoney(inv.AmountDue, currency), PaymentURL: paymentURL(inv.HostedInvoiceURL),
	})
}

// onSubscriptionDeleted turns automatic renewal off; the license runs to
// its expiry and its reminders still go out.
func (s *server) onSubscriptionDeleted(ctx context.Context, ev payments.Event) (stripeOutcome, error) {
	var sub payments.Subscription
	if err := ev.Decode(&sub); err != nil {
		return stripeOutcome{}, models.Invalid("invalid_event", "", "%v", err)
	}
	l, err := s.Store.LicenseForSubscription(ctx, sub.ID)
	if err != nil {
		return stripeOutcome{}, err
	}
	return stripeOutcome{licenseID: l.ID}, s.Store.SetAutoRenew(ctx, l.ID, false)
}

// onReversal credits the invoice of a refunded payment (a credit note for
// what is newly refunded) and suspends the license a fully refunded or
// disputed payment paid for; a partial refund leaves the license active.
func (s *server) onReversal(ctx context.Context, ev payments.Event) (stripeOutcome, error) {
	var (
		paymentIntent, invoice, reason, credited string
		issued                                   bool
	)
	if ev.Type == payments.ChargeRefunded {
		var ch payments.Charge
		if err := ev.Decode(&ch); err != nil {
			return stripeOutcome{}, models.Invalid("invalid_event", "", "%v", err)
		}
		if !stripeID(ch.ID) {
			return stripeOutcome{}, models.Invalid("invalid_event", "id", "the charge id %s is not a Stripe id", models.Clip(strconv.Quote(ch.ID), 80))
		}
		o, err := s.Store.OrderForPayment(ctx, string(ch.PaymentIntent), string(ch.Invoice))
		if err != nil {
			return stripeOutcome{}, err
		}
		out := stripeOutcome{licenseID: o.LicenseID, orderID: o.ID}
		if credited, issued, err = s.creditRefund(ctx, ev, ch, o); err != nil {
			return out, err
		}
		if !ch.Refunded {
			out.reason = fmt.Sprintf("partial refund (%d of %d): %s; the license stays active", ch.AmountRefunded, ch.Amount, credited)
			return out, nil
		}
		paymentIntent, invoice, reason = string(ch.PaymentIntent), string(ch.Invoice), "payment refunded (charge "+ch.ID+")"
	} else {
		var d payments.Dispute
		if err := ev.Decode(&d); err != nil {
			return stripeOutcome{}, models.Invalid("invalid_event", "", "%v", err)
		}
		paymentIntent, reason = string(d.PaymentIntent), "payment disputed ("+d.Reason+", dispute "+d.ID+")"
	}
	reason = models.CleanLine(reason, models.MaxReasonLength)
	o, err := s.Store.OrderForPayment(ctx, paymentIntent, invoice)
	if err != nil {
		return stripeOutcome{}, err
	}
	out := stripeOutcome{licenseID: o.LicenseID, orderID: o.ID, reason: credited}
	if ev.Type == payments.ChargeRefunded {
		if err := s.Store.MarkOrder(ctx, o.ID, models.OrderRefunded); err != nil {
			return out, err
		}
	}
	l, err := s.Store.GetLicense(ctx, o.LicenseID)
	if err != nil {
		return out, err
	}
	if ev.Type == payments.ChargeRefunded && o.Kind == models.OrderAddon {
		// A refunded add-on takes back the product, not the license the
		// customer paid for separately. (A dispute still suspends it.)
		return out, s.Lifecycle.SignalLicense(ctx, l, &models.RemoveEntitlementRequest{Product: o.Product, Reason: reason, RequestID: ev.ID})
	}
	if l.Status == models.StatusSuspended || l.Status == models.StatusRevoked {
		out.outcome, out.reason = models.StripeEventIgnored, "the license is already "+string(l.Status)
		if credited != "" {
			out.reason = credited + "; " + out.reason
		}
		if issued {
			out.outcome = models.StripeEventProcessed
		}
		return out, nil
	}
	return out, s.Lifecycle.SignalLicense(ctx, l, &models.SuspendRequest{Reason: reason, RequestID: ev.ID})
}

// creditRefund issues the credit note of a refund on the order's invoice,
// idempotent by the event's id: a redelivered event issues nothing more.
// It says what it did, for the event's reason, and whether it issued a note.
func (s *server) creditRefund(ctx context.Context, ev payments.Event, ch payments.Charge, o models.Order) (string, bool, error) {
	inv, err := s.Store.InvoiceForOrder(ctx, o.ID)
	if p, ok := models.AsProblem(err); ok && errors.Is(p, models.ErrNotFound) {
		return "order " + o.ID + " has no invoice yet, so no credit note was issued", false, nil
	} else if err != nil {
		return "", false, err
	}
	if ch.Currency != "" && !strings.EqualFold(ch.Currency, inv.Currency) {
		return fmt.Sprintf("the charge is in %s and invoice %s in %s: no credit note was issued", models.Clip(ch.Currency, 3), inv.Number, inv.Currency), false, nil
	}
	if s.RenderCreditNote == nil {
		return "no credit note was issued (this server cannot lay them out)", false, nil
	}
	cn, created, err := s.Store.IssueCreditNote(ctx, models.CreditRequest{
		InvoiceNumber: inv.Number, Full: ch.Refunded, Reason: "Refund of charge " + ch.ID,
		Source: "stripe:" + ev.ID, StripeChargeID: ch.ID, StripeRefundedCents: ch.AmountRefunded, Actor: models.ActorFrom(ctx),
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

// paidRenewal is a renewal payment reported by a webhook.
type paidRenewal struct {
	orderID    string
	months     int
	expiresAt  *time.Time
	amount     int64
	currency   string
	paymentRef string
	links      models.StripeLinks
	stripeTax  int64
}

// renewFromPayment records the renewal order and signals the renewal; the
// payment ref makes a redelivered payment renew once.
func (s *server) renewFromPayment(ctx context.Context, l models.License, p paidRenewal) (stripeOutcome, error) {
	out := stripeOutcome{licenseID: l.ID, orderID: p.orderID}
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
		PaymentRef: p.paymentRef, Stripe: p.links, PaidAt: s.Now(), AmountIncludesTax: true, StripeTaxCents: p.stripeTax,
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

var stripeIDPattern = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// stripeID reports whether id looks like a Stripe object id and fits the
// columns Stripe ids are stored in.
func stripeID(id string) bool {
	return len(id) <= models.MaxRefLength && stripeIDPattern.MatchString(id)
}

// checkLinks checks the Stripe ids a payment is recorded with (an empty
// one is fine, except the Checkout Session's own when session is set).
func checkLinks(l models.StripeLinks, session bool) error {
	ids := []struct{ field, id string }{
		{"id", l.CheckoutSessionID}, {"customer", l.CustomerID}, {"subscription", l.SubscriptionID},
		{"payment_intent", l.PaymentIntentID}, {"invoice", l.InvoiceID},
	}
	for i, x := range ids {
		if x.id == "" && !(i == 0 && session) {
			continue
		}
		if !stripeID(x.id) {
			return models.Invalid("invalid_event", x.field, "the event's %s %s is not a Stripe id licenseflow can record", x.field, models.Clip(strconv.Quote(x.id), 80))
		}
	}
	return nil
}

// paidCurrency is the ISO 4217 code of a payment's currency (Stripe sends
// lower case), the tier's when Stripe sent none.
func paidCurrency(raw string, tier models.Tier) (string, error) {
	if raw == "" && tier.Currency != "" {
		return tier.Currency, nil
	}
	return models.NormalizeCurrency(raw, "currency")
}

// paymentURL keeps Stripe's hosted payment page for the dunning email when
// it is a sane https URL, and drops it otherwise.
func paymentURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || len(raw) > 2048 || models.CheckLine("url", raw, 2048) != nil {
		return ""
	}
	return raw
}

// stripeEvents lists recorded webhook events, for operators.
func (s *server) stripeEvents(c *gin.Context) {
	limit := 100
	if n, err := strconv.Atoi(c.Query("limit")); err == nil && n > 0 && n <= 500 {
		limit = n
	}
	events, err := s.Store.ListStripeEvents(c.Request.Context(), models.StripeEventOutcome(c.Query("outcome")), c.Query("license_id"), limit)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	out := httpx.Page[EventView]{Data: make([]EventView, 0, len(events))}
	for _, e := range events {
		out.Data = append(out.Data, eventView(e))
	}
	c.JSON(http.StatusOK, out)
}

func (s *server) stripeEvent(c *gin.Context) {
	e, err := s.Store.GetStripeEvent(c.Request.Context(), c.Param("id"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, eventView(e))
}
