package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v79/webhook"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
)

const webhookSecret = "whsec_test_licenseflow"

// stripeStack runs licenseflow accepting webhooks signed with webhookSecret
// (and an older secret being rotated out).
func stripeStack(t *testing.T, store *store.Store) *stack.Stack {
	return stack.Start(t, store, stack.Options{WebhookSecrets: []string{"whsec_old_secret", webhookSecret}})
}

// stripeEvent builds an event as Stripe sends it.
func stripeEvent(id, typ string, object map[string]any) []byte {
	raw, err := json.Marshal(map[string]any{
		"id": id, "object": "event", "type": typ, "api_version": "2024-06-20", "created": time.Now().Unix(),
		"livemode": false, "pending_webhooks": 1, "data": map[string]any{"object": object},
	})
	if err != nil {
		panic(err)
	}
	return raw
}

// deliver signs a payload like Stripe does and posts it to the webhook.
func deliver(s *stack.Stack, payload []byte) stack.Response {
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: webhookSecret, Timestamp: time.Now()})
	return s.CallAs("", http.MethodPost, "/api/v1/webhooks/stripe", string(signed.Payload), "Stripe-Signature", signed.Header)
}

func checkoutSession(id string, metadata map[string]any) map[string]any {
	return map[string]any{
		"id": id, "object": "checkout.session", "mode": "subscription", "payment_status": "paid",
		"customer": "cus_" + id, "subscription": "sub_" + id, "payment_intent": "pi_" + id, "invoice": "in_first_" + id,
		"amount_total": 14900, "currency": "eur", "metadata": metadata,
		"customer_details": map[string]any{"email": "buyer@example.com", "name": "Bea Buyer"},
	}
}

func subscriptionInvoice(id, subscription string, periodEnd time.Time) map[string]any {
	return map[string]any{
		"id": id, "object": "invoice", "customer": "cus_x", "subscription": subscription, "payment_intent": "pi_" + id,
		"billing_reason": "subscription_cycle", "amount_paid": 14900, "amount_due": 14900, "currency": "eur",
		"hosted_invoice_url": "https://invoice.stripe.com/i/" + id,
		"lines": map[string]any{"data": []any{map[string]any{"period": map[string]any{
			"start": periodEnd.AddDate(-1, 0, 0).Unix(), "end": periodEnd.Unix()}}}},
	}
}

type webhookAnswer struct {
	Received  bool                       `json:"received"`
	Duplicate bool                       `json:"duplicate"`
	Outcome   models.PaymentEventOutcome `json:"outcome"`
	Reason    string                     `json:"reason"`
}

func answer(t *testing.T, r stack.Response) webhookAnswer {
	t.Helper()
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var a webhookAnswer
	r.JSON(t, &a)
	return a
}

// purchaseByCheckout buys a pos license through a Checkout Session.
func purchaseByCheckout(t *testing.T, s *stack.Stack, session string) api.LicenseView {
	t.Helper()
	a := answer(t, deliver(s, stripeEvent("evt_"+session, payments.CheckoutCompleted, checkoutSession(session, map[string]any{"tier": "pos"}))))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	return s.WaitIssued(models.LicenseIDForOrder("stripe:" + session))
}

func TestCheckoutCompletedPurchasesALicenseOnce(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		s := stripeStack(t, store)
		v := purchaseByCheckout(t, s, "cs_1")
		assert.Equal(t, "buyer@example.com", v.Customer.Email)
		assert.Equal(t, "pos", v.Tier)
		l, err := store.GetLicense(ctx, v.ID)
		require.NoError(t, err)
		assert.Equal(t, "cus_cs_1", l.StripeCustomerID)
		assert.Equal(t, "sub_cs_1", l.StripeSubscriptionID)
		assert.True(t, l.AutoRenew)
		o, err := store.GetOrder(ctx, "stripe:cs_1")
		require.NoError(t, err)
		assert.Equal(t, "pi_cs_1", o.StripePaymentIntentID, "license → order → payment intent")
		assert.Equal(t, int64(14900), o.AmountCents)

		again := answer(t, deliver(s, stripeEvent("evt_cs_1", payments.CheckoutCompleted, checkoutSession("cs_1", map[string]any{"tier": "pos"}))))
		assert.True(t, again.Duplicate)
		var n int64
		require.NoError(t, store.DB().Model(&models.License{}).Count(&n).Error)
		assert.Equal(t, int64(1), n)
	})
}

