package paymenthooks_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v79/webhook"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/paymenthooks"
	"github.com/licenseflow/licenseflow/payments/paddle"
	"github.com/licenseflow/licenseflow/payments/paypal"
	"github.com/licenseflow/licenseflow/payments/paypal/paypaltest"
	"github.com/licenseflow/licenseflow/testsupport"
)

// paypalMoney is an amount as PayPal's v2 APIs write it ("149.00").
func paypalMoney(cents int64, currency string) map[string]any {
	return map[string]any{"currency_code": currency, "value": fmt.Sprintf("%d.%02d", cents/100, cents%100)}
}

// paypalOrder is a completed checkout order (CHECKOUT.ORDER.COMPLETED's
// resource) whose one capture took cents in currency; custom is the
// custom_id licenseflow's checkout wrote on it.
func paypalOrder(id, capture string, cents int64, currency, custom string) map[string]any {
	return map[string]any{
		"id": id, "intent": "CAPTURE", "status": "COMPLETED",
		"payer": map[string]any{"email_address": "bea@example.com", "payer_id": "QX7HVB2M4NZ6E",
			"name": map[string]any{"given_name": "Bea", "surname": "Keller"}, "address": map[string]any{"country_code": "DE"}},
		"purchase_units": []any{map[string]any{
			"reference_id": "default", "custom_id": custom, "amount": paypalMoney(cents, currency),
			"payments": map[string]any{"captures": []any{map[string]any{
				"id": capture, "status": "COMPLETED", "final_capture": true, "amount": paypalMoney(cents, currency), "custom_id": custom,
			}}},
		}},
	}
}

// paypalRefund is a capture's refund (PAYMENT.CAPTURE.REFUNDED's resource):
// this refund's amount and what was refunded of the capture so far.
func paypalRefund(id, capture string, cents, refundedSoFar int64, currency string) map[string]any {
	return map[string]any{
		"id": id, "status": "COMPLETED", "amount": paypalMoney(cents, currency),
		"seller_payable_breakdown": map[string]any{"gross_amount": paypalMoney(cents, currency), "total_refunded_amount": paypalMoney(refundedSoFar, currency)},
		"links": []any{
			map[string]any{"href": "https://api.paypal.com/v2/payments/refunds/" + id, "rel": "self", "method": "GET"},
			map[string]any{"href": "https://api.paypal.com/v2/payments/captures/" + capture, "rel": "up", "method": "GET"},
		},
	}
}

// paypalDispute is a dispute (CUSTOMER.DISPUTE.CREATED's resource) of the
// seller's transactions (captures or sales).
func paypalDispute(id string, transactions ...string) map[string]any {
	disputed := make([]any, len(transactions))
	for i, tx := range transactions {
		disputed[i] = map[string]any{"buyer_transaction_id": "9GE27160LM4419931", "seller_transaction_id": tx}
	}
	return map[string]any{"dispute_id": id, "reason": "MERCHANDISE_OR_SERVICE_NOT_RECEIVED", "status": "OPEN",
		"disputed_transactions": disputed, "dispute_amount": paypalMoney(14900, "EUR")}
}

// paypalSale is a subscription's payment (PAYMENT.SALE.COMPLETED's v1
// resource) of the billing agreement; custom is the subscription's custom id.
func paypalSale(id, agreement string, cents int64, currency, custom string) map[string]any {
	return map[string]any{"id": id, "state": "completed", "billing_agreement_id": agreement, "custom": custom,
		"amount": map[string]any{"total": fmt.Sprintf("%d.%02d", cents/100, cents%100), "currency": currency}}
}

// renewalOf is the custom id of a renewal of the license.
func renewalOf(licenseID string, more ...string) string {
	v := url.Values{"license": {licenseID}}
	for i := 0; i+1 < len(more); i += 2 {
		v.Set(more[i], more[i+1])
	}
	return v.Encode()
}

// paypalDeliver signs payload as PayPal signs deliveries to the webhook,
// now, and posts it.
func (h *providerTest) paypalDeliver(payload []byte) *httptest.ResponseRecorder {
	return h.post(models.ProviderPayPal, payload, h.pp.Sign(payload, paypalWebhookID, time.Now()))
}

