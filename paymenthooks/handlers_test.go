package paymenthooks_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v79/webhook"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/lifecycle/lifecyclefake"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/paymenthooks"
	"github.com/licenseflow/licenseflow/payments"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
)

// These tests send signed events, exactly as Stripe sends them, to the
// webhook on a real SQLite store with the workflows faked.

const secret = "whsec_handler_test"

type hookTest struct {
	t      *testing.T
	store  *store.Store
	flows  *lifecyclefake.Fake
	router *gin.Engine
}

func newHookTest(t *testing.T) *hookTest {
	t.Helper()
	return newHookTestIn(t, false)
}

// newHookTestIn runs the webhook acting on live-mode events (livemode) or
// test-mode ones.
func newHookTestIn(t *testing.T, livemode bool) *hookTest {
	t.Helper()
	gin.SetMode(gin.TestMode)
	st := testsupport.SQLite(t)
	flows := &lifecyclefake.Fake{}
	r := httpx.NewRouter(httpx.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Database: st})
	paymenthooks.Mount(r, paymenthooks.Deps{Store: st, Lifecycle: flows, WebhookSecrets: []string{secret}, Livemode: livemode})
	return &hookTest{t: t, store: st, flows: flows, router: r}
}

func event(id, typ string, object map[string]any) []byte {
	raw, err := json.Marshal(map[string]any{
		"id": id, "object": "event", "type": typ, "api_version": "2024-06-20", "created": time.Now().Unix(),
		"livemode": false, "pending_webhooks": 1, "data": map[string]any{"object": object},
	})
	if err != nil {
		panic(err)
	}
	return raw
}

func checkout(id, email string) map[string]any {
	return map[string]any{
		"id": id, "object": "checkout.session", "mode": "payment", "payment_status": "paid",
		"customer": "cus_" + id, "payment_intent": "pi_" + id, "amount_total": 14900, "currency": "eur",
		"metadata": map[string]any{"tier": "pos"}, "customer_details": map[string]any{"email": email, "name": "Bea Buyer"},
	}
}

// deliverAt signs payload with a timestamp and posts it.
func (h *hookTest) deliverAt(payload []byte, at time.Time) *httptest.ResponseRecorder {
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at})
	req := httptest.NewRequest(http.MethodPost, "/api/v1/webhooks/stripe", strings.NewReader(string(signed.Payload)))
	req.Header.Set("Stripe-Signature", signed.Header)
	w := httptest.NewRecorder()
	h.router.ServeHTTP(w, req)
	return w
}

func (h *hookTest) deliver(payload []byte) *httptest.ResponseRecorder {
	return h.deliverAt(payload, time.Now())
}

type hookAnswer struct {
	Received  bool                       `json:"received"`
	Duplicate bool                       `json:"duplicate"`
	Outcome   models.PaymentEventOutcome `json:"outcome"`
	Reason    string                     `json:"reason"`
	Error     *httpx.Error               `json:"error"`
}

func decode(t *testing.T, w *httptest.ResponseRecorder) hookAnswer {
	t.Helper()
	var a hookAnswer
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &a), w.Body.String())
	return a
}

func errorCode(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	if a := decode(t, w); a.Error != nil {
		return a.Error.Code
	}
	return ""
}

// Issue 9, item 8: a signature timestamped ten minutes ahead was accepted.
func TestASignatureFromTheFutureIsRejectedAndNothingIsRecorded(t *testing.T) {
	h := newHookTest(t)
	before := testsupport.RowCounts(t, h.store)
	for _, ahead := range []time.Duration{10 * time.Minute, 301 * time.Second, 24 * time.Hour} {
		w := h.deliverAt(event("evt_future", payments.CheckoutCompleted, checkout("cs_future", "bea@example.com")), time.Now().Add(ahead))
		assert.Equal(t, http.StatusBadRequest, w.Code, "%s ahead: %s", ahead, w.Body.String())
		assert.Equal(t, "invalid_signature", errorCode(t, w))
	}
	assert.Equal(t, before, testsupport.RowCounts(t, h.store), "nothing recorded")
	assert.Empty(t, h.flows.Starts())

	// A clock a little ahead of ours is fine.
	w := h.deliverAt(event("evt_skew", payments.CheckoutCompleted, checkout("cs_skew", "bea@example.com")), time.Now().Add(30*time.Second))
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
}

