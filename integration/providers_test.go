package integration

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments/paddle"
	"github.com/licenseflow/licenseflow/payments/paypal"
	"github.com/licenseflow/licenseflow/payments/paypal/paypaltest"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
)

// PayPal and Paddle go through the same door as Stripe: these tests send
// events in each provider's documented shapes, signed the way each signs
// (PayPal with a certificate served from a test-only allowed host), to the
// whole system on a real Temporal server, on SQLite and PostgreSQL.

const (
	paypalWebhookID = "8PT597110X687430LKGECATA"
	paddleSecret    = "pdl_ntfset_01jtest_licenseflowsecret"
)

// providerStack runs licenseflow accepting PayPal webhooks verified with
// pp's certificate and Paddle notifications signed with paddleSecret.
func providerStack(t *testing.T, st *store.Store, pp *paypaltest.PayPal) *stack.Stack {
	return stack.Start(t, st, stack.Options{PayPal: pp.Verifier(paypalWebhookID), PaddleSecrets: []string{"pdl_ntfset_old", paddleSecret}})
}

// deliverPayPal posts an event with the headers PayPal sends, signed at at.
func deliverPayPal(s *stack.Stack, pp *paypaltest.PayPal, payload []byte, at time.Time) stack.Response {
	return s.CallAs("", http.MethodPost, "/api/v1/webhooks/paypal", string(payload), flat(pp.Sign(payload, paypalWebhookID, at))...)
}

func paddleEvent(id, typ string, data map[string]any) []byte {
	raw, err := json.Marshal(map[string]any{"event_id": id, "event_type": typ, "occurred_at": time.Now().UTC().Format(time.RFC3339Nano),
		"notification_id": "ntf_" + id[4:], "data": data})
	if err != nil {
		panic(err)
	}
	return raw
}

// deliverPaddle posts a notification signed as Paddle signs, at at.
func deliverPaddle(s *stack.Stack, payload []byte, at time.Time) stack.Response {
	return s.CallAs("", http.MethodPost, "/api/v1/webhooks/paddle", string(payload), "Paddle-Signature", paddle.Sign(payload, paddleSecret, at))
}

func paypalOrder(id, capture, customID, value string) map[string]any {
	return map[string]any{
		"id": id, "intent": "CAPTURE", "status": "COMPLETED",
		"payer": map[string]any{"email_address": "payer@example.com", "name": map[string]any{"given_name": "Pia", "surname": "Payer"},
			"address": map[string]any{"country_code": "DE"}},
		"purchase_units": []any{map[string]any{"reference_id": "default", "custom_id": customID,
			"amount":   map[string]any{"currency_code": "EUR", "value": value},
			"payments": map[string]any{"captures": []any{map[string]any{"id": capture, "status": "COMPLETED", "amount": map[string]any{"currency_code": "EUR", "value": value}}}}}},
	}
}

func paypalSale(id, subscription, custom, total string) map[string]any {
	return map[string]any{"id": id, "state": "completed", "amount": map[string]any{"total": total, "currency": "EUR"},
		"billing_agreement_id": subscription, "custom": custom, "payment_mode": "INSTANT_TRANSFER"}
}

// eachProviderBackend runs fn on SQLite and PostgreSQL with a PayPal of
// its own.
func eachProviderBackend(t *testing.T, fn func(t *testing.T, s *stack.Stack, pp *paypaltest.PayPal)) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		pp := paypaltest.New(t)
		fn(t, providerStack(t, st, pp), pp)
	})
}

// fiveAtOnce delivers the same event five times concurrently and says how
// many deliveries handled it (the others saw a duplicate or were told to
// retry while it was in flight).
func fiveAtOnce(t *testing.T, deliver func() stack.Response) int {
	t.Helper()
	responses := make([]stack.Response, 5)
	var wg sync.WaitGroup
	for i := range responses {
		wg.Go(func() { responses[i] = deliver() })
	}
	wg.Wait()
	handled := 0
	for _, r := range responses {
		if r.Status == http.StatusConflict {
			assert.Equal(t, "event_in_progress", r.Error(t).Code)
			continue
		}
		a := answer(t, r)
		if !a.Duplicate {
			require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
			handled++
		}
	}
	return handled
}