// paypalBuy delivers a paid purchase of tier pos (order, capture) and
// returns the license it started.
func (h *providerTest) paypalBuy(eventID, order, capture string) models.License {
	h.t.Helper()
	pos := h.tier("pos")
	a := h.answer(h.paypalDeliver(paypaltest.Event(eventID, paypal.CheckoutOrderCompleted, "checkout-order",
		paypalOrder(order, capture, pos.PriceCents, pos.Currency, "tier=pos&months=12"))))
	require.Equal(h.t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	starts := h.flows.Starts()
	return starts[len(starts)-1].License
}

func TestAPayPalOrderIssuesOneLicenseOnce(t *testing.T) {
	h := newProviderTest(t)
	pos := h.tier("pos")
	payload := paypaltest.Event("WH-BUY-1", paypal.CheckoutOrderCompleted, "checkout-order",
		paypalOrder("5O190127TN364715T", "3C679366HH908993F", pos.PriceCents, pos.Currency, "tier=pos&months=12"))

	a := h.answer(h.paypalDeliver(payload))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	starts := h.flows.Starts()
	require.Len(t, starts, 1)
	assert.Equal(t, "paypal:WH-BUY-1", starts[0].Actor, "the license's workflow is started in the event's name")
	o := h.order("paypal:5O190127TN364715T")
	assert.Equal(t, models.ProviderPayPal, o.PaymentProvider)
	assert.Equal(t, "3C679366HH908993F", o.ProviderPaymentID, "refunds and disputes name the capture")
	assert.Equal(t, []any{pos.PriceCents, pos.Currency, 12, "bea@example.com"}, []any{o.AmountCents, o.Currency, o.Months, o.Customer.Email})
	assert.Equal(t, starts[0].License.ID, o.LicenseID)

	h.assertListed(models.ProviderPayPal, "WH-BUY-1", paypal.CheckoutOrderCompleted, models.PaymentEventProcessed, o)
	assert.Empty(t, h.events(models.ProviderStripe), "recorded as PayPal's, not Stripe's")

	// PayPal delivers it again (a new transmission of the same event).
	again := h.answer(h.paypalDeliver(payload))
	assert.True(t, again.Duplicate)
	assert.Equal(t, models.PaymentEventProcessed, again.Outcome)
	h.assertOneLicense()
}

// "Paid means paid": an order PayPal captured issues a license only when
// the capture covers the tier's price, in the tier's currency, for the
// months asked; anything else is held for an operator, who is told.
func TestAPayPalOrderIssuesOnlyWhatItPaysFor(t *testing.T) {
	h := newProviderTest(t)
	pos, suite := h.tier("pos"), h.tier("suite")
	unpaid := []struct {
		what     string
		cents    int64
		currency string
		custom   string
		costs    string
	}{
		{"a cent less than the price", pos.PriceCents - 1, pos.Currency, "tier=pos&months=12", models.FormatMoney(pos.PriceCents, pos.Currency)},
		{"the price in another currency", pos.PriceCents, "USD", "tier=pos", models.FormatMoney(pos.PriceCents, pos.Currency)},
		{"one year's price for two years", pos.PriceCents, pos.Currency, "tier=pos&months=24", models.FormatMoney(2*pos.PriceCents, pos.Currency)},
		{"a cheaper tier's price for the suite", pos.PriceCents, pos.Currency, "tier=suite", models.FormatMoney(suite.PriceCents, suite.Currency)},
	}
	held := map[string]bool{}
	for i, c := range unpaid {
		id := fmt.Sprintf("WH-UNPAID-%d", i)
		a := h.answer(h.paypalDeliver(paypaltest.Event(id, paypal.CheckoutOrderCompleted, "checkout-order",
			paypalOrder(fmt.Sprintf("ORDER-UNPAID-%d", i), fmt.Sprintf("CAPTURE-UNPAID-%d", i), c.cents, c.currency, c.custom))))
		assert.Equal(t, models.PaymentEventNeedsReview, a.Outcome, "%s: %s", c.what, a.Reason)
		assert.Contains(t, a.Reason, "costs "+c.costs, c.what)
		held[id] = true
	}
	counts := testsupport.RowCounts(t, h.store)
	assert.Equal(t, []int64{0, 0, 0}, []int64{counts["orders"], counts["licenses"], counts["customers"]}, "nothing recorded but the events")
	assert.Empty(t, h.flows.Starts())
	h.assertAnnounced(models.ProviderPayPal, paypal.CheckoutOrderCompleted, held)
	for _, e := range h.events(models.ProviderPayPal) {
		assert.Equal(t, models.PaymentEventNeedsReview, e.Outcome, e.ID)
	}

	a := h.answer(h.paypalDeliver(paypaltest.Event("WH-PAID-2Y", paypal.CheckoutOrderCompleted, "checkout-order",
		paypalOrder("ORDER-PAID-2Y", "CAPTURE-PAID-2Y", 2*pos.PriceCents, pos.Currency, "tier=pos&months=24"))))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, "two years for two years' price: %s", a.Reason)
	assert.Equal(t, 24, h.order("paypal:ORDER-PAID-2Y").Months)
}

