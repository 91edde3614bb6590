package paymenthooks_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v79/webhook"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/paymenthooks"
	"github.com/licenseflow/licenseflow/payments/paddle"
	"github.com/licenseflow/licenseflow/testsupport"
)

// paddleEvent is a notification body shaped as Paddle sends it.
func paddleEvent(id, typ string, data any) []byte {
	raw, err := json.Marshal(map[string]any{
		"event_id": id, "event_type": typ, "occurred_at": time.Now().UTC().Format(time.RFC3339Nano),
		"notification_id": "ntf_" + strings.TrimPrefix(id, "evt_"), "data": data,
	})
	if err != nil {
		panic(err)
	}
	return raw
}

// paddleAmount is an amount as Paddle writes it: digits in the lowest
// denomination.
func paddleAmount(n int64) string { return strconv.FormatInt(n, 10) }

// paddleTransaction is a completed one-time checkout (transaction.completed's
// data) by customer, whose total (tax included, no discount) was
// paid in currency; custom is the custom_data the checkout sent.
func paddleTransaction(id, customer string, total int64, currency string, custom map[string]any) map[string]any {
	return map[string]any{
		"id": id, "status": "completed", "customer_id": customer, "origin": "web", "subscription_id": nil,
		"invoice_id": "inv_" + strings.TrimPrefix(id, "txn_"), "invoice_number": "4091-" + strings.TrimPrefix(id, "txn_"),
		"billing_period": nil, "currency_code": currency, "custom_data": custom,
		"details": map[string]any{"totals": map[string]any{
			"subtotal": paddleAmount(total), "discount": "0", "tax": "0", "total": paddleAmount(total),
			"credit": "0", "balance": "0", "grand_total": paddleAmount(total), "currency_code": currency,
		}},
	}
}

// paddleRenewal is a subscription's recurring transaction paying the period
// that ends at end.
func paddleRenewal(id, subscription string, total int64, currency string, end time.Time) map[string]any {
	t := paddleTransaction(id, "ctm_01subscriber", total, currency, nil)
	t["origin"], t["subscription_id"] = "subscription_recurring", subscription
	t["billing_period"] = map[string]any{"starts_at": end.AddDate(-1, 0, 0).Format(time.RFC3339), "ends_at": end.Format(time.RFC3339)}
	return t
}

// paddleAdjustment is an adjustment (adjustment.*'s data) of a transaction:
// action refund or chargeback, type full or partial, status
// pending_approval or approved.
func paddleAdjustment(id, action, typ, status, transaction string, total int64, currency string) map[string]any {
	return map[string]any{
		"id": id, "action": action, "type": typ, "status": status, "transaction_id": transaction,
		"subscription_id": nil, "customer_id": "ctm_01buyer", "reason": "the restaurant closed", "currency_code": currency,
		"totals": map[string]any{"subtotal": paddleAmount(total), "tax": "0", "total": paddleAmount(total),
			"fee": "0", "earnings": "0", "currency_code": currency},
	}
}

// paddleDeliver signs payload as Paddle signs notifications to the
// destination, now, and posts it.
func (h *providerTest) paddleDeliver(payload []byte) *httptest.ResponseRecorder {
	return h.post(models.ProviderPaddle, payload, http.Header{"Paddle-Signature": {paddle.Sign(payload, paddleSecret, time.Now())}})
}