// Issue 9, item 1: a paid Checkout Session whose email no workflow can
// carry used to fail with a 503 forever (Stripe retrying for days). It is
// acknowledged and recorded as failed with the reason, and no license is
// left pending.
func TestACheckoutWithAnOversizeEmailIsRecordedAsFailed(t *testing.T) {
	h := newHookTest(t)
	email := strings.Repeat("a", 64) + "@" + strings.Repeat("abcdefghi.", 210) + "com"
	w := h.deliver(event("evt_long", payments.CheckoutCompleted, checkout("cs_long", email)))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	a := decode(t, w)
	assert.Equal(t, models.PaymentEventFailed, a.Outcome)
	assert.Contains(t, a.Reason, "customer_email")

	ev, err := h.store.GetPaymentEvent(t.Context(), models.ProviderStripe, "evt_long")
	require.NoError(t, err)
	assert.Equal(t, models.PaymentEventFailed, ev.Outcome)
	counts := testsupport.RowCounts(t, h.store)
	assert.Zero(t, counts["licenses"], "no license is left pending")
	assert.Zero(t, counts["orders"])
	assert.Empty(t, h.flows.Starts())

	// Redelivered, it stays failed and is not handled again.
	again := decode(t, h.deliver(event("evt_long", payments.CheckoutCompleted, checkout("cs_long", email))))
	assert.True(t, again.Duplicate)
}

// Issue 9, item 7: a duplicate of an event still being handled got a 200
// before the first handler was durable; had that handler failed, Stripe
// would never have redelivered. In-flight duplicates get a non-2xx until
// the first handler is done; a failed first handler releases the event.
func TestADuplicateOfAnEventInFlightIsNotAcknowledged(t *testing.T) {
	h := newHookTest(t)
	entered := make(chan struct{})
	release := make(chan error)
	var once sync.Once
	h.flows.Before = func(call string) error {
		held := false
		once.Do(func() { held = true })
		if !held {
			return nil
		}
		close(entered)
		return <-release // the first handler waits here, not yet durable
	}
	payload := event("evt_dup", payments.CheckoutCompleted, checkout("cs_dup", "dup@example.com"))

	first := make(chan *httptest.ResponseRecorder)
	go func() { first <- h.deliver(payload) }()
	<-entered
	var wg sync.WaitGroup
	duplicates := make([]*httptest.ResponseRecorder, 4)
	for i := range duplicates {
		wg.Go(func() { duplicates[i] = h.deliver(payload) })
	}
	wg.Wait()
	for _, d := range duplicates {
		assert.GreaterOrEqual(t, d.Code, 300, "an in-flight duplicate is not acknowledged: %d %s", d.Code, d.Body.String())
		assert.Equal(t, http.StatusConflict, d.Code, d.Body.String())
		assert.NotEmpty(t, d.Header().Get("Retry-After"))
		assert.Equal(t, "event_in_progress", errorCode(t, d))
	}

	// The first handler fails (Temporal is down): the event is released...
	release <- lifecyclefake.Outage("connection refused")
	w := <-first
	assert.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
	_, err := h.store.GetPaymentEvent(t.Context(), models.ProviderStripe, "evt_dup")
	assert.ErrorIs(t, err, models.ErrNotFound, "released for redelivery")

	// ...so Stripe's redelivery handles it, once.
	a := decode(t, h.deliver(payload))
	assert.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	assert.False(t, a.Duplicate)
	again := h.deliver(payload)
	require.Equal(t, http.StatusOK, again.Code)
	assert.True(t, decode(t, again).Duplicate, "a finished event is a plain duplicate")
	assert.Len(t, h.flows.Starts(), 1)
}