// A checkout order or a subscription payment can name the license it
// renews (custom_id license=…); naming one is no payment for it.
func TestAPayPalRenewalNamingALicenseRenewsOnlyWhatItPaysFor(t *testing.T) {
	h := newProviderTest(t)
	pos := h.tier("pos")
	l := h.paypalBuy("WH-BUY-1", "ORDER-BUY-1", "CAPTURE-BUY-1")

	forged := map[string][]byte{
		"WH-RENEW-CHEAP": paypaltest.Event("WH-RENEW-CHEAP", paypal.CheckoutOrderCompleted, "checkout-order",
			paypalOrder("ORDER-RENEW-CHEAP", "CAPTURE-RENEW-CHEAP", 100, pos.Currency, renewalOf(l.ID))),
		"WH-RENEW-3Y": paypaltest.Event("WH-RENEW-3Y", paypal.CheckoutOrderCompleted, "checkout-order",
			paypalOrder("ORDER-RENEW-3Y", "CAPTURE-RENEW-3Y", pos.PriceCents, pos.Currency, renewalOf(l.ID, "months", "36"))),
		"WH-RENEW-USD": paypaltest.Event("WH-RENEW-USD", paypal.CheckoutOrderCompleted, "checkout-order",
			paypalOrder("ORDER-RENEW-USD", "CAPTURE-RENEW-USD", pos.PriceCents, "USD", renewalOf(l.ID))),
		"WH-SALE-CHEAP": paypaltest.Event("WH-SALE-CHEAP", paypal.SaleCompleted, "sale",
			paypalSale("SALE-CHEAP", "I-CHEAPSUB", 100, pos.Currency, renewalOf(l.ID))),
	}
	for id, payload := range forged {
		a := h.answer(h.paypalDeliver(payload))
		assert.Equal(t, models.PaymentEventNeedsReview, a.Outcome, "%s: %s", id, a.Reason)
	}
	assert.Empty(t, h.flows.Signals(), "nothing renewed")
	counts := testsupport.RowCounts(t, h.store)
	assert.Equal(t, int64(1), counts["orders"], "no renewal order recorded: only the purchase")
	got := h.license(l.ID)
	assert.Empty(t, got.ProviderSubscriptionID, "an unpaid subscription is not linked to the license")
	assert.False(t, got.AutoRenew)
	notices := h.reviewNotices()
	require.Len(t, notices, len(forged))
	for _, n := range notices {
		assert.Contains(t, forged, n.Payment.EventID)
		require.NotNil(t, n.License, "the notice names the license the payment named")
		assert.Equal(t, l.ID, n.License.ID)
	}

	a := h.answer(h.paypalDeliver(paypaltest.Event("WH-RENEW-PAID", paypal.CheckoutOrderCompleted, "checkout-order",
		paypalOrder("ORDER-RENEW-PAID", "CAPTURE-RENEW-PAID", pos.PriceCents, pos.Currency, renewalOf(l.ID)))))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	assert.Equal(t, []*models.RenewRequest{{Months: 12, PaymentRef: "CAPTURE-RENEW-PAID", OrderID: "paypal:ORDER-RENEW-PAID", Actor: "paypal:WH-RENEW-PAID"}},
		signalled[*models.RenewRequest](h))
	assert.Equal(t, l.ID, h.flows.Signals()[0].License.ID, "the same license (same DLID) is renewed")
}