// paddleBuy delivers a paid purchase of tier pos (transaction txn) and
// returns the license it started.
func (h *providerTest) paddleBuy(eventID, txn string) models.License {
	h.t.Helper()
	pos := h.tier("pos")
	a := h.answer(h.paddleDeliver(paddleEvent(eventID, paddle.TransactionCompleted,
		paddleTransaction(txn, "ctm_01buyer", pos.PriceCents, pos.Currency, map[string]any{"tier": "pos", "email": "jana@bistro.example"}))))
	require.Equal(h.t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	starts := h.flows.Starts()
	return starts[len(starts)-1].License
}

func TestAPaddleTransactionIssuesOneLicenseOnce(t *testing.T) {
	h := newProviderTest(t)
	pos := h.tier("pos")
	payload := paddleEvent("evt_01buy", paddle.TransactionCompleted,
		paddleTransaction("txn_01buy", "ctm_01buyer", pos.PriceCents, pos.Currency, map[string]any{"tier": "pos", "email": "jana@bistro.example"}))

	a := h.answer(h.paddleDeliver(payload))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	starts := h.flows.Starts()
	require.Len(t, starts, 1)
	assert.Equal(t, "paddle:evt_01buy", starts[0].Actor, "the license's workflow is started in the event's name")
	o := h.order("paddle:txn_01buy")
	assert.Equal(t, models.ProviderPaddle, o.PaymentProvider)
	assert.Equal(t, "txn_01buy", o.ProviderPaymentID, "refunds and chargebacks name the transaction")
	assert.Equal(t, "4091-01buy", o.ProviderInvoiceNumber, "Paddle's invoice stands for licenseflow's")
	assert.Equal(t, []any{pos.PriceCents, pos.Currency, 12, "jana@bistro.example"}, []any{o.AmountCents, o.Currency, o.Months, o.Customer.Email})
	assert.Equal(t, starts[0].License.ID, o.LicenseID)

	h.assertListed(models.ProviderPaddle, "evt_01buy", paddle.TransactionCompleted, models.PaymentEventProcessed, o)
	assert.Empty(t, h.events(models.ProviderPayPal), "recorded as Paddle's")

	// Paddle retries the notification.
	again := h.answer(h.paddleDeliver(payload))
	assert.True(t, again.Duplicate)
	h.assertOneLicense()
}

// custom_data comes from the buyer's browser (Paddle.js): it may ask for a
// tier, but only a total that covers the tier's price, in its currency,
// issues it; the vendor's discounts count as paid.
func TestAPaddleTransactionIssuesOnlyWhatItPaysFor(t *testing.T) {
	h := newProviderTest(t)
	pos, suite := h.tier("pos"), h.tier("suite")
	custom := func(tier string) map[string]any { return map[string]any{"tier": tier, "email": "jana@bistro.example"} }
	unpaid := []struct {
		what  string
		txn   map[string]any
		costs string
	}{
		{"a cent less than the price", paddleTransaction("txn_01cent", "ctm_01buyer", pos.PriceCents-1, pos.Currency, custom("pos")),
			models.FormatMoney(pos.PriceCents, pos.Currency)},
		{"the price in another currency", paddleTransaction("txn_01usd", "ctm_01buyer", pos.PriceCents, "USD", custom("pos")),
			models.FormatMoney(pos.PriceCents, pos.Currency)},
		{"a cheaper tier's price for the suite", paddleTransaction("txn_01suite", "ctm_01buyer", pos.PriceCents, pos.Currency, custom("suite")),
			models.FormatMoney(suite.PriceCents, suite.Currency)},
	}
	held := map[string]bool{}
	for _, c := range unpaid {
		id := "evt_" + strings.TrimPrefix(c.txn["id"].(string), "txn_")
		a := h.answer(h.paddleDeliver(paddleEvent(id, paddle.TransactionCompleted, c.txn)))
		assert.Equal(t, models.PaymentEventNeedsReview, a.Outcome, "%s: %s", c.what, a.Reason)
		assert.Contains(t, a.Reason, "costs "+c.costs, c.what)
		held[id] = true
	}
	counts := testsupport.RowCounts(t, h.store)
	assert.Equal(t, []int64{0, 0, 0}, []int64{counts["orders"], counts["licenses"], counts["customers"]}, "nothing recorded but the events")
	assert.Empty(t, h.flows.Starts())
	h.assertAnnounced(models.ProviderPaddle, paddle.TransactionCompleted, held)

	discounted := paddleTransaction("txn_01coupon", "ctm_01buyer", pos.PriceCents-4900, pos.Currency, custom("pos"))
	discounted["details"].(map[string]any)["totals"].(map[string]any)["discount"] = "4900"
	a := h.answer(h.paddleDeliver(paddleEvent("evt_01coupon", paddle.TransactionCompleted, discounted)))
	assert.Equal(t, models.PaymentEventProcessed, a.Outcome, "the vendor's discount counts as paid: %s", a.Reason)

	// Months are the tier's term, whatever custom_data asks.
	tenYears := paddleTransaction("txn_01tenyears", "ctm_01buyer", pos.PriceCents, pos.Currency,
		map[string]any{"tier": "pos", "email": "jana@bistro.example", "months": 120})
	a = h.answer(h.paddleDeliver(paddleEvent("evt_01tenyears", paddle.TransactionCompleted, tenYears)))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	assert.Equal(t, 12, h.order("paddle:txn_01tenyears").Months)
}

// custom_data.license_id names the license a checkout renews; naming one
// is no payment for it. A subscription's recurring payment must cover the
// term too.
func TestAPaddleRenewalNamingALicenseRenewsOnlyWhatItPaysFor(t *testing.T) {
	h := newProviderTest(t)
	pos := h.tier("pos")
	l := h.paddleBuy("evt_01buy", "txn_01buy")

	cheap := paddleTransaction("txn_01cheap", "ctm_01buyer", 100, pos.Currency, map[string]any{"license_id": l.ID})
	cheap["subscription_id"] = "sub_01cheap"
	usd := paddleTransaction("txn_01usd", "ctm_01buyer", pos.PriceCents, "USD", map[string]any{"license_id": l.ID})
	for id, txn := range map[string]map[string]any{"evt_01cheap": cheap, "evt_01usd": usd} {
		a := h.answer(h.paddleDeliver(paddleEvent(id, paddle.TransactionCompleted, txn)))
		assert.Equal(t, models.PaymentEventNeedsReview, a.Outcome, "%s: %s", id, a.Reason)
	}
	assert.Empty(t, h.flows.Signals(), "nothing renewed")
	assert.Equal(t, int64(1), testsupport.RowCounts(t, h.store)["orders"], "no renewal order recorded: only the purchase")
	got := h.license(l.ID)
	assert.Empty(t, got.ProviderSubscriptionID, "an unpaid subscription is not linked to the license")
	assert.False(t, got.AutoRenew)
	notices := h.reviewNotices()
	require.Len(t, notices, 2)
	for _, n := range notices {
		require.NotNil(t, n.License)
		assert.Equal(t, l.ID, n.License.ID)
		assert.Equal(t, models.ProviderPaddle, n.Payment.Provider)
	}

	a := h.answer(h.paddleDeliver(paddleEvent("evt_01paid", paddle.TransactionCompleted,
		paddleTransaction("txn_01paid", "ctm_01buyer", pos.PriceCents, pos.Currency, map[string]any{"license_id": l.ID}))))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	assert.Equal(t, []*models.RenewRequest{{Months: 12, PaymentRef: "txn_01paid", OrderID: "paddle:txn_01paid", Actor: "paddle:evt_01paid"}},
		signalled[*models.RenewRequest](h))
	assert.Equal(t, l.ID, h.flows.Signals()[0].License.ID, "the same license (same DLID) is renewed")
}

// Only what Paddle signed with this destination's secret, recently, is
// acted upon; anything else is refused before a row is written.
func TestForgedPaddleNotificationsAreRefusedAndRecordNothing(t *testing.T) {
	h := newProviderTest(t)
	pos := h.tier("pos")
	payload := paddleEvent("evt_01forged", paddle.TransactionCompleted,
		paddleTransaction("txn_01forged", "ctm_01buyer", pos.PriceCents, pos.Currency, map[string]any{"tier": "pos", "email": "jana@bistro.example"}))
	now := time.Now()
	signed := func(header string) http.Header { return http.Header{"Paddle-Signature": {header}} }
	stripeSigned := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: paddleSecret, Timestamp: now})
	old := paddle.Sign(payload, paddleSecret, now.Add(-6*time.Minute))
	_, oldH1, _ := strings.Cut(old, ";")

	for _, c := range []struct {
		what   string
		header http.Header
		body   []byte
	}{
		{"no signature", http.Header{}, payload},
		{"signed with another secret", signed(paddle.Sign(payload, "pdl_ntfset_someone_elses", now)), payload},
		{"signed with an empty secret", signed(paddle.Sign(payload, "", now)), payload},
		{"the body changed after signing", signed(paddle.Sign(payload, paddleSecret, now)), bytes.Replace(payload, []byte("jana@bistro.example"), []byte("eve@attacker.example"), 1)},
		{"signed six minutes ago", signed(old), payload},
		{"signed six minutes ahead", signed(paddle.Sign(payload, paddleSecret, now.Add(6*time.Minute))), payload},
		{"an old signature under a fresh timestamp", signed("ts=" + strconv.FormatInt(now.Unix(), 10) + ";" + oldH1), payload},
		{"two timestamps", signed("ts=" + strconv.FormatInt(now.Unix(), 10) + ";" + old), payload},
		{"Stripe's signature header", http.Header{"Stripe-Signature": {stripeSigned.Header}}, payload},
		{"Stripe's signature in Paddle's header", signed(stripeSigned.Header), payload},
		{"PayPal's signature headers", h.pp.Sign(payload, paypalWebhookID, now), payload},
	} {
		before := testsupport.RowCounts(t, h.store)
		h.assertRefused(h.post(models.ProviderPaddle, c.body, c.header), http.StatusBadRequest, "invalid_signature", before, c.what)
	}
	assert.Empty(t, h.events(models.ProviderPaddle))
	assert.Empty(t, h.flows.Starts())
	counts := testsupport.RowCounts(t, h.store)
	assert.Equal(t, []int64{0, 0, 0}, []int64{counts["stripe_events"], counts["orders"], counts["licenses"]})

	// The same notification, signed by Paddle now, is acted upon.
	a := h.answer(h.paddleDeliver(payload))
	assert.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
}

