package paymenthooks_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments"
)

// addonSession is the completed session of the portal's add-on button:
// the license and the product in its metadata, as
// payments.CreateAddonSession writes them.
func addonSession(id, licenseID, product string, amount int64, currency string) map[string]any {
	s := checkout(id, "bea@example.com")
	s["metadata"], s["amount_total"], s["currency"] = map[string]any{"license_id": licenseID, "addon": product}, amount, currency
	return s
}

// A paid add-on session records an add-on order and asks the license to
// grant the product against it, once; a session that does not pay the
// catalog's add-on price, in its currency, for a product sold as an
// add-on grants nothing.
func TestAnAddonCheckoutGrantsOnlyWhatItPaysFor(t *testing.T) {
	h := newHookTest(t)
	require.Equal(t, models.PaymentEventProcessed, decode(t, h.deliver(event("evt_buy", payments.CheckoutCompleted, checkout("cs_buy", "bea@example.com")))).Outcome)
	licenseID := h.flows.Starts()[0].License.ID

	for _, c := range []struct {
		what     string
		session  map[string]any
		contains string
	}{
		{"less than the price", addonSession("cs_cheap", licenseID, "child", 2899, "eur"), "costs 29.00 EUR"},
		{"another currency", addonSession("cs_usd", licenseID, "child", 2900, "usd"), "costs 29.00 EUR"},
		{"a product not sold on its own", addonSession("cs_base", licenseID, "base", 99900, "eur"), "not sold as an add-on"},
	} {
		a := decode(t, h.deliver(event("evt_"+c.session["id"].(string), payments.CheckoutCompleted, c.session)))
		assert.Equal(t, models.PaymentEventNeedsReview, a.Outcome, c.what)
		assert.Contains(t, a.Reason, c.contains, c.what)
	}
	a := decode(t, h.deliver(event("evt_nosuch", payments.CheckoutCompleted, addonSession("cs_nosuch", licenseID, "nosuch", 2900, "eur"))))
	assert.NotEqual(t, models.PaymentEventProcessed, a.Outcome, "an unknown product grants nothing")
	a = decode(t, h.deliver(event("evt_nolicense", payments.CheckoutCompleted, addonSession("cs_nolicense", "lic_nope", "child", 2900, "eur"))))
	assert.NotEqual(t, models.PaymentEventProcessed, a.Outcome, "an unknown license gets nothing")
	assert.Empty(t, h.flows.Signals(), "nothing granted")
	orders, err := h.store.ListOrders(t.Context(), licenseID)
	require.NoError(t, err)
	assert.Len(t, orders, 1, "no add-on order recorded: only the purchase")

	paid := addonSession("cs_child", licenseID, "child", 2900, "eur")
	w := h.deliver(event("evt_child", payments.CheckoutCompleted, paid))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	a = decode(t, w)
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	o, err := h.store.GetOrder(t.Context(), "stripe:cs_child")
	require.NoError(t, err)
	assert.Equal(t, models.OrderAddon, o.Kind)
	assert.Equal(t, "child", o.Product)
	assert.Equal(t, licenseID, o.LicenseID)
	assert.Equal(t, int64(2900), o.AmountCents)
	assert.True(t, o.AmountIncludesTax, "a Stripe payment is what the customer paid, tax included")
	signals := h.flows.Signals()
	require.Len(t, signals, 1)
	assert.Equal(t, &models.AddEntitlementRequest{Product: "child", OrderID: "stripe:cs_child", Actor: "stripe:evt_child"}, signals[0].Msg)

	assert.True(t, decode(t, h.deliver(event("evt_child", payments.CheckoutCompleted, paid))).Duplicate, "a redelivery is a duplicate")
	// The same session in another event signals the same order again: the
	// workflow changes nothing for an order it has seen.
	again := decode(t, h.deliver(event("evt_child_again", payments.CheckoutCompleted, paid)))
	assert.Equal(t, models.PaymentEventProcessed, again.Outcome, again.Reason)
	require.Len(t, h.flows.Signals(), 2)
	assert.Equal(t, signals[0].Msg.(*models.AddEntitlementRequest).DedupeRef(), h.flows.Signals()[1].Msg.(*models.AddEntitlementRequest).DedupeRef())
}

// A refunded add-on takes back the product, with a credit note for its
// invoice; the license the customer paid for separately stays active. A
// dispute of the add-on's payment still suspends the license.
func TestARefundedAddonIsTakenBackNotTheLicense(t *testing.T) {
	h := newCreditHookTest(t)
	require.Equal(t, models.PaymentEventProcessed, decode(t, h.deliver(event("evt_buy", payments.CheckoutCompleted, checkout("cs_buy", "bea@example.com")))).Outcome)
	licenseID := h.flows.Starts()[0].License.ID
	require.Equal(t, models.PaymentEventProcessed, decode(t, h.deliver(event("evt_child", payments.CheckoutCompleted, addonSession("cs_child", licenseID, "child", 2900, "eur")))).Outcome)
	inv := h.invoiced("stripe:cs_child")

	a := decode(t, h.deliver(event("evt_refund_child", payments.ChargeRefunded, refund("", "ch_child", "pi_cs_child", 2900, 2900))))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	signals := h.flows.Signals()
	require.Len(t, signals, 2, "the add-on, then its removal")
	removal, ok := signals[1].Msg.(*models.RemoveEntitlementRequest)
	require.True(t, ok, "a refund of an add-on removes it: %#v", signals[1].Msg)
	assert.Equal(t, "child", removal.Product)
	assert.Equal(t, "evt_refund_child", removal.RequestID, "a redelivered refund removes once")
	assert.Contains(t, removal.Reason, "refunded")
	notes, err := h.store.InvoiceCreditNotes(t.Context(), inv.Number)
	require.NoError(t, err)
	require.Len(t, notes, 1)
	assert.Equal(t, inv.TotalCents, notes[0].TotalCents, "the credit note cancels the add-on's invoice")
	o, err := h.store.GetOrder(t.Context(), "stripe:cs_child")
	require.NoError(t, err)
	assert.Equal(t, models.OrderRefunded, o.Status)

	require.Equal(t, models.PaymentEventProcessed, decode(t, h.deliver(event("evt_npo", payments.CheckoutCompleted, addonSession("cs_npo", licenseID, "npo", 4900, "eur")))).Outcome)
	dispute := map[string]any{"id": "dp_npo", "object": "dispute", "payment_intent": "pi_cs_npo", "reason": "fraudulent", "amount": 4900, "currency": "eur"}
	a = decode(t, h.deliver(event("evt_dispute_npo", payments.DisputeCreated, dispute)))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	last := h.flows.Signals()[len(h.flows.Signals())-1]
	_, suspends := last.Msg.(*models.SuspendRequest)
	assert.True(t, suspends, "a disputed add-on payment suspends the license: %#v", last.Msg)
}