func TestInvoicePaidDeliveredFiveTimesConcurrentlyRenewsOnce(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		s := stripeStack(t, store)
		v := purchaseByCheckout(t, s, "cs_2")
		periodEnd := models.Instant(v.ExpiresAt.AddDate(1, 0, 3))
		payload := stripeEvent("evt_inv_2", payments.InvoicePaid, subscriptionInvoice("in_2", "sub_cs_2", periodEnd))
		var wg sync.WaitGroup
		responses := make([]stack.Response, 5)
		for i := range responses {
			wg.Go(func() { responses[i] = deliver(s, payload) })
		}
		wg.Wait()
		processed := 0
		var answers []webhookAnswer
		for _, r := range responses {
			if r.Status == http.StatusConflict { // still being handled by another delivery: Stripe retries
				assert.Equal(t, "event_in_progress", r.Error(t).Code)
				continue
			}
			a := answer(t, r)
			answers = append(answers, a)
			if a.Outcome == models.PaymentEventProcessed && !a.Duplicate {
				processed++
			}
		}
		assert.Equal(t, 1, processed, "one delivery handles the event, the others see a duplicate or are told to retry: %+v", answers)

		var after api.LicenseView
		s.WaitFor("the renewal, projected", 10*time.Second, func() bool {
			after = s.License(v.ID)
			return after.ExpiresAt.Equal(periodEnd) // the new expiry is the paid period's end
		})
		assert.Equal(t, v.DLID, after.DLID)
		s.WaitFor("renewal emails", 10*time.Second, func() bool {
			renewed, _ := store.ListEmails(ctx, models.EmailFilter{LicenseID: v.ID, Template: "renewed"})
			return len(renewed) == 1
		})
		// The five deliveries are counted once a later renewal has gone
		// through the workflow after them: a second handling of evt_inv_2
		// would have renewed (and emailed) before it.
		nextEnd := models.Instant(periodEnd.AddDate(1, 0, 0))
		later := answer(t, deliver(s, stripeEvent("evt_inv_3", payments.InvoicePaid, subscriptionInvoice("in_3", "sub_cs_2", nextEnd))))
		require.Equal(t, models.PaymentEventProcessed, later.Outcome, later.Reason)
		s.WaitFor("the later renewal, projected", 10*time.Second, func() bool {
			return s.License(v.ID).ExpiresAt.Equal(nextEnd)
		})
		s.WaitFor("the later renewal's email", 10*time.Second, func() bool {
			renewed, _ := store.ListEmails(ctx, models.EmailFilter{LicenseID: v.ID, Template: "renewed"})
			return len(renewed) >= 2
		})
		renewed, _ := store.ListEmails(ctx, models.EmailFilter{LicenseID: v.ID, Template: "renewed"})
		assert.Len(t, renewed, 2, "one renewal email per paid invoice")
		invoices, err := store.ListInvoices(ctx, v.ID)
		require.NoError(t, err)
		assert.Len(t, invoices, 3, "purchase and one invoice per renewal")
		// The live state is a Temporal query, which can time out on a loaded
		// machine ("Temporal did not answer"): wait until it answers.
		var wf *api.WorkflowView
		s.WaitFor("the workflow's live state", 10*time.Second, func() bool {
			wf = s.License(v.ID).Workflow
			return wf != nil && wf.Reachable
		})
		assert.Equal(t, 2, wf.Renewals, "%+v", *wf)
	})
}