func TestPaddleNotificationsAreRefusedUntilASecretIsConfigured(t *testing.T) {
	for what, unset := range map[string]func(*paymenthooks.Deps){
		"no secrets":    func(d *paymenthooks.Deps) { d.PaddleSecrets = nil },
		"an empty list": func(d *paymenthooks.Deps) { d.PaddleSecrets = []string{} },
	} {
		t.Run(what, func(t *testing.T) {
			h := newProviderTest(t, unset)
			before := testsupport.RowCounts(t, h.store)
			pos := h.tier("pos")
			w := h.paddleDeliver(paddleEvent("evt_01unconfigured", paddle.TransactionCompleted,
				paddleTransaction("txn_01unconfigured", "ctm_01buyer", pos.PriceCents, pos.Currency, map[string]any{"tier": "pos", "email": "jana@bistro.example"})))
			h.assertRefused(w, http.StatusServiceUnavailable, "paddle_not_configured", before, what)
			assert.Empty(t, h.flows.Starts())
		})
	}
}

func TestAnInFlightPaddleDuplicateIsNotAcknowledged(t *testing.T) {
	h := newProviderTest(t)
	pos := h.tier("pos")
	h.claim(models.ProviderPaddle, "evt_01inflight", paddle.TransactionCompleted)
	before := testsupport.RowCounts(t, h.store)

	w := h.paddleDeliver(paddleEvent("evt_01inflight", paddle.TransactionCompleted,
		paddleTransaction("txn_01inflight", "ctm_01buyer", pos.PriceCents, pos.Currency, map[string]any{"tier": "pos", "email": "jana@bistro.example"})))
	h.assertRefused(w, http.StatusConflict, "event_in_progress", before, "no 2xx while the first delivery is not durable")
	assert.NotEmpty(t, w.Header().Get("Retry-After"))
	assert.Empty(t, h.flows.Starts())
}