// FuzzPaymentEvent found that a verified event without data panicked
// (a 500); it is recorded as failed, and Stripe gets its 2xx.
func TestASignedEventWithoutDataIsRecordedAsFailed(t *testing.T) {
	h := newHookTest(t)
	w := h.deliver([]byte(`{"id":"evt_nodata","object":"event","type":"checkout.session.completed","created":1700000000}`))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	a := decode(t, w)
	assert.Equal(t, models.PaymentEventFailed, a.Outcome)
	assert.Empty(t, h.flows.Starts())

	for _, body := range []string{`{"object":"event","type":"x"}`, `{"id":"evt bad","type":"x"}`, `{"id":"evt_1"}`} {
		w := h.deliver([]byte(body))
		assert.Equal(t, http.StatusBadRequest, w.Code, body)
		assert.Equal(t, "invalid_event", errorCode(t, w), body)
	}
}

// A paid session is checked as a whole before its purchase is recorded:
// what can never become a license is failed with the reason; a buyer's
// name, which is theirs, is made one safe line instead.
func TestCheckoutFieldsAreCheckedBeforeThePurchaseIsRecorded(t *testing.T) {
	h := newHookTest(t)
	failed := map[string]func(map[string]any){
		"currency":        func(o map[string]any) { o["currency"] = "€" },
		"metadata.months": func(o map[string]any) { o["metadata"] = map[string]any{"tier": "pos", "months": "100000"} },
		"max_domains":     func(o map[string]any) { o["metadata"] = map[string]any{"tier": "pos", "max_domains": "99999999"} },
		"customer":        func(o map[string]any) { o["customer"] = strings.Repeat("c", 101) },
		"metadata.tier":   func(o map[string]any) { o["metadata"] = map[string]any{"tier": strings.Repeat("t", 500)} },
		"customer_email": func(o map[string]any) {
			o["customer_details"] = map[string]any{"email": "a@example.com\r\nBcc: b@example.com"}
		},
	}
	i := 0
	for what, breakIt := range failed {
		i++
		session := checkout(fmt.Sprintf("cs_bad_%d", i), "bea@example.com")
		breakIt(session)
		a := decode(t, h.deliver(event(fmt.Sprintf("evt_bad_%d", i), payments.CheckoutCompleted, session)))
		assert.Equal(t, models.PaymentEventFailed, a.Outcome, "%s: %s", what, a.Reason)
		assert.NotEmpty(t, a.Reason, what)
	}
	counts := testsupport.RowCounts(t, h.store)
	assert.Zero(t, counts["orders"], "no purchase recorded")
	assert.Zero(t, counts["licenses"], "no license left pending")
	assert.Empty(t, h.flows.Starts())

	session := checkout("cs_name", "bea@example.com")
	session["customer_details"] = map[string]any{"email": "bea@example.com", "name": "Bea\r\nBcc: x@example.com " + strings.Repeat("b", 300)}
	a := decode(t, h.deliver(event("evt_name", payments.CheckoutCompleted, session)))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	starts := h.flows.Starts()
	require.Len(t, starts, 1)
	assert.NotContains(t, starts[0].CustomerName, "\n")
	assert.Equal(t, models.MaxNameLength, len([]rune(starts[0].CustomerName)))
	assert.True(t, strings.HasPrefix(starts[0].CustomerName, "Bea Bcc: x@example.com bbb"))
}

// eventAt builds an event of a given API version.
func eventAt(version, id, typ string, object map[string]any) []byte {
	raw, err := json.Marshal(map[string]any{
		"id": id, "object": "event", "type": typ, "api_version": version, "created": time.Now().Unix(),
		"livemode": false, "pending_webhooks": 1, "data": map[string]any{"object": object},
	})
	if err != nil {
		panic(err)
	}
	return raw
}