func TestBadWebhookSignaturesAreRejectedAndRecordNothing(t *testing.T) {
	s := stripeStack(t, testsupport.SQLite(t))
	payload := stripeEvent("evt_bad", payments.CheckoutCompleted, checkoutSession("cs_bad", map[string]any{"tier": "pos"}))
	good := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: webhookSecret, Timestamp: time.Now()})
	wrong := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: "whsec_attacker", Timestamp: time.Now()})
	old := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: webhookSecret, Timestamp: time.Now().Add(-6 * time.Minute)})
	tampered := append([]byte{}, payload...)
	tampered[len(tampered)-3] ^= 1
	cases := map[string]struct {
		body   []byte
		header string
	}{
		"tampered body":     {tampered, good.Header},
		"wrong secret":      {payload, wrong.Header},
		"expired timestamp": {payload, old.Header},
		"missing header":    {payload, ""},
	}
	for name, c := range cases {
		r := s.CallAs("", http.MethodPost, "/api/v1/webhooks/stripe", string(c.body), "Stripe-Signature", c.header)
		assert.Equal(t, http.StatusBadRequest, r.Status, name)
		assert.Equal(t, "invalid_signature", r.Error(t).Code, name)
	}
	var events, licenses int64
	require.NoError(t, s.Store.DB().Model(&models.PaymentEvent{}).Count(&events).Error)
	require.NoError(t, s.Store.DB().Model(&models.License{}).Count(&licenses).Error)
	assert.Zero(t, events, "nothing recorded")
	assert.Zero(t, licenses, "no workflow touched")

	// A rotated-out secret still verifies while it is configured.
	rotated := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: "whsec_old_secret", Timestamp: time.Now()})
	r := s.CallAs("", http.MethodPost, "/api/v1/webhooks/stripe", string(rotated.Payload), "Stripe-Signature", rotated.Header)
	assert.Equal(t, http.StatusOK, r.Status, string(r.Body))
}

func TestInvoicePaidRenewsAnExpiredLicenseOnTheSameDLID(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		s := stripeStack(t, store)
		v := purchaseByCheckout(t, s, "cs_3")
		soon := time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339)
		require.Equal(t, http.StatusOK, s.Call(http.MethodPatch, "/api/v1/licensing/licenses/"+v.ID, `{"expires_at":"`+soon+`"}`).Status)
		s.WaitFor("the license to expire", 15*time.Second, func() bool { return s.License(v.ID).Status == models.StatusExpired })

		periodEnd := models.Instant(time.Now().AddDate(1, 0, 0))
		a := answer(t, deliver(s, stripeEvent("evt_inv_3", payments.InvoicePaid, subscriptionInvoice("in_3", "sub_cs_3", periodEnd))))
		require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
		var after api.LicenseView
		s.WaitFor("the renewal", 10*time.Second, func() bool {
			after = s.License(v.ID)
			return after.Status == models.StatusActive
		})
		assert.Equal(t, v.DLID, after.DLID)
		assert.Equal(t, periodEnd, *after.ExpiresAt)
	})
}

func TestAsyncPaymentPurchasesOnlyWhenItSucceeds(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		s := stripeStack(t, store)
		session := checkoutSession("cs_async", map[string]any{"tier": "crm"})
		session["payment_status"], session["amount_total"] = "unpaid", 19900
		a := answer(t, deliver(s, stripeEvent("evt_async_1", payments.CheckoutCompleted, session)))
		assert.Equal(t, models.PaymentEventIgnored, a.Outcome, "a SEPA debit is not paid yet")
		session["payment_status"] = "paid"
		a = answer(t, deliver(s, stripeEvent("evt_async_2", payments.CheckoutAsyncSucceeded, session)))
		require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
		v := s.WaitIssued(models.LicenseIDForOrder("stripe:cs_async"))
		assert.Equal(t, "crm", v.Tier)
	})
}

func TestPaymentFailedSendsADunningEmail(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		s := stripeStack(t, store)
		v := purchaseByCheckout(t, s, "cs_4")
		inv := subscriptionInvoice("in_4", "sub_cs_4", time.Now().AddDate(1, 0, 0))
		inv["amount_due"] = 5900
		a := answer(t, deliver(s, stripeEvent("evt_fail_4", payments.InvoicePaymentFailed, inv)))
		require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
		var msgs []models.EmailMessage
		s.WaitFor("the dunning email", 10*time.Second, func() bool {
			msgs, _ = s.Store.ListEmails(ctx, models.EmailFilter{LicenseID: v.ID, Template: "payment-failed"})
			return len(msgs) == 1
		})
		assert.Contains(t, msgs[0].TextBody, "59.00 EUR")
		assert.Contains(t, msgs[0].TextBody, "https://invoice.stripe.com/i/in_4")
		assert.Equal(t, models.StatusActive, s.License(v.ID).Status, "a failed payment does not change the license")
	})
}