// Only what PayPal signed for this webhook, recently, with the key of a
// certificate fetched from PayPal's own hosts, is acted upon; anything
// else is refused before a row is written.
func TestForgedPayPalDeliveriesAreRefusedAndRecordNothing(t *testing.T) {
	h := newProviderTest(t)
	pos := h.tier("pos")
	payload := paypaltest.Event("WH-FORGED-1", paypal.CheckoutOrderCompleted, "checkout-order",
		paypalOrder("ORDER-FORGED-1", "CAPTURE-FORGED-1", pos.PriceCents, pos.Currency, "tier=pos"))
	now := time.Now()
	notPayPals, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	// elsewhere hands out a chain as good as PayPal's (the same test CA, the
	// same key), but from a host the verifier does not allow.
	elsewhere := paypaltest.New(t)
	selfSigned := h.pp.Serve("/v1/notifications/certs/CERT-self-signed", h.pp.SelfSigned(paypaltest.Cert{Key: notPayPals}))
	stripeSigned := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: paddleSecret, Timestamp: now})
	withAlgo := h.pp.Sign(payload, paypalWebhookID, now)
	withAlgo.Set("PAYPAL-AUTH-ALGO", "SHA1withRSA")

	for _, c := range []struct {
		what   string
		header http.Header
		body   []byte
	}{
		{"no signature", http.Header{}, payload},
		{"the body changed after signing", h.pp.Sign(payload, paypalWebhookID, now), bytes.Replace(payload, []byte("bea@example.com"), []byte("eve@example.com"), 1)},
		{"signed for another webhook", h.pp.Sign(payload, "WH-ANOTHER-MERCHANT", now), payload},
		{"signed with a key that is not the certificate's", h.pp.SignWith(notPayPals, h.pp.CertURL(), payload, paypalWebhookID, now), payload},
		{"signed six minutes ago", h.pp.Sign(payload, paypalWebhookID, now.Add(-6*time.Minute)), payload},
		{"signed six minutes ahead", h.pp.Sign(payload, paypalWebhookID, now.Add(6*time.Minute)), payload},
		{"a certificate on a host that is not PayPal's", elsewhere.Sign(payload, paypalWebhookID, now), payload},
		{"a certificate over plain http", h.pp.SignWith(h.pp.Key, "http://"+h.pp.Host()+paypaltest.CertPath, payload, paypalWebhookID, now), payload},
		{"a self-signed certificate", h.pp.SignWith(notPayPals, selfSigned, payload, paypalWebhookID, now), payload},
		{"another algorithm named", withAlgo, payload},
		{"Stripe's signature header", http.Header{"Stripe-Signature": {stripeSigned.Header}}, payload},
		{"Paddle's signature header", http.Header{"Paddle-Signature": {paddle.Sign(payload, paddleSecret, now)}}, payload},
	} {
		before := testsupport.RowCounts(t, h.store)
		h.assertRefused(h.post(models.ProviderPayPal, c.body, c.header), http.StatusBadRequest, "invalid_signature", before, c.what)
	}
	assert.Zero(t, elsewhere.Fetches(), "a certificate URL off PayPal's hosts is never fetched")
	assert.Empty(t, h.events(models.ProviderPayPal))
	assert.Empty(t, h.flows.Starts())
	counts := testsupport.RowCounts(t, h.store)
	assert.Equal(t, []int64{0, 0, 0}, []int64{counts["stripe_events"], counts["orders"], counts["licenses"]})

	// The same delivery, signed by PayPal now, is acted upon.
	a := h.answer(h.paypalDeliver(payload))
	assert.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
}