// renewedOnce waits for a renewal to expiry and checks it was the only
// one: one renewal email, and the workflow counted one renewal.
func renewedOnce(t *testing.T, s *stack.Stack, id string, expiry time.Time) {
	t.Helper()
	s.WaitFor("the renewal, projected", 20*time.Second, func() bool { return s.License(id).ExpiresAt.Equal(expiry) })
	s.WaitFor("the renewal email", 20*time.Second, func() bool {
		renewed, _ := s.Store.ListEmails(ctx, models.EmailFilter{LicenseID: id, Template: "renewed"})
		return len(renewed) == 1
	})
	var wf *api.WorkflowView
	s.WaitFor("the workflow's live state", 20*time.Second, func() bool {
		wf = s.License(id).Workflow
		return wf != nil && wf.Reachable
	})
	assert.Equal(t, 1, wf.Renewals, "five deliveries of one payment renew once: %+v", *wf)
}

func countRows(t *testing.T, s *stack.Stack, model any, where string, args ...any) int64 {
	t.Helper()
	var n int64
	require.NoError(t, s.Store.DB().Model(model).Where(where, args...).Count(&n).Error)
	return n
}

func TestPayPalPurchasesRenewsRefundsAndRefusesForgeries(t *testing.T) {
	eachProviderBackend(t, func(t *testing.T, s *stack.Stack, pp *paypaltest.PayPal) {
		// A completed checkout order issues one license, whatever the
		// redeliveries.
		order := paypaltest.Event("WH-1AB23456CD789012E-3FG45678HJ901234K", paypal.CheckoutOrderCompleted, "checkout-order",
			paypalOrder("5O190127TN364715T", "3C679366HH908993F", "tier=pos", "149.00"))
		a := answer(t, deliverPayPal(s, pp, order, time.Now()))
		require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
		v := s.WaitIssued(models.LicenseIDForOrder("paypal:5O190127TN364715T"))
		assert.Equal(t, "payer@example.com", v.Customer.Email)
		assert.True(t, answer(t, deliverPayPal(s, pp, order, time.Now())).Duplicate)
		assert.Equal(t, int64(1), countRows(t, s, &models.License{}, "1 = 1"))
		s.WaitFor("the purchase's invoice", 20*time.Second, func() bool {
			_, err := s.Store.InvoiceForOrder(ctx, "paypal:5O190127TN364715T")
			return err == nil
		})

		// Five concurrent deliveries of a subscription payment naming the
		// license renew it once, on the same DLID.
		sale := paypaltest.Event("WH-2CD34567EF890123G-4HJ56789KL012345M", paypal.SaleCompleted, "sale",
			paypalSale("80021663DE681814L", "I-BW452GLLEP1G", "license="+v.ID, "149.00"))
		assert.Equal(t, 1, fiveAtOnce(t, func() stack.Response { return deliverPayPal(s, pp, sale, time.Now()) }))
		renewedOnce(t, s, v.ID, models.Instant(v.ExpiresAt.AddDate(0, 12, 0)))
		assert.Equal(t, v.DLID, s.License(v.ID).DLID)
		l, err := s.Store.GetLicense(ctx, v.ID)
		require.NoError(t, err)
		assert.Equal(t, "I-BW452GLLEP1G", l.ProviderSubscriptionID, "the subscription now renews the license")

		// Signatures that do not verify change nothing.
		forged := paypaltest.Event("WH-9ZZ", paypal.SaleCompleted, "sale", paypalSale("FORGED1", "I-BW452GLLEP1G", "", "149.00"))
		for name, r := range map[string]stack.Response{
			"stale":   deliverPayPal(s, pp, forged, time.Now().Add(-6*time.Minute)),
			"forged":  s.CallAs("", http.MethodPost, "/api/v1/webhooks/paypal", string(forged), flat(pp.SignWith(otherKey(t), pp.CertURL(), forged, paypalWebhookID, time.Now()))...),
			"foreign": s.CallAs("", http.MethodPost, "/api/v1/webhooks/paypal", string(forged), flat(pp.Sign(forged, "SOME-OTHER-WEBHOOK", time.Now()))...),
		} {
			assert.Equal(t, http.StatusBadRequest, r.Status, "%s: %s", name, r.Body)
			assert.Equal(t, "invalid_signature", r.Error(t).Code, name)
		}
		assert.Zero(t, countRows(t, s, &models.PaymentEvent{}, "id = ?", "paypal:WH-9ZZ"), "nothing recorded")
		assert.Zero(t, countRows(t, s, &models.Order{}, "id = ?", "paypal:FORGED1"))

		// A full refund of the purchase credits its invoice and suspends.
		refund := paypaltest.Event("WH-3EF45678GH901234J-5KL67890MN123456P", paypal.CaptureRefunded, "refund", map[string]any{
			"id": "1JU08902781691411", "status": "COMPLETED", "amount": map[string]any{"currency_code": "EUR", "value": "149.00"},
			"seller_payable_breakdown": map[string]any{"total_refunded_amount": map[string]any{"currency_code": "EUR", "value": "149.00"}},
			"links": []any{
				map[string]any{"href": "https://api.paypal.com/v2/payments/refunds/1JU08902781691411", "rel": "self", "method": "GET"},
				map[string]any{"href": "https://api.paypal.com/v2/payments/captures/3C679366HH908993F", "rel": "up", "method": "GET"},
			}})
		a = answer(t, deliverPayPal(s, pp, refund, time.Now()))
		require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
		assert.Contains(t, a.Reason, "credit note")
		s.WaitFor("the suspension", 20*time.Second, func() bool { return s.License(v.ID).Status == models.StatusSuspended })
		inv, err := s.Store.InvoiceForOrder(ctx, "paypal:5O190127TN364715T")
		require.NoError(t, err)
		assert.Equal(t, int64(1), countRows(t, s, &models.CreditNote{}, "invoice_id = ?", inv.ID))
		inv, err = s.Store.GetInvoice(ctx, inv.Number)
		require.NoError(t, err)
		assert.Equal(t, inv.TotalCents, inv.CreditedCents, "the credit note cancels the invoice")
		o, err := s.Store.GetOrder(ctx, "paypal:5O190127TN364715T")
		require.NoError(t, err)
		assert.Equal(t, models.OrderRefunded, o.Status)
		ledger, err := s.Store.LicenseLedger(ctx, models.LedgerFilter{LicenseID: v.ID})
		require.NoError(t, err)
		assert.True(t, hasActor(ledger, "paypal:WH-3EF45678GH901234J-5KL67890MN123456P"), "the ledger names the refund's event")
	})
}