func TestSubscriptionDeletedTurnsAutoRenewOff(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		s := stripeStack(t, store)
		v := purchaseByCheckout(t, s, "cs_5")
		a := answer(t, deliver(s, stripeEvent("evt_del_5", payments.SubscriptionDeleted, map[string]any{
			"id": "sub_cs_5", "object": "subscription", "customer": "cus_cs_5", "status": "canceled"})))
		require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
		l, err := s.Store.GetLicense(ctx, v.ID)
		require.NoError(t, err)
		assert.False(t, l.AutoRenew)
		assert.Equal(t, models.StatusActive, l.Status, "the license runs to its expiry")
	})
}

func TestRefundsAndDisputesSuspendTheLicense(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		s := stripeStack(t, store)
		refunded := purchaseByCheckout(t, s, "cs_6")
		disputed := purchaseByCheckout(t, s, "cs_7")

		partial := answer(t, deliver(s, stripeEvent("evt_partial", payments.ChargeRefunded, map[string]any{
			"id": "ch_6p", "object": "charge", "payment_intent": "pi_cs_6", "refunded": false, "amount": 14900, "amount_refunded": 1000})))
		assert.Equal(t, models.PaymentEventProcessed, partial.Outcome, "a partial refund is credited: %s", partial.Reason)
		assert.Contains(t, partial.Reason, "the license stays active")
		a := answer(t, deliver(s, stripeEvent("evt_refund", payments.ChargeRefunded, map[string]any{
			"id": "ch_6", "object": "charge", "payment_intent": "pi_cs_6", "refunded": true, "amount": 14900, "amount_refunded": 14900})))
		require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
		a = answer(t, deliver(s, stripeEvent("evt_dispute", payments.DisputeCreated, map[string]any{
			"id": "dp_7", "object": "dispute", "charge": "ch_7", "payment_intent": "pi_cs_7", "reason": "fraudulent"})))
		require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)

		for _, id := range []string{refunded.ID, disputed.ID} {
			s.WaitFor("suspension of "+id, 10*time.Second, func() bool { return s.License(id).Status == models.StatusSuspended })
		}
		v := s.License(disputed.ID)
		assert.Contains(t, v.Workflow.SuspendReason, "fraudulent")
		o, err := s.Store.GetOrder(ctx, "stripe:cs_6")
		require.NoError(t, err)
		assert.Equal(t, models.OrderRefunded, o.Status)
	})
}

func TestUnknownAndUnmatchedEventsAreAcknowledgedAndVisible(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		s := stripeStack(t, store)
		a := answer(t, deliver(s, stripeEvent("evt_other", "customer.created", map[string]any{"id": "cus_9", "object": "customer"})))
		assert.Equal(t, models.PaymentEventIgnored, a.Outcome)
		a = answer(t, deliver(s, stripeEvent("evt_orphan", payments.InvoicePaid, subscriptionInvoice("in_9", "sub_nobody", time.Now().AddDate(1, 0, 0)))))
		assert.Equal(t, models.PaymentEventNeedsReview, a.Outcome, "a payment no license matches waits for an operator")
		assert.Contains(t, a.Reason, "sub_nobody")

		var failed httpx.Page[models.PaymentEvent]
		s.Call(http.MethodGet, "/api/v1/webhooks/stripe/events?outcome=needs_review", nil).JSON(t, &failed)
		require.Len(t, failed.Data, 1)
		assert.Equal(t, "evt_orphan", failed.Data[0].ID)
		assert.Contains(t, failed.Data[0].Reason, "no license is linked to Stripe subscription sub_nobody")
	})
}

