package paymenthooks

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments/paypal"
)

// paypalWebhook receives PayPal's webhooks: verified as PayPal documents
// (its certificate, fetched from PayPal's own hosts), then through the door.
func (s *server) paypalWebhook(c *gin.Context) {
	if s.PayPal == nil || s.PayPal.WebhookID == "" {
		notConfigured(c, models.ProviderPayPal, "PAYPAL_WEBHOOK_ID to the webhook's id (PayPal's developer dashboard)")
		return
	}
	payload, ok := readEvent(c)
	if !ok {
		return
	}
	ev, err := s.PayPal.Verify(c.Request.Context(), payload, c.Request.Header)
	switch {
	case errors.Is(err, paypal.ErrCertUnavailable):
		// PayPal redelivers on a 5xx; its certificate host may be back then.
		s.Metrics.WebhookIn(string(models.ProviderPayPal), "unavailable")
		c.Header("Retry-After", "60")
		httpx.Fail(c, httpx.NewError(http.StatusServiceUnavailable, "paypal_unavailable", "PAYPAL-CERT-URL", err.Error()))
		return
	case errors.Is(err, paypal.ErrInvalidEvent):
		httpx.Fail(c, httpx.NewError(http.StatusBadRequest, "invalid_event", "", err.Error()))
		return
	case err != nil:
		s.badSignature(c, models.ProviderPayPal, "PAYPAL-TRANSMISSION-SIG", err)
		return
	}
	// PayPal's sandbox signs with a certificate on its sandbox hosts.
	live := !strings.Contains(c.GetHeader("PAYPAL-CERT-URL"), "sandbox")
	s.receive(c, verified{provider: models.ProviderPayPal, id: ev.ID, typ: ev.EventType, livemode: live, payload: payload,
		movesMoney: paypalMovesMoney(ev.EventType)}, func(ctx context.Context) (outcome, error) { return s.handlePayPalEvent(ctx, ev) })
}

func paypalMovesMoney(typ string) bool {
	switch typ {
	case paypal.CheckoutOrderCompleted, paypal.CaptureCompleted, paypal.SaleCompleted, paypal.CaptureRefunded, paypal.SaleRefunded, paypal.DisputeCreated:
		return true
	}
	return false
}

func (s *server) handlePayPalEvent(ctx context.Context, ev paypal.Event) (outcome, error) {
	switch ev.EventType {
	case paypal.CheckoutOrderCompleted:
		return s.onPayPalOrder(ctx, ev)
	case paypal.SaleCompleted:
		return s.onPayPalSale(ctx, ev)
	case paypal.CaptureDenied, paypal.SaleDenied:
		return s.onPayPalDenied(ctx, ev)
	case paypal.CaptureRefunded, paypal.SaleRefunded:
		return s.onPayPalRefund(ctx, ev)
	case paypal.DisputeCreated:
		return s.onPayPalDispute(ctx, ev)
	case paypal.SubscriptionCancelled:
		var sub paypal.Subscription
		if err := decodePayPal(ev, &sub); err != nil {
			return outcome{}, err
		}
		l, err := s.Store.LicenseForProviderSubscription(ctx, models.ProviderPayPal, sub.ID)
		if err != nil {
			return outcome{}, err
		}
		return s.autoRenewOff(ctx, l)
	case paypal.CaptureCompleted:
		return s.onPayPalCapture(ctx, ev)
	}
	return ignored("licenseflow does not act on " + ev.EventType), nil
}

func decodePayPal(ev paypal.Event, v any) error {
	if err := ev.Decode(v); err != nil {
		return models.Invalid("invalid_event", "", "%v", err)
	}
	return nil
}

// paypalCustom reads what licenseflow (or the vendor's checkout) put in a
// PayPal order's or subscription's custom_id, URL-encoded:
// "tier=pos&months=12" for a purchase, "license=lic_…" for a renewal.
// Like Stripe's metadata it only says what is asked: the money decides.
func paypalCustom(raw string) (url.Values, error) {
	v, err := url.ParseQuery(raw)
	if err != nil {
		return nil, models.Invalid("invalid_event", "custom_id", "custom_id %s is not tier=…&months=… or license=…", models.Clip(strconv.Quote(raw), 80))
	}
	return v, nil
}