// A refund takes effect once Paddle approves it. Paddle, the merchant of
// record, credits its own invoice: licenseflow issues no credit note.
func TestAnApprovedFullPaddleRefundSuspendsTheLicenseAndLeavesTheCreditToPaddle(t *testing.T) {
	h := newProviderTest(t)
	pos := h.tier("pos")
	l := h.paddleBuy("evt_01buy", "txn_01buy")
	inv := h.invoiced("paddle:txn_01buy")
	require.Equal(t, models.ProviderPaddle, inv.IssuedBy, "Paddle's invoice, recorded")

	a := h.answer(h.paddleDeliver(paddleEvent("evt_01requested", paddle.AdjustmentCreated,
		paddleAdjustment("adj_01refund", "refund", "full", "pending_approval", "txn_01buy", pos.PriceCents, pos.Currency))))
	assert.Equal(t, models.PaymentEventIgnored, a.Outcome, a.Reason)
	assert.Contains(t, a.Reason, "pending_approval")
	assert.Empty(t, h.flows.Signals(), "a refund pending approval changes nothing")
	assert.Equal(t, models.OrderPaid, h.order("paddle:txn_01buy").Status)

	approved := paddleEvent("evt_01approved", paddle.AdjustmentUpdated,
		paddleAdjustment("adj_01refund", "refund", "full", "approved", "txn_01buy", pos.PriceCents, pos.Currency))
	a = h.answer(h.paddleDeliver(approved))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	assert.Contains(t, a.Reason, "Paddle, the merchant of record, credits its invoice")
	suspended := signalled[*models.SuspendRequest](h)
	require.Len(t, suspended, 1)
	assert.Equal(t, l.ID, h.flows.Signals()[0].License.ID)
	assert.Equal(t, "paddle:evt_01approved", suspended[0].Actor)
	assert.Equal(t, "evt_01approved", suspended[0].RequestID)
	assert.Contains(t, suspended[0].Reason, "refunded")
	assert.Equal(t, models.OrderRefunded, h.order("paddle:txn_01buy").Status)
	assert.Zero(t, testsupport.RowCounts(t, h.store)["credit_notes"], "no credit note by licenseflow")

	assert.True(t, h.answer(h.paddleDeliver(approved)).Duplicate)
	assert.Len(t, signalled[*models.SuspendRequest](h), 1)
}