func TestPaddlePurchasesRenewsRefundsAndRefusesForgeries(t *testing.T) {
	eachProviderBackend(t, func(t *testing.T, s *stack.Stack, _ *paypaltest.PayPal) {
		customer := paddleEvent("evt_01jcustomer0000000000000001", paddle.CustomerCreated, map[string]any{
			"id": "ctm_01jpaddlebuyer00000000001", "name": "Pat Paddle", "email": "pat@example.com", "status": "active"})
		require.Equal(t, models.PaymentEventProcessed, answer(t, deliverPaddle(s, customer, time.Now())).Outcome)

		// A completed transaction issues one license; Paddle, the merchant
		// of record, invoiced it, so its invoice number is recorded.
		purchase := paddleEvent("evt_01jpurchase0000000000000001", paddle.TransactionCompleted, paddleTransaction(
			"txn_01jpurchase00000000000001", "web", map[string]any{"tier": "pos"}, "325-10001", nil))
		a := answer(t, deliverPaddle(s, purchase, time.Now()))
		require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
		v := s.WaitIssued(models.LicenseIDForOrder("paddle:txn_01jpurchase00000000000001"))
		assert.Equal(t, "pat@example.com", v.Customer.Email)
		assert.True(t, answer(t, deliverPaddle(s, purchase, time.Now())).Duplicate)
		assert.Equal(t, int64(1), countRows(t, s, &models.License{}, "1 = 1"))
		var inv models.Invoice
		s.WaitFor("Paddle's invoice, recorded", 20*time.Second, func() bool {
			var err error
			inv, err = s.Store.InvoiceForOrder(ctx, "paddle:txn_01jpurchase00000000000001")
			return err == nil
		})
		assert.Equal(t, "325-10001", inv.Number)
		assert.Equal(t, models.ProviderPaddle, inv.IssuedBy)
		assert.Empty(t, inv.PDF, "Paddle sent the buyer its own")

		// Five concurrent deliveries of the subscription's next payment
		// renew once, to the end of the period it paid.
		end := models.Instant(v.ExpiresAt.AddDate(1, 0, 2))
		renewal := paddleEvent("evt_01jrenewal00000000000000001", paddle.TransactionCompleted, paddleTransaction(
			"txn_01jrenewal000000000000001", "subscription_recurring", nil, "325-10002", &end))
		assert.Equal(t, 1, fiveAtOnce(t, func() stack.Response { return deliverPaddle(s, renewal, time.Now()) }))
		renewedOnce(t, s, v.ID, end)

		// Signatures that do not verify change nothing.
		forged := paddleEvent("evt_01jforged000000000000000001", paddle.TransactionCompleted, paddleTransaction(
			"txn_01jforged0000000000000001", "web", map[string]any{"tier": "pos", "email": "pirate@example.com"}, "", nil))
		for name, header := range map[string]string{
			"stale":        paddle.Sign(forged, paddleSecret, time.Now().Add(-6*time.Minute)),
			"wrong secret": paddle.Sign(forged, "pdl_ntfset_attacker", time.Now()),
			"missing":      "",
		} {
			r := s.CallAs("", http.MethodPost, "/api/v1/webhooks/paddle", string(forged), "Paddle-Signature", header)
			assert.Equal(t, http.StatusBadRequest, r.Status, "%s: %s", name, r.Body)
			assert.Equal(t, "invalid_signature", r.Error(t).Code, name)
		}
		assert.Zero(t, countRows(t, s, &models.PaymentEvent{}, "id = ?", "paddle:evt_01jforged000000000000000001"), "nothing recorded")
		assert.Zero(t, countRows(t, s, &models.Order{}, "id = ?", "paddle:txn_01jforged0000000000000001"))

		// An approved full refund suspends; Paddle credits its own invoice.
		refund := paddleEvent("evt_01jrefund000000000000000001", paddle.AdjustmentCreated, map[string]any{
			"id": "adj_01jrefund00000000000000001", "action": "refund", "type": "full", "status": "approved",
			"transaction_id": "txn_01jpurchase00000000000001", "customer_id": "ctm_01jpaddlebuyer00000000001", "reason": "changed mind",
			"currency_code": "EUR", "totals": map[string]any{"subtotal": "14900", "tax": "0", "total": "14900", "fee": "0", "earnings": "0"}})
		a = answer(t, deliverPaddle(s, refund, time.Now()))
		require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
		s.WaitFor("the suspension", 20*time.Second, func() bool { return s.License(v.ID).Status == models.StatusSuspended })
		assert.Zero(t, countRows(t, s, &models.CreditNote{}, "1 = 1"), "Paddle credits its own invoice")
		ledger, err := s.Store.LicenseLedger(ctx, models.LedgerFilter{LicenseID: v.ID})
		require.NoError(t, err)
		assert.True(t, hasActor(ledger, "paddle:evt_01jrefund000000000000000001"), "the ledger names the refund's event")
	})
}