// paypalPayment is a completed PayPal payment, from a checkout order or
// its capture: both name the same order, so whichever arrives first acts
// and the other finds the order recorded.
type paypalPayment struct {
	orderID, captureID string
	amount             paypal.Money
	custom             url.Values
	// email, name and country are the payer's (a capture names none).
	email, name, country string
}

// onPayPalOrder turns a completed checkout order into a purchase, or, when
// its custom_id names a license, a renewal of it. The capture is the
// payment refunds and disputes name.
func (s *server) onPayPalOrder(ctx context.Context, ev paypal.Event) (outcome, error) {
	var o paypal.Order
	if err := decodePayPal(ev, &o); err != nil {
		return outcome{}, err
	}
	unit, ok := o.Unit()
	capture := o.Capture()
	if o.Status != "COMPLETED" || !ok || capture.ID == "" {
		return ignored("order " + o.ID + " has no completed capture: nothing was paid yet"), nil
	}
	custom, err := paypalCustom(unit.CustomID)
	if err != nil {
		return outcome{}, err
	}
	// The capture's amount is what was paid (the unit's is what was asked).
	return s.onPayPalPaid(ctx, paypalPayment{orderID: o.ID, captureID: capture.ID, amount: capture.Amount, custom: custom,
		email: o.Email(), name: o.Name(), country: o.Country()})
}

// onPayPalCapture acts on a completed capture (what PayPal sends to
// merchants who capture orders themselves, renewal links included): a
// renewal when its custom_id names a license, a purchase when it also
// names the buyer (email=…); otherwise the order's completion does.
func (s *server) onPayPalCapture(ctx context.Context, ev paypal.Event) (outcome, error) {
	var c paypal.Capture
	if err := decodePayPal(ev, &c); err != nil {
		return outcome{}, err
	}
	if c.Status != "COMPLETED" {
		return ignored("capture " + c.ID + " is " + c.Status + ": nothing was paid yet"), nil
	}
	custom, err := paypalCustom(c.CustomID)
	if err != nil {
		return outcome{}, err
	}
	if custom.Get("license") == "" && custom.Get("email") == "" {
		return ignored("the capture names no license and no buyer: CHECKOUT.ORDER.COMPLETED issues the purchase"), nil
	}
	order := c.OrderID()
	if order == "" {
		order = c.ID
	}
	return s.onPayPalPaid(ctx, paypalPayment{orderID: order, captureID: c.ID, amount: c.Amount, custom: custom, email: custom.Get("email")})
}

// onPayPalPaid issues or renews what a completed PayPal payment paid for.
func (s *server) onPayPalPaid(ctx context.Context, p paypalPayment) (outcome, error) {
	if !providerRef(p.orderID) || !providerRef(p.captureID) {
		return outcome{}, models.Invalid("invalid_event", "id", "the order or capture id is not a PayPal id licenseflow can record")
	}
	paid, err := p.amount.Cents()
	if err != nil {
		return outcome{}, models.Invalid("invalid_event", "amount", "%v", err)
	}
	orderID := "paypal:" + p.orderID
	payment := models.ProviderPayment{Provider: models.ProviderPayPal, PaymentID: p.captureID}
	if licenseID := p.custom.Get("license"); licenseID != "" {
		return s.renewForLicense(ctx, licenseID, atoi(p.custom.Get("months")), paid, paidRenewal{orderID: orderID, amount: paid,
			currency: p.amount.CurrencyCode, paymentRef: p.captureID, provider: payment})
	}
	tier, err := s.Store.GetTier(ctx, p.custom.Get("tier"))
	if err != nil {
		return outcome{orderID: orderID}, err
	}
	email, err := models.NormalizeEmail(p.email, "payer.email_address")
	if err != nil {
		return outcome{orderID: orderID}, err
	}
	currency, err := paidCurrency(p.amount.CurrencyCode, tier)
	if err != nil {
		return outcome{orderID: orderID}, err
	}
	months, lifetime := tier.Months()
	if m := atoi(p.custom.Get("months")); m > 0 && !lifetime {
		if m > models.MaxTermMonths {
			return outcome{orderID: orderID}, models.Invalid("invalid_months", "custom_id", "months %d is more than %d", m, models.MaxTermMonths)
		}
		months = m
	}
	if reason := paidFor(paid, currency, tier, months); reason != "" {
		return needsReview(reason, "", orderID), nil
	}
	country, _ := models.NormalizeCountry(p.country, "country")
	return s.purchase(ctx, models.Purchase{
		OrderID: orderID, Email: email, CustomerName: models.CleanLine(p.name, models.MaxNameLength), Tier: tier,
		MaxDomains: tier.MaxDomains, Months: months, Lifetime: lifetime, Type: models.TypeCommercial, AmountCents: paid,
		Currency: currency, PaymentRef: p.captureID, Provider: payment, PaidAt: s.Now(), Country: country, AmountIncludesTax: true,
	})
}