// renewalInvoice is a subscription_cycle invoice as the given API version
// shapes it: from 2025-03-31.basil on, the subscription is under
// parent.subscription_details and the payment intent under payments.
func renewalInvoice(version, id, subscription string, periodEnd time.Time) map[string]any {
	inv := map[string]any{
		"id": id, "object": "invoice", "customer": "cus_x", "billing_reason": "subscription_cycle",
		"amount_paid": 14900, "amount_due": 14900, "currency": "eur",
		"lines": map[string]any{"data": []any{map[string]any{"period": map[string]any{
			"start": periodEnd.AddDate(-1, 0, 0).Unix(), "end": periodEnd.Unix()}}}},
	}
	if version < "2025-03-31" {
		inv["subscription"], inv["payment_intent"] = subscription, "pi_"+id
		return inv
	}
	inv["parent"] = map[string]any{"type": "subscription_details", "quote_details": nil,
		"subscription_details": map[string]any{"subscription": subscription, "metadata": map[string]any{}}}
	inv["payments"] = map[string]any{"object": "list", "data": []any{map[string]any{
		"id": "inpay_" + id, "object": "invoice_payment", "status": "paid",
		"payment": map[string]any{"type": "payment_intent", "payment_intent": "pi_" + id}}}}
	return inv
}

// stripeVersions are the API versions whose shapes the tests send.
var stripeVersions = []string{"2024-06-20", "2025-03-31.basil", "2025-08-27.basil"}

// Issue 15, item 7: a basil-shaped invoice.paid was "failed": no license
// is linked to Stripe subscription "" — the customer paid, nothing renewed.
func TestInvoicePaidRenewsInEveryAPIVersionShape(t *testing.T) {
	for i, version := range stripeVersions {
		t.Run(version, func(t *testing.T) {
			h := newHookTest(t)
			session := checkout(fmt.Sprintf("cs_v%d", i), "bea@example.com")
			session["mode"], session["subscription"] = "subscription", "sub_v"
			require.Equal(t, models.PaymentEventProcessed, decode(t, h.deliver(eventAt(version, "evt_buy", payments.CheckoutCompleted, session))).Outcome)
			end := time.Now().AddDate(1, 0, 0).Truncate(time.Second).UTC()
			a := decode(t, h.deliver(eventAt(version, "evt_paid", payments.InvoicePaid, renewalInvoice(version, "in_v", "sub_v", end))))
			require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
			signals := h.flows.Signals()
			require.Len(t, signals, 1)
			assert.Equal(t, h.flows.Starts()[0].License.ID, signals[0].License.ID, "the same license (same DLID) is renewed")
			o, err := h.store.GetOrder(t.Context(), "stripe:in_v")
			require.NoError(t, err)
			assert.Equal(t, "pi_in_v", o.StripePaymentIntentID, "a refund of the renewal can be matched by its payment intent")

			// Refunded in this version's charge shape (basil charges name no invoice).
			charge := map[string]any{"id": "ch_v", "object": "charge", "payment_intent": "pi_in_v", "refunded": true, "amount": 14900, "amount_refunded": 14900}
			if version < "2025-03-31" {
				charge["invoice"] = "in_v"
			}
			a = decode(t, h.deliver(eventAt(version, "evt_refund", payments.ChargeRefunded, charge)))
			require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
		})
	}
}