func TestPayPalDeliveriesAreRefusedUntilItsWebhookIsConfigured(t *testing.T) {
	for what, unset := range map[string]func(*paymenthooks.Deps){
		"no verifier":          func(d *paymenthooks.Deps) { d.PayPal = nil },
		"no PAYPAL_WEBHOOK_ID": func(d *paymenthooks.Deps) { d.PayPal.WebhookID = "" },
	} {
		t.Run(what, func(t *testing.T) {
			h := newProviderTest(t, unset)
			before := testsupport.RowCounts(t, h.store)
			pos := h.tier("pos")
			payload := paypaltest.Event("WH-UNCONFIGURED", paypal.CheckoutOrderCompleted, "checkout-order",
				paypalOrder("ORDER-UNCONFIGURED", "CAPTURE-UNCONFIGURED", pos.PriceCents, pos.Currency, "tier=pos"))
			h.assertRefused(h.paypalDeliver(payload), http.StatusServiceUnavailable, "paypal_not_configured", before, what)
			assert.Empty(t, h.flows.Starts())
		})
	}
}

func TestAnInFlightPayPalDuplicateIsNotAcknowledged(t *testing.T) {
	h := newProviderTest(t)
	pos := h.tier("pos")
	h.claim(models.ProviderPayPal, "WH-INFLIGHT-1", paypal.CheckoutOrderCompleted)
	before := testsupport.RowCounts(t, h.store)

	w := h.paypalDeliver(paypaltest.Event("WH-INFLIGHT-1", paypal.CheckoutOrderCompleted, "checkout-order",
		paypalOrder("ORDER-INFLIGHT-1", "CAPTURE-INFLIGHT-1", pos.PriceCents, pos.Currency, "tier=pos")))
	h.assertRefused(w, http.StatusConflict, "event_in_progress", before, "no 2xx while the first delivery is not durable")
	assert.NotEmpty(t, w.Header().Get("Retry-After"))
	assert.Empty(t, h.flows.Starts())
}

// A full refund takes the license back and credits the invoice with one
// note; a redelivery of the refund does neither again.
func TestAFullPayPalRefundSuspendsTheLicenseAndCreditsItsInvoiceOnce(t *testing.T) {
	h := newProviderTest(t)
	pos := h.tier("pos")
	l := h.paypalBuy("WH-BUY-1", "ORDER-BUY-1", "CAPTURE-BUY-1")
	inv := h.invoiced("paypal:ORDER-BUY-1")
	refunded := paypaltest.Event("WH-REFUND-1", paypal.CaptureRefunded, "refund",
		paypalRefund("REFUND-1", "CAPTURE-BUY-1", pos.PriceCents, pos.PriceCents, pos.Currency))

	a := h.answer(h.paypalDeliver(refunded))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	assert.Contains(t, a.Reason, "of invoice "+inv.Number)
	suspended := signalled[*models.SuspendRequest](h)
	require.Len(t, suspended, 1)
	assert.Equal(t, l.ID, h.flows.Signals()[0].License.ID)
	assert.Equal(t, "WH-REFUND-1", suspended[0].RequestID)
	assert.Equal(t, "paypal:WH-REFUND-1", suspended[0].Actor)
	assert.Contains(t, suspended[0].Reason, "refunded")
	assert.Equal(t, models.OrderRefunded, h.order("paypal:ORDER-BUY-1").Status)
	notes, err := h.store.InvoiceCreditNotes(t.Context(), inv.Number)
	require.NoError(t, err)
	require.Len(t, notes, 1)
	assert.Equal(t, []int64{inv.SubtotalCents, inv.TaxCents, inv.TotalCents}, []int64{notes[0].SubtotalCents, notes[0].TaxCents, notes[0].TotalCents})
	assert.Equal(t, []string{"paypal:WH-REFUND-1", "paypal:WH-REFUND-1", "CAPTURE-BUY-1"}, []string{notes[0].Source, notes[0].Actor, notes[0].RefundedPaymentID})
	credited, err := h.store.GetInvoice(t.Context(), inv.Number)
	require.NoError(t, err)
	assert.Equal(t, models.InvoiceCredited, credited.Status)

	again := h.answer(h.paypalDeliver(refunded))
	assert.True(t, again.Duplicate)
	notes, err = h.store.InvoiceCreditNotes(t.Context(), inv.Number)
	require.NoError(t, err)
	assert.Len(t, notes, 1, "no second credit note")
	assert.Len(t, signalled[*models.SuspendRequest](h), 1)
}