func TestCheckoutForALicenseRenewsIt(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		s := stripeStack(t, store)
		var created api.LicenseView
		s.Call(http.MethodPost, "/api/v1/licensing/licenses", crmOrder).JSON(t, &created)
		v := s.WaitIssued(created.ID)
		session := checkoutSession("cs_renew", map[string]any{"license_id": v.ID, "tier": "pos", "months": "12"})
		session["mode"], session["subscription"] = "payment", nil
		a := answer(t, deliver(s, stripeEvent("evt_renew", payments.CheckoutCompleted, session)))
		require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
		want := models.AddMonths(*v.ExpiresAt, 12)
		s.WaitFor("the renewal, projected", 10*time.Second, func() bool { return s.License(v.ID).ExpiresAt.Equal(want) })
		assert.Equal(t, v.DLID, s.License(v.ID).DLID)
	})
}

func TestRenewalLinkCreatesACheckoutSessionOnStripe(t *testing.T) {
	mock := testsupport.StartStripeMock(t)
	checkout, err := payments.NewCheckout(payments.Config{SecretKey: "sk_test_123", APIURL: mock.URL})
	require.NoError(t, err)
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{Payments: checkout})
	var created api.LicenseView
	s.Call(http.MethodPost, "/api/v1/licensing/licenses", crmOrder).JSON(t, &created)
	s.WaitIssued(created.ID)

	r := s.Call(http.MethodPost, "/api/v1/licensing/licenses/"+created.ID+"/renewal-link", nil)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var link payments.RenewalLink
	r.JSON(t, &link)
	assert.Equal(t, "stripe", link.Provider)
	assert.NotEmpty(t, link.URL)
	reqs := mock.Requests(http.MethodPost, "/v1/checkout/sessions")
	require.Len(t, reqs, 1)
	form := reqs[0].Form
	assert.Equal(t, created.ID, form.Get("metadata[license_id]"))
	assert.Equal(t, "pos", form.Get("metadata[tier]"))
	assert.Equal(t, "12", form.Get("metadata[months]"))
	assert.Equal(t, created.ID, form.Get("payment_intent_data[metadata][license_id]"))
	assert.Equal(t, "14900", form.Get("line_items[0][price_data][unit_amount]"))
	assert.Equal(t, "eur", form.Get("line_items[0][price_data][currency]"))
	assert.Equal(t, "payment", form.Get("mode"))
	assert.Equal(t, "customer@example.com", form.Get("customer_email"))

	// A tier with its own Stripe price: a link sells as many terms as it
	// renews, and a length that is not whole terms is priced pro rata.
	r = s.Call(http.MethodPut, "/api/v1/tiers/pos", `{"name":"Point of Sale","products":["base","pos"],"max_domains":3,"term":"annual","price_cents":14900,"currency":"EUR","channels":["stable"],"stripe_price_id":"price_pos"}`)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Equal(t, http.StatusCreated, s.Call(http.MethodPost, "/api/v1/licensing/licenses/"+created.ID+"/renewal-link", `{"months":24}`).Status)
	require.Equal(t, http.StatusCreated, s.Call(http.MethodPost, "/api/v1/licensing/licenses/"+created.ID+"/renewal-link", `{"months":18}`).Status)
	reqs = mock.Requests(http.MethodPost, "/v1/checkout/sessions")
	require.Len(t, reqs, 3)
	assert.Equal(t, "price_pos", reqs[1].Form.Get("line_items[0][price]"))
	assert.Equal(t, "2", reqs[1].Form.Get("line_items[0][quantity]"), "two years are two of the yearly price")
	assert.Empty(t, reqs[2].Form.Get("line_items[0][price]"))
	assert.Equal(t, "22350", reqs[2].Form.Get("line_items[0][price_data][unit_amount]"))
	assert.Equal(t, "1", reqs[2].Form.Get("line_items[0][quantity]"))
}

func TestCheckoutWithoutTierMetadataSellsTheTierOfItsPrice(t *testing.T) {
	mock := testsupport.StartStripeMock(t)
	checkout, err := payments.NewCheckout(payments.Config{SecretKey: "sk_test_123", APIURL: mock.URL})
	require.NoError(t, err)
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{Payments: checkout, WebhookSecrets: []string{webhookSecret}})
	price, err := checkout.SessionPriceID(ctx, "cs_from_dashboard") // the price stripe-mock's line items carry
	require.NoError(t, err)
	r := s.Call(http.MethodPut, "/api/v1/tiers/erp", fmt.Sprintf(`{"name":"ERP","products":["base","erp"],"max_domains":5,"term":"annual","price_cents":39900,"currency":"EUR","channels":["stable"],"stripe_price_id":%q}`, price))
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))

	a := answer(t, deliver(s, stripeEvent("evt_price", payments.CheckoutCompleted, checkoutSession("cs_from_dashboard", map[string]any{}))))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	v := s.WaitIssued(models.LicenseIDForOrder("stripe:cs_from_dashboard"))
	assert.Equal(t, "erp", v.Tier)
	assert.NotEmpty(t, mock.Requests(http.MethodGet, "/v1/checkout/sessions/cs_from_dashboard/line_items"))
}