// A subscription invoice renewed whatever it paid. Now one that pays less
// than a term of the tier is held for an operator and renews nothing; the
// vendor's discounts count as paid, and a line billing the tier's own
// Stripe price (a subscriber kept at an earlier price) renews, in both
// API shapes of the line's price.
func TestARenewalInvoiceRenewsOnlyWhenItPaysForTheTier(t *testing.T) {
	h := newHookTest(t)
	session := checkout("cs_under", "bea@example.com")
	session["mode"], session["subscription"] = "subscription", "sub_under"
	require.Equal(t, models.PaymentEventProcessed, decode(t, h.deliver(eventAt("2025-08-27.basil", "evt_buy", payments.CheckoutCompleted, session))).Outcome)
	end := time.Now().AddDate(1, 0, 0).Truncate(time.Second).UTC()
	invoice := func(id string, paid int64) map[string]any {
		inv := renewalInvoice("2025-08-27.basil", id, "sub_under", end)
		inv["amount_paid"], inv["amount_due"] = paid, paid
		return inv
	}

	a := decode(t, h.deliver(eventAt("2025-08-27.basil", "evt_cheap", payments.InvoicePaid, invoice("in_cheap", 100))))
	assert.Equal(t, models.PaymentEventNeedsReview, a.Outcome)
	assert.Contains(t, a.Reason, "paid 1.00 EUR")
	assert.Contains(t, a.Reason, "costs 149.00 EUR")
	assert.Empty(t, h.flows.Signals(), "nothing renewed")
	_, err := h.store.GetOrder(t.Context(), "stripe:in_cheap")
	assert.ErrorIs(t, err, models.ErrNotFound, "no renewal order recorded")

	coupon := invoice("in_coupon", 100)
	coupon["total_discount_amounts"] = []any{map[string]any{"amount": 14800, "discount": "di_vendor"}}
	a = decode(t, h.deliver(eventAt("2025-08-27.basil", "evt_coupon", payments.InvoicePaid, coupon)))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	require.Len(t, h.flows.Signals(), 1, "the vendor's coupon counts as paid")

	tier, err := h.store.GetTier(t.Context(), "pos")
	require.NoError(t, err)
	tier.StripePriceID = "price_pos_2025"
	_, err = h.store.UpdateTier(t.Context(), "pos", tier)
	require.NoError(t, err)
	for i, line := range []map[string]any{
		{"price": map[string]any{"id": "price_pos_2025"}},                                       // before basil
		{"pricing": map[string]any{"price_details": map[string]any{"price": "price_pos_2025"}}}, // basil on
	} {
		kept := invoice(fmt.Sprintf("in_kept%d", i), 9900)
		lines := kept["lines"].(map[string]any)["data"].([]any)
		for k, v := range line {
			lines[0].(map[string]any)[k] = v
		}
		a = decode(t, h.deliver(eventAt("2025-08-27.basil", fmt.Sprintf("evt_kept%d", i), payments.InvoicePaid, kept)))
		require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	}
	assert.Len(t, h.flows.Signals(), 3, "a subscriber at the tier's Stripe price renews")
}