// paddleTransaction is a completed transaction as Paddle Billing sends it,
// for the pos tier's price (149.00 EUR, tax included).
func paddleTransaction(id, origin string, custom map[string]any, invoice string, periodEnd *time.Time) map[string]any {
	t := map[string]any{
		"id": id, "status": "completed", "customer_id": "ctm_01jpaddlebuyer00000000001", "origin": origin,
		"subscription_id": "sub_01jpaddlesub000000000001", "invoice_number": invoice, "currency_code": "EUR",
		"custom_data": custom, "collection_mode": "automatic",
		"details": map[string]any{"totals": map[string]any{"subtotal": "12521", "discount": "0", "tax": "2379", "total": "14900", "grand_total": "14900"}},
		"items":   []any{map[string]any{"price": map[string]any{"id": "pri_01jpos", "product_id": "pro_01jpos"}, "quantity": 1}},
	}
	if periodEnd != nil {
		t["billing_period"] = map[string]any{"starts_at": periodEnd.AddDate(-1, 0, 0).Format(time.RFC3339), "ends_at": periodEnd.Format(time.RFC3339)}
	}
	return t
}

func hasActor(ledger []models.LicenseEvent, actor string) bool {
	for _, e := range ledger {
		if e.Actor == actor {
			return true
		}
	}
	return false
}