func TestAPartialPaddleRefundKeepsTheLicense(t *testing.T) {
	h := newProviderTest(t)
	pos := h.tier("pos")
	h.paddleBuy("evt_01buy", "txn_01buy")

	for id, adj := range map[string]map[string]any{
		"evt_01partial": paddleAdjustment("adj_01partial", "refund", "partial", "approved", "txn_01buy", 4900, pos.Currency),
		// Adjustments made before Paddle typed them are full when they refund all.
		"evt_01untyped": paddleAdjustment("adj_01untyped", "refund", "", "approved", "txn_01buy", pos.PriceCents-1, pos.Currency),
	} {
		a := h.answer(h.paddleDeliver(paddleEvent(id, paddle.AdjustmentUpdated, adj)))
		require.Equal(t, models.PaymentEventProcessed, a.Outcome, "%s: %s", id, a.Reason)
		assert.Contains(t, a.Reason, "the license stays active", id)
		assert.Contains(t, a.Reason, "Paddle", id)
	}
	assert.Empty(t, h.flows.Signals())
	assert.Equal(t, models.OrderPaid, h.order("paddle:txn_01buy").Status)
	assert.Zero(t, testsupport.RowCounts(t, h.store)["credit_notes"])
}

func TestAPaddleChargebackSuspendsTheLicenseItsTransactionBought(t *testing.T) {
	h := newProviderTest(t)
	pos := h.tier("pos")
	l := h.paddleBuy("evt_01buy", "txn_01buy")

	a := h.answer(h.paddleDeliver(paddleEvent("evt_01chargeback", paddle.AdjustmentCreated,
		paddleAdjustment("adj_01chargeback", "chargeback", "full", "approved", "txn_01buy", pos.PriceCents, pos.Currency))))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	suspended := signalled[*models.SuspendRequest](h)
	require.Len(t, suspended, 1)
	assert.Equal(t, l.ID, h.flows.Signals()[0].License.ID)
	assert.Equal(t, "paddle:evt_01chargeback", suspended[0].Actor)
	assert.Contains(t, suspended[0].Reason, "charged back")

	a = h.answer(h.paddleDeliver(paddleEvent("evt_01unknown", paddle.AdjustmentCreated,
		paddleAdjustment("adj_01unknown", "chargeback", "full", "approved", "txn_01nobodyknows", pos.PriceCents, pos.Currency))))
	assert.Equal(t, models.PaymentEventNeedsReview, a.Outcome, a.Reason)
	assert.Contains(t, a.Reason, "txn_01nobodyknows")
	assert.Len(t, signalled[*models.SuspendRequest](h), 1)
	notices := h.reviewNotices()
	require.Len(t, notices, 1)
	assert.Equal(t, models.WebhookPayment{Provider: models.ProviderPaddle, EventID: "evt_01unknown", Type: paddle.AdjustmentCreated, Livemode: true},
		*notices[0].Payment)
}