// A payment that matches no license is held for review and an operator is
// told, whatever its shape; it is never a quiet "failed".
func TestUnmatchedPaymentsAreHeldForReviewAndAnnounced(t *testing.T) {
	h := newHookTest(t)
	ep, err := h.store.CreateWebhookEndpoint(t.Context(), models.WebhookEndpoint{ID: models.NewWebhookEndpointID(),
		URL: "https://crm.example.com/hook", EventTypes: models.StringList{string(models.EventPaymentNeedsReview)}, Enabled: true})
	require.NoError(t, err)
	end := time.Now().AddDate(1, 0, 0)
	renewal := checkout("cs_nolicense", "bea@example.com")
	renewal["metadata"] = map[string]any{"license_id": "lic_nope"}
	noTier := checkout("cs_notier", "bea@example.com")
	noTier["metadata"] = map[string]any{"tier": "gold"}
	unmatched := map[string][]byte{
		"evt_old_shape":   eventAt("2024-06-20", "evt_old_shape", payments.InvoicePaid, renewalInvoice("2024-06-20", "in_a", "sub_nobody", end)),
		"evt_basil_shape": eventAt("2025-03-31.basil", "evt_basil_shape", payments.InvoicePaid, renewalInvoice("2025-03-31.basil", "in_b", "sub_nobody", end)),
		"evt_refund": eventAt("2025-03-31.basil", "evt_refund", payments.ChargeRefunded, map[string]any{
			"id": "ch_x", "object": "charge", "payment_intent": "pi_unknown", "refunded": true, "amount": 100, "amount_refunded": 100}),
		"evt_no_license": event("evt_no_license", payments.CheckoutCompleted, renewal),
		"evt_no_tier":    event("evt_no_tier", payments.CheckoutCompleted, noTier),
	}
	for id, payload := range unmatched {
		w := h.deliver(payload)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		a := decode(t, w)
		assert.Equal(t, models.PaymentEventNeedsReview, a.Outcome, "%s: %s", id, a.Reason)
		assert.NotEmpty(t, a.Reason, id)
		ev, err := h.store.GetPaymentEvent(t.Context(), models.ProviderStripe, id)
		require.NoError(t, err)
		assert.Equal(t, models.PaymentEventNeedsReview, ev.Outcome)
	}
	pending, err := h.store.PendingWebhookDeliveries(t.Context(), ep.ID, nil, 100)
	require.NoError(t, err)
	require.Len(t, pending, len(unmatched), "one payment.needs_review per held event")
	for _, d := range pending {
		assert.Equal(t, models.EventPaymentNeedsReview, d.EventType)
		e, err := h.store.GetWebhookEvent(t.Context(), d.EventID)
		require.NoError(t, err)
		require.NotNil(t, e.Data.V.Payment)
		assert.Contains(t, unmatched, e.Data.V.Payment.StripeEventID)
		assert.NotEmpty(t, e.Data.V.Reason)
	}
	// Redelivered, a held event is not announced twice.
	h.deliver(unmatched["evt_old_shape"])
	pending, err = h.store.PendingWebhookDeliveries(t.Context(), ep.ID, nil, 100)
	require.NoError(t, err)
	assert.Len(t, pending, len(unmatched))
}

// Issue 15, item 5: a signed checkout with amount_total 1 and metadata
// asking for suite, 10,000 domains and 120 months was issued as such.
// Only money that covers the tier's price for the months asked issues a
// license; anything else is held for review and announced.
func TestCheckoutIssuesOnlyWhatItPaysFor(t *testing.T) {
	h := newHookTest(t)
	ep, err := h.store.CreateWebhookEndpoint(t.Context(), models.WebhookEndpoint{ID: models.NewWebhookEndpointID(),
		URL: "https://crm.example.com/hook", EventTypes: models.StringList{"*"}, Enabled: true})
	require.NoError(t, err)
	unpaid := map[string]func(map[string]any){
		"one cent for everything": func(o map[string]any) {
			o["amount_total"] = 1
			o["metadata"] = map[string]any{"tier": "suite", "max_domains": "10000", "months": "120"}
		},
		"one year's price for ten": func(o map[string]any) { o["metadata"] = map[string]any{"tier": "pos", "months": "120"} },
		"another currency":         func(o map[string]any) { o["currency"] = "usd" },
		"a cheaper tier's price":   func(o map[string]any) { o["metadata"] = map[string]any{"tier": "suite"} },
		"more domains than sold":   func(o map[string]any) { o["metadata"] = map[string]any{"tier": "pos", "max_domains": "4"} },
		"a discount not covering": func(o map[string]any) {
			o["amount_total"], o["total_details"] = 10000, map[string]any{"amount_discount": 4899}
		},
	}
	i := 0
	for what, breakIt := range unpaid {
		i++
		session := checkout(fmt.Sprintf("cs_unpaid_%d", i), "bea@example.com")
		breakIt(session)
		w := h.deliver(event(fmt.Sprintf("evt_unpaid_%d", i), payments.CheckoutCompleted, session))
		require.Equal(t, http.StatusOK, w.Code, "Stripe gets its 2xx: %s", w.Body.String())
		a := decode(t, w)
		assert.Equal(t, models.PaymentEventNeedsReview, a.Outcome, "%s: %s", what, a.Reason)
		assert.NotEmpty(t, a.Reason, what)
	}
	counts := testsupport.RowCounts(t, h.store)
	assert.Zero(t, counts["licenses"], "nothing issued")
	assert.Zero(t, counts["orders"])
	assert.Empty(t, h.flows.Starts())
	pending, err := h.store.PendingWebhookDeliveries(t.Context(), ep.ID, nil, 100)
	require.NoError(t, err)
	assert.Len(t, pending, len(unpaid), "the operator is told of each")
	for _, d := range pending {
		assert.Equal(t, models.EventPaymentNeedsReview, d.EventType)
	}

	paid := map[string]func(map[string]any){
		"the price": func(map[string]any) {},
		"the price with a coupon": func(o map[string]any) {
			o["amount_total"], o["total_details"] = 10000, map[string]any{"amount_discount": 4900}
		},
		"two years for two prices": func(o map[string]any) {
			o["amount_total"], o["metadata"] = 29800, map[string]any{"tier": "pos", "months": "24"}
		},
		"upper-case currency": func(o map[string]any) { o["currency"] = "EUR" },
	}
	for what, setUp := range paid {
		i++
		session := checkout(fmt.Sprintf("cs_paid_%d", i), "bea@example.com")
		setUp(session)
		a := decode(t, h.deliver(event(fmt.Sprintf("evt_paid_%d", i), payments.CheckoutCompleted, session)))
		assert.Equal(t, models.PaymentEventProcessed, a.Outcome, "%s: %s", what, a.Reason)
	}
	assert.Len(t, h.flows.Starts(), len(paid))
}