// total_refunded_amount is cumulative: a partial refund credits what it
// refunded and keeps the license; the refund that completes it suspends.
func TestAPartialPayPalRefundKeepsTheLicenseUntilAllIsRefunded(t *testing.T) {
	h := newProviderTest(t)
	pos := h.tier("pos")
	h.paypalBuy("WH-BUY-1", "ORDER-BUY-1", "CAPTURE-BUY-1")
	inv := h.invoiced("paypal:ORDER-BUY-1")

	a := h.answer(h.paypalDeliver(paypaltest.Event("WH-REFUND-PART", paypal.CaptureRefunded, "refund",
		paypalRefund("REFUND-PART", "CAPTURE-BUY-1", 4900, 4900, pos.Currency))))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	assert.Contains(t, a.Reason, "the license stays active")
	assert.Empty(t, signalled[*models.SuspendRequest](h))
	assert.Equal(t, models.OrderPaid, h.order("paypal:ORDER-BUY-1").Status)
	notes, err := h.store.InvoiceCreditNotes(t.Context(), inv.Number)
	require.NoError(t, err)
	require.Len(t, notes, 1)
	assert.Equal(t, int64(4900), notes[0].TotalCents)

	a = h.answer(h.paypalDeliver(paypaltest.Event("WH-REFUND-REST", paypal.CaptureRefunded, "refund",
		paypalRefund("REFUND-REST", "CAPTURE-BUY-1", pos.PriceCents-4900, pos.PriceCents, pos.Currency))))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	assert.Len(t, signalled[*models.SuspendRequest](h), 1, "all of it is refunded now")
	assert.Equal(t, models.OrderRefunded, h.order("paypal:ORDER-BUY-1").Status)
	notes, err = h.store.InvoiceCreditNotes(t.Context(), inv.Number)
	require.NoError(t, err)
	require.Len(t, notes, 2)
	assert.Equal(t, inv.TotalCents, notes[0].TotalCents+notes[1].TotalCents, "the notes cancel the invoice to the cent")
}

func TestAPayPalDisputeSuspendsTheLicenseItsPaymentBought(t *testing.T) {
	h := newProviderTest(t)
	l := h.paypalBuy("WH-BUY-1", "ORDER-BUY-1", "CAPTURE-BUY-1")

	a := h.answer(h.paypalDeliver(paypaltest.Event("WH-DISPUTE-1", paypal.DisputeCreated, "dispute",
		paypalDispute("PP-R-QKM-1", "CAPTURE-BUY-1"))))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	suspended := signalled[*models.SuspendRequest](h)
	require.Len(t, suspended, 1)
	assert.Equal(t, l.ID, h.flows.Signals()[0].License.ID)
	assert.Equal(t, "paypal:WH-DISPUTE-1", suspended[0].Actor)
	assert.Contains(t, suspended[0].Reason, "PP-R-QKM-1")
	assert.Equal(t, models.OrderPaid, h.order("paypal:ORDER-BUY-1").Status, "a dispute is not (yet) a refund")

	a = h.answer(h.paypalDeliver(paypaltest.Event("WH-DISPUTE-UNKNOWN", paypal.DisputeCreated, "dispute",
		paypalDispute("PP-R-QKM-2", "CAPTURE-NOBODY-KNOWS"))))
	assert.Equal(t, models.PaymentEventNeedsReview, a.Outcome, a.Reason)
	assert.Contains(t, a.Reason, "CAPTURE-NOBODY-KNOWS")
	assert.Len(t, signalled[*models.SuspendRequest](h), 1)
	notices := h.reviewNotices()
	require.Len(t, notices, 1)
	assert.Equal(t, models.WebhookPayment{Provider: models.ProviderPayPal, EventID: "WH-DISPUTE-UNKNOWN", Type: paypal.DisputeCreated, Livemode: true},
		*notices[0].Payment)
}