// onPayPalSale renews the license a PayPal subscription pays for (a v1
// sale with its billing agreement): the license linked to the
// subscription, or the one its custom field names (then linked).
func (s *server) onPayPalSale(ctx context.Context, ev paypal.Event) (outcome, error) {
	var sale paypal.Sale
	if err := decodePayPal(ev, &sale); err != nil {
		return outcome{}, err
	}
	if sale.State != "completed" || sale.BillingAgreementID == "" {
		return ignored("sale " + sale.ID + " is not a completed subscription payment"), nil
	}
	if !providerRef(sale.ID) || !providerRef(sale.BillingAgreementID) {
		return outcome{}, models.Invalid("invalid_event", "id", "the sale or subscription id is not a PayPal id licenseflow can record")
	}
	paid, currency, err := sale.Cents()
	if err != nil {
		return outcome{}, models.Invalid("invalid_event", "amount", "%v", err)
	}
	l, err := s.Store.LicenseForProviderSubscription(ctx, models.ProviderPayPal, sale.BillingAgreementID)
	if p, ok := models.AsProblem(err); ok && errors.Is(p, models.ErrNotFound) && sale.Custom != "" {
		custom, cerr := paypalCustom(sale.Custom)
		if cerr != nil {
			return outcome{}, cerr
		}
		l, err = s.Store.GetLicense(ctx, custom.Get("license"))
	}
	if err != nil {
		return outcome{}, err
	}
	payment := models.ProviderPayment{Provider: models.ProviderPayPal, PaymentID: sale.ID, SubscriptionID: sale.BillingAgreementID}
	out, err := s.renewPaid(ctx, l, 0, paid, paidRenewal{orderID: "paypal:" + sale.ID, amount: paid, currency: currency,
		paymentRef: sale.ID, provider: payment})
	if err != nil || out.outcome == models.PaymentEventNeedsReview {
		return out, err
	}
	return out, s.Store.LinkProviderSubscription(ctx, l.ID, models.ProviderPayPal, sale.BillingAgreementID)
}

// onPayPalDenied emails the customer whose renewal payment PayPal denied.
func (s *server) onPayPalDenied(ctx context.Context, ev paypal.Event) (outcome, error) {
	var (
		l   models.License
		err error
	)
	if ev.EventType == paypal.SaleDenied {
		var sale paypal.Sale
		if err := decodePayPal(ev, &sale); err != nil {
			return outcome{}, err
		}
		if l, err = s.Store.LicenseForProviderSubscription(ctx, models.ProviderPayPal, sale.BillingAgreementID); err != nil {
			return outcome{}, err
		}
		amount, currency, _ := sale.Cents()
		return s.paymentFailed(ctx, l, ev.ID, amount, currency, "")
	}
	var capture paypal.Capture
	if err := decodePayPal(ev, &capture); err != nil {
		return outcome{}, err
	}
	custom, err := paypalCustom(capture.CustomID)
	if err != nil || custom.Get("license") == "" {
		return ignored("the denied capture is for no license (a purchase that was never paid issues nothing)"), nil
	}
	if l, err = s.Store.GetLicense(ctx, custom.Get("license")); err != nil {
		return outcome{}, err
	}
	amount, _ := capture.Amount.Cents()
	return s.paymentFailed(ctx, l, ev.ID, amount, capture.Amount.CurrencyCode, "")
}