// A renewal link's session pays for the months it renews.
func TestRenewalCheckoutRenewsOnlyWhatItPaysFor(t *testing.T) {
	h := newHookTest(t)
	require.Equal(t, models.PaymentEventProcessed, decode(t, h.deliver(event("evt_buy", payments.CheckoutCompleted, checkout("cs_buy", "bea@example.com")))).Outcome)
	licenseID := h.flows.Starts()[0].License.ID
	renewal := checkout("cs_renew", "bea@example.com")
	renewal["metadata"] = map[string]any{"license_id": licenseID, "months": "36"}
	a := decode(t, h.deliver(event("evt_renew_cheap", payments.CheckoutCompleted, renewal)))
	assert.Equal(t, models.PaymentEventNeedsReview, a.Outcome, a.Reason)
	assert.Empty(t, h.flows.Signals(), "nothing renewed")

	renewal = checkout("cs_renew_paid", "bea@example.com")
	renewal["metadata"], renewal["amount_total"] = map[string]any{"license_id": licenseID, "months": "36"}, 44700
	a = decode(t, h.deliver(event("evt_renew_paid", payments.CheckoutCompleted, renewal)))
	assert.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	assert.Len(t, h.flows.Signals(), 1)
}

// Issue 15, item 5: livemode was recorded but never checked, so a test-mode
// event (test cards, no money) issued real licenses.
func TestEventsOfTheOtherStripeModeIssueNothing(t *testing.T) {
	live := newHookTestIn(t, true)
	a := decode(t, live.deliver(event("evt_test_mode", payments.CheckoutCompleted, checkout("cs_test_mode", "bea@example.com"))))
	assert.Equal(t, models.PaymentEventNeedsReview, a.Outcome, a.Reason)
	assert.Contains(t, a.Reason, "test-mode")
	assert.Empty(t, live.flows.Starts())
	assert.Zero(t, testsupport.RowCounts(t, live.store)["licenses"])

	var ev map[string]any
	require.NoError(t, json.Unmarshal(event("evt_live_mode", payments.CheckoutCompleted, checkout("cs_live_mode", "bea@example.com")), &ev))
	ev["livemode"] = true
	payload, err := json.Marshal(ev)
	require.NoError(t, err)
	a = decode(t, live.deliver(payload))
	assert.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	assert.Len(t, live.flows.Starts(), 1)

	test := newHookTest(t)
	a = decode(t, test.deliver(payload))
	assert.Equal(t, models.PaymentEventNeedsReview, a.Outcome, "a test endpoint does not act on live events either: %s", a.Reason)
}