// A subscription's payments renew the license its custom id names (which
// links the subscription to it) and then the linked license; cancelling
// the subscription turns automatic renewal off.
func TestAPayPalSubscriptionRenewsItsLicenseUntilCancelled(t *testing.T) {
	h := newProviderTest(t)
	pos := h.tier("pos")
	l := h.paypalBuy("WH-BUY-1", "ORDER-BUY-1", "CAPTURE-BUY-1")

	a := h.answer(h.paypalDeliver(paypaltest.Event("WH-SALE-1", paypal.SaleCompleted, "sale",
		paypalSale("SALE-1", "I-9KXR2D7WQ4LM", pos.PriceCents, pos.Currency, renewalOf(l.ID)))))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	linked := h.license(l.ID)
	assert.Equal(t, []any{models.ProviderPayPal, "I-9KXR2D7WQ4LM", true}, []any{linked.PaymentProvider, linked.ProviderSubscriptionID, linked.AutoRenew})
	a = h.answer(h.paypalDeliver(paypaltest.Event("WH-SALE-2", paypal.SaleCompleted, "sale",
		paypalSale("SALE-2", "I-9KXR2D7WQ4LM", pos.PriceCents, pos.Currency, ""))))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	renewals := signalled[*models.RenewRequest](h)
	require.Len(t, renewals, 2)
	assert.Equal(t, []string{"SALE-1", "SALE-2"}, []string{renewals[0].PaymentRef, renewals[1].PaymentRef})
	for _, s := range h.flows.Signals() {
		assert.Equal(t, l.ID, s.License.ID)
	}
	assert.Equal(t, models.ProviderPayPal, h.order("paypal:SALE-2").PaymentProvider)

	a = h.answer(h.paypalDeliver(paypaltest.Event("WH-CANCELLED", paypal.SubscriptionCancelled, "subscription",
		map[string]any{"id": "I-9KXR2D7WQ4LM", "status": "CANCELLED"})))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	assert.False(t, h.license(l.ID).AutoRenew)
	assert.Len(t, h.flows.Signals(), 2, "the license runs to its expiry")

	// A refund of a subscription's payment (a v1 sale refund) suspends too.
	a = h.answer(h.paypalDeliver(paypaltest.Event("WH-SALE-REFUND", paypal.SaleRefunded, "refund", map[string]any{
		"id": "SALE-REFUND-2", "state": "completed", "sale_id": "SALE-2",
		"amount":                map[string]any{"total": fmt.Sprintf("%d.%02d", pos.PriceCents/100, pos.PriceCents%100), "currency": pos.Currency},
		"total_refunded_amount": map[string]any{"value": fmt.Sprintf("%d.%02d", pos.PriceCents/100, pos.PriceCents%100), "currency": pos.Currency},
	})))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	assert.Len(t, signalled[*models.SuspendRequest](h), 1)
	assert.Equal(t, models.OrderRefunded, h.order("paypal:SALE-2").Status)
}

// The capture is what was paid: an order asking the tier's price but
// captured for less (a merchant's partial capture) issues nothing.
func TestAPayPalOrderCapturedForLessThanItAskedIsHeld(t *testing.T) {
	h := newProviderTest(t)
	pos := h.tier("pos")
	order := paypalOrder("9K190127TN364715Q", "8C679366HH908993Q", pos.PriceCents, pos.Currency, "tier=pos")
	capture := order["purchase_units"].([]any)[0].(map[string]any)["payments"].(map[string]any)["captures"].([]any)[0].(map[string]any)
	capture["amount"] = paypalMoney(100, pos.Currency)

	a := h.answer(h.paypalDeliver(paypaltest.Event("WH-PARTIAL-1", paypal.CheckoutOrderCompleted, "checkout-order", order)))
	assert.Equal(t, models.PaymentEventNeedsReview, a.Outcome, a.Reason)
	assert.Empty(t, h.flows.Starts())
	h.assertAnnounced(models.ProviderPayPal, paypal.CheckoutOrderCompleted, map[string]bool{"WH-PARTIAL-1": true})
}
