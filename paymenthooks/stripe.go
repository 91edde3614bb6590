package paymenthooks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments"
)

// stripeWebhook receives Stripe events: the signature is verified first (a
// bad one is a 400 and nothing is recorded), then the event goes through
// the door (receive).
func (s *server) stripeWebhook(c *gin.Context) {
	if len(s.WebhookSecrets) == 0 {
		notConfigured(c, models.ProviderStripe, "STRIPE_WEBHOOK_SECRETS to the endpoint's signing secret")
		return
	}
	payload, ok := readEvent(c)
	if !ok {
		return
	}
	ev, err := payments.VerifyAt(payload, c.GetHeader("Stripe-Signature"), s.WebhookSecrets, s.Now())
	if err != nil {
		s.badSignature(c, models.ProviderStripe, "Stripe-Signature", err)
		return
	}
	if !stripeID(ev.ID) || ev.Type == "" || len(ev.Type) > 100 {
		httpx.Fail(c, httpx.NewError(http.StatusBadRequest, "invalid_event", "", "the event is not a Stripe event this endpoint can record (id, type or encoding)"))
		return
	}
	s.receive(c, verified{provider: models.ProviderStripe, id: ev.ID, typ: ev.Type, livemode: ev.Livemode, payload: payload, movesMoney: paymentEvent(ev.Type)},
		func(ctx context.Context) (outcome, error) { return s.handleStripeEvent(ctx, ev) })
}