// flat turns headers into CallAs's name, value pairs.
func flat(h http.Header) []string {
	var out []string
	for k, v := range h {
		out = append(out, k, v[0])
	}
	return out
}

// otherKey is an RSA key PayPal's certificate does not hold: what a forger
// signs with.
func otherKey(t *testing.T) *rsa.PrivateKey {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	return key
}

// A license PayPal paid for renews through PayPal: its renewal link is a
// PayPal order naming the license, PayPal's return link captures it, and
// the capture's webhook renews the license once, on the same DLID.
func TestARenewalLinkOfALicensePayPalPaidForIsAPayPalOrder(t *testing.T) {
	st := testsupport.SQLite(t)
	pp, api := paypaltest.New(t), paypaltest.NewAPI(t)
	client, err := paypal.NewClient(api.Config())
	require.NoError(t, err)
	s := stack.Start(t, st, stack.Options{PayPal: pp.Verifier(paypalWebhookID), PayPalOrders: client})

	order := paypaltest.Event("WH-4GH56789JK012345L-6MN78901PQ234567R", paypal.CheckoutOrderCompleted, "checkout-order",
		paypalOrder("7P390127TN364715X", "4D679366HH908993G", "tier=pos", "149.00"))
	require.Equal(t, models.PaymentEventProcessed, answer(t, deliverPayPal(s, pp, order, time.Now())).Outcome)
	v := s.WaitIssued(models.LicenseIDForOrder("paypal:7P390127TN364715X"))

	r := s.Call(http.MethodPost, "/api/v1/licensing/licenses/"+v.ID+"/renewal-link", nil)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var link struct {
		Provider      string `json:"provider"`
		URL           string `json:"url"`
		PayPalOrderID string `json:"paypal_order_id"`
	}
	r.JSON(t, &link)
	require.Equal(t, "paypal", link.Provider)
	assert.Equal(t, paypaltest.CheckoutURL+link.PayPalOrderID, link.URL)
	again := s.Call(http.MethodPost, "/api/v1/licensing/licenses/"+v.ID+"/renewal-link", nil)
	assert.Contains(t, string(again.Body), link.PayPalOrderID, "asking again gets the same PayPal order")
	placed, ok := api.Placement(link.PayPalOrderID)
	require.True(t, ok)
	assert.Equal(t, "license="+v.ID+"&months=12", placed.CustomID)

	// Back from PayPal before approving: nothing is captured.
	back := s.CallAs("", http.MethodGet, "/portal/paypal/return?token="+link.PayPalOrderID, nil)
	assert.Equal(t, http.StatusConflict, back.Status)
	api.Approve(link.PayPalOrderID, "payer@example.com")
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(s.API.URL + "/portal/paypal/return?token=" + link.PayPalOrderID)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/portal?renewed="+v.ID, resp.Header.Get("Location"))

	captured, err := client.GetOrder(ctx, link.PayPalOrderID)
	require.NoError(t, err)
	capture := paypaltest.CaptureCompletedEvent("WH-5JK67890LM123456N-7PQ89012RS345678T", captured)
	assert.Equal(t, 1, fiveAtOnce(t, func() stack.Response { return deliverPayPal(s, pp, capture, time.Now()) }))
	renewedOnce(t, s, v.ID, models.Instant(v.ExpiresAt.AddDate(0, 12, 0)))
	assert.Equal(t, v.DLID, s.License(v.ID).DLID)
}