// A checkout that starts a subscription links it to the license it buys;
// the subscription's recurring payments renew that license to the end of
// the period they pay (when they pay for it); a canceled subscription
// turns automatic renewal off.
func TestAPaddleSubscriptionRenewsItsLicenseUntilCanceled(t *testing.T) {
	h := newProviderTest(t)
	pos := h.tier("pos")
	first := paddleTransaction("txn_01first", "ctm_01subscriber", pos.PriceCents, pos.Currency, map[string]any{"tier": "pos", "email": "jana@bistro.example"})
	first["subscription_id"] = "sub_01yearly"
	a := h.answer(h.paddleDeliver(paddleEvent("evt_01first", paddle.TransactionCompleted, first)))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	l := h.flows.Starts()[0].License
	linked := h.license(l.ID)
	assert.Equal(t, []any{models.ProviderPaddle, "sub_01yearly", true}, []any{linked.PaymentProvider, linked.ProviderSubscriptionID, linked.AutoRenew})

	end := time.Now().AddDate(1, 0, 0).Truncate(time.Second).UTC()
	a = h.answer(h.paddleDeliver(paddleEvent("evt_01cheap", paddle.TransactionCompleted,
		paddleRenewal("txn_01cheap", "sub_01yearly", pos.PriceCents-1, pos.Currency, end))))
	assert.Equal(t, models.PaymentEventNeedsReview, a.Outcome, a.Reason)
	assert.Empty(t, h.flows.Signals(), "a recurring payment below the price renews nothing")

	a = h.answer(h.paddleDeliver(paddleEvent("evt_01renewed", paddle.TransactionCompleted,
		paddleRenewal("txn_01renewed", "sub_01yearly", pos.PriceCents, pos.Currency, end))))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	assert.Equal(t, []*models.RenewRequest{{ExpiresAt: &end, PaymentRef: "txn_01renewed", OrderID: "paddle:txn_01renewed", Actor: "paddle:evt_01renewed"}},
		signalled[*models.RenewRequest](h))
	assert.Equal(t, l.ID, h.flows.Signals()[0].License.ID)

	a = h.answer(h.paddleDeliver(paddleEvent("evt_01canceled", paddle.SubscriptionCanceled,
		map[string]any{"id": "sub_01yearly", "status": "canceled", "customer_id": "ctm_01subscriber", "current_billing_period": nil})))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	assert.False(t, h.license(l.ID).AutoRenew)
	assert.Len(t, h.flows.Signals(), 1, "the license runs to its expiry")
}

// Paddle names a transaction's buyer by customer id only, and may notify
// the transaction before customer.created: the transaction is then
// answered 503 with nothing recorded, and Paddle's retry, once the
// customer has arrived, issues the license to that customer's address.
func TestAPaddleTransactionWaitsForItsCustomer(t *testing.T) {
	h := newProviderTest(t)
	pos := h.tier("pos")
	transaction := paddleEvent("evt_01early", paddle.TransactionCompleted,
		paddleTransaction("txn_01early", "ctm_01late", pos.PriceCents, pos.Currency, map[string]any{"tier": "pos"}))
	before := testsupport.RowCounts(t, h.store)

	h.assertRefused(h.paddleDeliver(transaction), http.StatusServiceUnavailable, "paddle_customer_pending", before,
		"a transaction before its customer: the event is not recorded either, so Paddle's retry is handled")
	assert.Empty(t, h.flows.Starts())

	a := h.answer(h.paddleDeliver(paddleEvent("evt_01customer", paddle.CustomerCreated,
		map[string]any{"id": "ctm_01late", "name": "Jana Novak", "email": "Jana@Bistro.example", "status": "active"})))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)

	a = h.answer(h.paddleDeliver(transaction))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	assert.False(t, a.Duplicate)
	starts := h.flows.Starts()
	require.Len(t, starts, 1)
	assert.Equal(t, "Jana Novak", starts[0].CustomerName)
	assert.Equal(t, "jana@bistro.example", h.order("paddle:txn_01early").Customer.Email)
}

// A customer that never arrives (the destination is not subscribed to
// customer.created) does not leave a paid transaction retried in silence:
// an hour after it occurred it is held for an operator.
func TestAPaddleTransactionWhoseCustomerNeverArrivesIsHeldForReview(t *testing.T) {
	h := newProviderTest(t)
	pos := h.tier("pos")
	raw := paddleEvent("evt_01orphan", paddle.TransactionCompleted,
		paddleTransaction("txn_01orphan", "ctm_01never", pos.PriceCents, pos.Currency, map[string]any{"tier": "pos"}))
	var ev map[string]any
	require.NoError(t, json.Unmarshal(raw, &ev))
	ev["occurred_at"] = time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339Nano)
	raw, err := json.Marshal(ev)
	require.NoError(t, err)

	a := h.answer(h.paddleDeliver(raw))
	assert.Equal(t, models.PaymentEventNeedsReview, a.Outcome, a.Reason)
	assert.Contains(t, a.Reason, "customer.created")
	assert.Empty(t, h.flows.Starts(), "no one to issue it to")
	h.assertAnnounced(models.ProviderPaddle, paddle.TransactionCompleted, map[string]bool{"evt_01orphan": true})
}