// handleStripeEvent acts on one Stripe event.
func (s *server) handleStripeEvent(ctx context.Context, ev payments.Event) (outcome, error) {
	if ev.Livemode != s.Livemode {
		reason := fmt.Sprintf("a %s-mode event reached an endpoint that acts on %s-mode events (STRIPE_MODE)", stripeMode(ev.Livemode), stripeMode(s.Livemode))
		if paymentEvent(ev.Type) {
			return needsReview(reason, "", ""), nil
		}
		return ignored(reason), nil
	}
	switch ev.Type {
	case payments.CheckoutCompleted, payments.CheckoutAsyncSucceeded:
		return s.onCheckout(ctx, ev)
	case payments.InvoicePaid:
		return s.onInvoicePaid(ctx, ev)
	case payments.InvoicePaymentFailed:
		return s.onPaymentFailed(ctx, ev)
	case payments.SubscriptionDeleted:
		return s.onSubscriptionDeleted(ctx, ev)
	case payments.ChargeRefunded, payments.DisputeCreated:
		return s.onReversal(ctx, ev)
	}
	return ignored("licenseflow does not act on " + ev.Type), nil
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

// onCheckout turns a paid Checkout Session into a purchase, or, when the
// session names a license (a renewal link), into a renewal of that license.
func (s *server) onCheckout(ctx context.Context, ev payments.Event) (outcome, error) {
	var cs payments.CheckoutSession
	if err := ev.Decode(&cs); err != nil {
		return outcome{}, models.Invalid("invalid_event", "", "%v", err)
	}
	if ev.Type == payments.CheckoutCompleted && cs.PaymentStatus == "unpaid" {
		return ignored("the payment is still processing; checkout.session.async_payment_succeeded will complete it"), nil
	}
	links := models.StripeLinks{CustomerID: string(cs.Customer), SubscriptionID: string(cs.Subscription),
		CheckoutSessionID: cs.ID, PaymentIntentID: string(cs.PaymentIntent), InvoiceID: string(cs.Invoice)}
	if err := checkLinks(links, true); err != nil {
		return outcome{}, err
	}
	orderID := "stripe:" + cs.ID
	if product := cs.Metadata["addon"]; product != "" {
		return s.addonFromCheckout(ctx, cs, product, links, orderID)
	}
	if licenseID := cs.Metadata["license_id"]; licenseID != "" {
		l, err := s.Store.GetLicense(ctx, licenseID)
		if err != nil {
			return outcome{licenseID: licenseID}, err
		}
		months := cs.MetadataInt("months")
		tier, err := s.Store.GetTier(ctx, l.TierKey)
		if err != nil {
			return outcome{licenseID: l.ID}, err
		}
		if months <= 0 {
			months, _ = tier.Months()
		}
		if months > models.MaxTermMonths {
			return outcome{licenseID: l.ID}, models.Invalid("invalid_months", "metadata.months", "metadata.months %d is more than %d", months, models.MaxTermMonths)
		}
		// A renewal keeps the license's domains: only its months are priced.
		if reason, err := s.unpaid(ctx, cs, tier, months, 0, false); err != nil || reason != "" {
			return needsReview(reason, l.ID, orderID), err
		}
		out, err := s.renewFromPayment(ctx, l, paidRenewal{orderID: orderID, months: months, amount: cs.AmountTotal,
			currency: cs.Currency, paymentRef: cs.ID, stripe: links, stripeTax: max(cs.TotalDetails.AmountTax, 0)})
		if err != nil {
			return out, err
		}
		return out, s.Store.LinkStripe(ctx, l.ID, links.CustomerID, links.SubscriptionID)
	}
	tier, byPrice, err := s.checkoutTier(ctx, cs)
	if err != nil {
		return outcome{}, err
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
		return outcome{}, err
	}
	// Everything is checked before the purchase is recorded: an event that
	// can never become a license is failed with the reason (and Stripe is
	// answered 2xx), never recorded half-way and retried forever.
	email, err := models.NormalizeEmail(buyerEmail, "customer_email")
	if err != nil {
		return outcome{orderID: orderID}, err
	}
	currency, err := paidCurrency(cs.Currency, tier)
	if err != nil {
		return outcome{}, err
	}
	months, lifetime := tier.Months()
	if m := cs.MetadataInt("months"); m > 0 && !lifetime {
		if m > models.MaxTermMonths {
			return outcome{}, models.Invalid("invalid_months", "metadata.months", "metadata.months %d is more than %d", m, models.MaxTermMonths)
		}
		months = m
	}
	maxDomains := tier.MaxDomains
	if d := cs.MetadataInt("max_domains"); d > 0 {
		if d > models.MaxDomainsLimit {
			return outcome{}, models.Invalid("invalid_max_domains", "metadata.max_domains", "metadata.max_domains %d is more than %d", d, models.MaxDomainsLimit)
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
	return s.purchase(ctx, models.Purchase{
		OrderID: orderID, Email: email, CustomerName: name, Tier: tier, MaxDomains: maxDomains,
		Months: months, Lifetime: lifetime, Type: models.TypeCommercial, AmountCents: cs.AmountTotal,
		Currency: currency, PaymentRef: cs.ID, Stripe: links, PaidAt: s.Now(),
		Country: country, VATID: vatID, AmountIncludesTax: true, StripeTaxCents: max(cs.TotalDetails.AmountTax, 0),
	})
}

// addonFromCheckout grants and invoices the add-on a Checkout Session
// paid for (the portal's add-on button makes such sessions). Metadata is
// checked like any other: the license and the product must exist, and the
// amount paid must cover the product's add-on price in its currency. A
// product the license could not buy any more (granted meanwhile, the
// license suspended) is still granted and invoiced: it was paid for, and a
// refund is the operator's call.
func (s *server) addonFromCheckout(ctx context.Context, cs payments.CheckoutSession, code string, links models.StripeLinks, orderID string) (outcome, error) {
	if err := models.CheckLine("metadata.addon", code, 64); err != nil {
		return outcome{}, err
	}
	l, err := s.Store.GetLicense(ctx, cs.Metadata["license_id"])
	if err != nil {
		return outcome{}, err
	}
	out := outcome{licenseID: l.ID, orderID: orderID}
	if l.Status == models.StatusRevoked {
		return out, models.CheckTransition(l.Status, models.ActionRenew)
	}
	p, err := s.Store.GetProduct(ctx, code)
	if err != nil {
		return out, err
	}
	currency, _ := models.NormalizeCurrency(cs.Currency, "currency")
	if reason := addonPaidFor(cs.AmountTotal+max(cs.TotalDetails.AmountDiscount, 0), cs.Currency, p); reason != "" {
		return needsReview(reason, l.ID, orderID), nil
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
	if byPrice && oneTerm { // the session sold the tier's own Stripe price
		return "", nil
	}
	paid := cs.AmountTotal + max(cs.TotalDetails.AmountDiscount, 0)
	reason := paidFor(paid, cs.Currency, tier, months)
	if reason == "" {
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
	return reason, nil
}

// onInvoicePaid renews the license a subscription pays for, up to the end
// of the period the invoice covers (not "now + term").
func (s *server) onInvoicePaid(ctx context.Context, ev payments.Event) (outcome, error) {
	var inv payments.Invoice
	if err := ev.Decode(&inv); err != nil {
		return outcome{}, models.Invalid("invalid_event", "", "%v", err)
	}
	if inv.BillingReason != "subscription_cycle" {
		return ignored("billing reason " + inv.BillingReason + ": first payments arrive as checkout.session.completed"), nil
	}
	links := models.StripeLinks{CustomerID: string(inv.Customer), SubscriptionID: inv.SubscriptionID(),
		PaymentIntentID: inv.PaymentIntentID(), InvoiceID: inv.ID}
	if err := checkLinks(links, false); err != nil {
		return outcome{}, err
	}
	l, err := s.Store.LicenseForSubscription(ctx, inv.SubscriptionID())
	if err != nil {
		return outcome{}, err
	}
	end, ok := inv.ServiceEnd()
	if !ok {
		return outcome{licenseID: l.ID}, models.Invalid("invalid_event", "", "invoice %s has no service period", inv.ID)
	}
	tier, err := s.Store.GetTier(ctx, l.TierKey)
	if err != nil {
		return outcome{licenseID: l.ID}, err
	}
	if reason := unpaidInvoice(inv, tier); reason != "" {
		return needsReview(reason, l.ID, "stripe:"+inv.ID), nil
	}
	return s.renewFromPayment(ctx, l, paidRenewal{
		orderID: "stripe:" + inv.ID, expiresAt: &end, amount: inv.AmountPaid, currency: inv.Currency, paymentRef: inv.ID,
		stripe: links,
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

func (s *server) onPaymentFailed(ctx context.Context, ev payments.Event) (outcome, error) {
	var inv payments.Invoice
	if err := ev.Decode(&inv); err != nil {
		return outcome{}, models.Invalid("invalid_event", "", "%v", err)
	}
	l, err := s.Store.LicenseForSubscription(ctx, inv.SubscriptionID())
	if err != nil {
		return outcome{}, err
	}
	return s.paymentFailed(ctx, l, ev.ID, inv.AmountDue, inv.Currency, inv.HostedInvoiceURL)
}

// onSubscriptionDeleted turns automatic renewal off.
func (s *server) onSubscriptionDeleted(ctx context.Context, ev payments.Event) (outcome, error) {
	var sub payments.Subscription
	if err := ev.Decode(&sub); err != nil {
		return outcome{}, models.Invalid("invalid_event", "", "%v", err)
	}
	l, err := s.Store.LicenseForSubscription(ctx, sub.ID)
	if err != nil {
		return outcome{}, err
	}
	return s.autoRenewOff(ctx, l)
}

// onReversal credits the invoice of a refunded charge and suspends the
// license a fully refunded or disputed payment paid for.
func (s *server) onReversal(ctx context.Context, ev payments.Event) (outcome, error) {
	if ev.Type == payments.DisputeCreated {
		var d payments.Dispute
		if err := ev.Decode(&d); err != nil {
			return outcome{}, models.Invalid("invalid_event", "", "%v", err)
		}
		o, err := s.Store.OrderForPayment(ctx, string(d.PaymentIntent), "")
		if err != nil {
			return outcome{}, err
		}
		return s.reverse(ctx, reversal{order: o, dispute: true, reason: "payment disputed (" + d.Reason + ", dispute " + d.ID + ")", eventID: ev.ID})
	}
	var ch payments.Charge
	if err := ev.Decode(&ch); err != nil {
		return outcome{}, models.Invalid("invalid_event", "", "%v", err)
	}
	if !stripeID(ch.ID) {
		return outcome{}, models.Invalid("invalid_event", "id", "the charge id %s is not a Stripe id", models.Clip(strconv.Quote(ch.ID), 80))
	}
	o, err := s.Store.OrderForPayment(ctx, string(ch.PaymentIntent), string(ch.Invoice))
	if err != nil {
		return outcome{}, err
	}
	r := reversal{order: o, full: ch.Refunded, reason: "payment refunded (charge " + ch.ID + ")", eventID: ev.ID}
	if r.credited, r.issued, err = s.creditRefund(ctx, o, refund{source: "stripe:" + ev.ID, paymentID: ch.ID, label: "charge " + ch.ID,
		refundedCents: ch.AmountRefunded, full: ch.Refunded, currency: ch.Currency}); err != nil {
		return outcome{licenseID: o.LicenseID, orderID: o.ID}, err
	}
	if !ch.Refunded {
		return outcome{licenseID: o.LicenseID, orderID: o.ID,
			reason: fmt.Sprintf("partial refund (%d of %d): %s; the license stays active", ch.AmountRefunded, ch.Amount, r.credited)}, nil
	}
	return s.reverse(ctx, r)
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