func TestRenewalLinkWithoutStripeIsAPendingCRMOrder(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	var created api.LicenseView
	s.Call(http.MethodPost, "/api/v1/licensing/licenses", crmOrder).JSON(t, &created)
	v := s.WaitIssued(created.ID)
	r := s.Call(http.MethodPost, "/api/v1/licensing/licenses/"+created.ID+"/renewal-link", nil)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var link payments.RenewalLink
	r.JSON(t, &link)
	assert.Equal(t, "crm", link.Provider)
	o, err := s.Store.GetOrder(ctx, link.OrderID)
	require.NoError(t, err)
	assert.Equal(t, models.OrderPending, o.Status)
	assert.Equal(t, models.OrderRenewal, o.Kind)

	// The CRM collects the money and marks the order paid: same DLID, a year more.
	paid := s.Call(http.MethodPost, "/api/v1/orders/"+link.OrderID+"/paid", `{"payment_ref":"bank-transfer-77"}`)
	require.Equal(t, http.StatusOK, paid.Status, string(paid.Body))
	var res api.OrderPaid
	paid.JSON(t, &res)
	assert.Equal(t, v.DLID, res.License.DLID)
	assert.Equal(t, models.AddMonths(*v.ExpiresAt, 12), *res.License.ExpiresAt)
}

func TestCRMOrderFlowEndToEnd(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		s := stack.Start(t, store, stack.Options{})
		r := s.Call(http.MethodPost, "/api/v1/orders", `{"id":"crm-500","customer_email":"crm@example.com","customer_name":"Cris","tier":"restaurant"}`)
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		var o models.Order
		r.JSON(t, &o)
		assert.Equal(t, models.OrderPending, o.Status)
		assert.Equal(t, int64(24900), o.AmountCents)

		var first, second api.OrderPaid
		r = s.Call(http.MethodPost, "/api/v1/orders/crm-500/paid", `{"payment_ref":"wire-1"}`)
		require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
		r.JSON(t, &first)
		r = s.Call(http.MethodPost, "/api/v1/orders/crm-500/paid", `{"payment_ref":"wire-1"}`)
		require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
		r.JSON(t, &second)
		assert.Equal(t, first.License.ID, second.License.ID, "paid twice, one license")
		v := s.WaitIssued(first.License.ID)
		delivered, err := store.ListEmails(ctx, models.EmailFilter{LicenseID: v.ID, Template: "delivery"})
		require.NoError(t, err)
		assert.Len(t, delivered, 1)

		r = s.Call(http.MethodPost, "/api/v1/orders", fmt.Sprintf(`{"id":"crm-501","kind":"renewal","license_id":%q}`, v.ID))
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		for range 2 {
			r = s.Call(http.MethodPost, "/api/v1/orders/crm-501/paid", nil)
			require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		}
		var renewed api.OrderPaid
		r.JSON(t, &renewed)
		assert.Equal(t, v.DLID, renewed.License.DLID)
		assert.Equal(t, models.AddMonths(*v.ExpiresAt, 12), *renewed.License.ExpiresAt, "one renewal, not two")
		assert.Equal(t, 1, renewed.License.Workflow.Renewals)

		r = s.Call(http.MethodPost, "/api/v1/orders", `{"kind":"renewal","license_id":"lic_nope"}`)
		assert.Equal(t, http.StatusUnprocessableEntity, r.Status)
		assert.Equal(t, "license_id", r.Error(t).Field)
		r = s.Call(http.MethodPost, "/api/v1/orders/crm-404/paid", nil)
		assert.Equal(t, http.StatusNotFound, r.Status)
	})
}