// onPayPalRefund credits the invoice of a refunded capture or sale and
// suspends the license a full refund paid for.
func (s *server) onPayPalRefund(ctx context.Context, ev paypal.Event) (outcome, error) {
	var (
		paymentID, currency, refundID string
		refunded                      int64
	)
	if ev.EventType == paypal.SaleRefunded {
		var r paypal.SaleRefund
		if err := decodePayPal(ev, &r); err != nil {
			return outcome{}, err
		}
		if r.State != "" && r.State != "completed" {
			return ignored("refund " + r.ID + " is " + r.State + "; licenseflow acts once it is completed"), nil
		}
		paymentID, refundID, currency = r.SaleID, r.ID, r.Amount.Currency
		total := r.TotalRefundedAmount.Value
		if total == "" {
			total = strings.TrimPrefix(r.Amount.Total, "-")
		}
		var err error
		if refunded, err = paypal.ParseAmount(total, currency); err != nil {
			return outcome{}, models.Invalid("invalid_event", "amount", "%v", err)
		}
	} else {
		var r paypal.Refund
		if err := decodePayPal(ev, &r); err != nil {
			return outcome{}, err
		}
		if r.Status != "" && r.Status != "COMPLETED" {
			return ignored("refund " + r.ID + " is " + r.Status + "; licenseflow acts once it is completed"), nil
		}
		paymentID, refundID, currency = r.CaptureID(), r.ID, r.Amount.CurrencyCode
		total := r.SellerPayableBreakdown.TotalRefundedAmount
		if total.Value == "" {
			total = r.Amount
		}
		var err error
		if refunded, err = total.Cents(); err != nil {
			return outcome{}, models.Invalid("invalid_event", "amount", "%v", err)
		}
	}
	o, err := s.Store.OrderForProviderPayment(ctx, models.ProviderPayPal, paymentID)
	if err != nil {
		return outcome{}, err
	}
	full := refunded >= o.AmountCents
	r := reversal{order: o, full: full, reason: "payment refunded (PayPal refund " + refundID + ")", eventID: ev.ID}
	if r.credited, r.issued, err = s.creditRefund(ctx, o, refund{source: "paypal:" + ev.ID, paymentID: paymentID,
		label: "PayPal payment " + paymentID, refundedCents: refunded, full: full, currency: currency}); err != nil {
		return outcome{licenseID: o.LicenseID, orderID: o.ID}, err
	}
	if !full {
		return outcome{licenseID: o.LicenseID, orderID: o.ID, reason: "partial refund (" + models.FormatMoney(refunded, o.Currency) +
			" of " + models.FormatMoney(o.AmountCents, o.Currency) + "): " + r.credited + "; the license stays active"}, nil
	}
	return s.reverse(ctx, r)
}

// onPayPalDispute suspends the license a disputed payment paid for.
func (s *server) onPayPalDispute(ctx context.Context, ev paypal.Event) (outcome, error) {
	var d paypal.Dispute
	if err := decodePayPal(ev, &d); err != nil {
		return outcome{}, err
	}
	ids := d.TransactionIDs()
	for _, id := range ids {
		o, err := s.Store.OrderForProviderPayment(ctx, models.ProviderPayPal, id)
		if p, ok := models.AsProblem(err); ok && errors.Is(p, models.ErrNotFound) {
			continue
		} else if err != nil {
			return outcome{}, err
		}
		return s.reverse(ctx, reversal{order: o, dispute: true, eventID: ev.ID,
			reason: "payment disputed (" + d.Reason + ", PayPal dispute " + d.DisputeID + ")"})
	}
	return outcome{}, models.NotFound("order_not_found", "no order was paid by the disputed PayPal transactions %s", strings.Join(ids, ", "))
}

// atoi reads a positive count from custom data (0 when absent or not one).
func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
