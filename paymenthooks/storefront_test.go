package paymenthooks_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments"
)

// storefrontSession is the completed session of a checkout the plans page
// recorded: tier, months, domains and order in its metadata, as
// payments.CreatePurchaseSession writes them.
func (h *hookTest) storefrontSession(id, orderID, tier, email string) map[string]any {
	h.t.Helper()
	require.NoError(h.t, h.store.CreateCheckout(h.t.Context(), models.Checkout{SessionID: id, OrderID: orderID, TierKey: tier,
		Term: "yearly", Months: 12, MaxDomains: 3, Email: email, AmountCents: 14900, Currency: "EUR"}))
	s := checkout(id, "someone-else@example.com")
	s["client_reference_id"] = orderID
	s["metadata"] = map[string]any{"tier": tier, "months": "12", "max_domains": "3", "order_id": orderID}
	return s
}

// A plans-page session becomes the order it was made for, issued to the
// address the buyer gave on licenseflow's page; a redelivery changes
// nothing.
func TestAStorefrontCheckoutBecomesItsOrder(t *testing.T) {
	h := newHookTest(t)
	session := h.storefrontSession("cs_shop_1", "ord_shop_1", "pos", "buyer@example.com")
	w := h.deliver(event("evt_shop_1", payments.CheckoutCompleted, session))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Equal(t, models.PaymentEventProcessed, decode(t, w).Outcome)
	o, err := h.store.GetOrder(t.Context(), "ord_shop_1")
	require.NoError(t, err)
	assert.Equal(t, "buyer@example.com", o.Customer.Email, "the address given on the plans page, not another in Stripe")
	assert.Equal(t, "cs_shop_1", o.StripeCheckoutSessionID)
	assert.Equal(t, models.LicenseIDForOrder("ord_shop_1"), o.LicenseID)

	again := decode(t, h.deliver(event("evt_shop_1", payments.CheckoutCompleted, session)))
	assert.True(t, again.Duplicate)
	other := decode(t, h.deliver(event("evt_shop_1b", payments.CheckoutCompleted, session))) // the same session, another event
	assert.Equal(t, models.PaymentEventProcessed, other.Outcome, other.Reason)
	assert.Len(t, h.flows.Starts(), 2, "the workflow start is idempotent on the license's id")
	assert.Equal(t, h.flows.Starts()[0].License.ID, h.flows.Starts()[1].License.ID, "one license")
	st, err := h.store.CheckoutStatus(t.Context(), models.Checkout{OrderID: "ord_shop_1"}, "Point of Sale")
	require.NoError(t, err)
	assert.Equal(t, models.CheckoutIssuing, st.Stage, "paid, the license pending until its workflow issues it")
}

// The metadata's order id counts only for the session its checkout was
// recorded with: a session made elsewhere that names a plans-page order
// is a purchase of its own, and takes no one's order.
func TestAnOrderIDInMetadataTakesNoOneElsesOrder(t *testing.T) {
	h := newHookTest(t)
	h.storefrontSession("cs_shop_real", "ord_shop_real", "pos", "buyer@example.com")
	forged := checkout("cs_forged", "mallory@example.com")
	forged["metadata"] = map[string]any{"tier": "pos", "order_id": "ord_shop_real"}
	require.Equal(t, models.PaymentEventProcessed, decode(t, h.deliver(event("evt_forged", payments.CheckoutCompleted, forged))).Outcome)
	_, err := h.store.GetOrder(t.Context(), "ord_shop_real")
	assert.ErrorIs(t, err, models.ErrNotFound, "the plans-page order is still unpaid")
	o, err := h.store.GetOrder(t.Context(), "stripe:cs_forged")
	require.NoError(t, err)
	assert.Equal(t, "mallory@example.com", o.Customer.Email)
}

// A plans-page session completed for less than its tier costs (the
// metadata names the suite, the payment is a point of sale's) is held
// for an operator, and its success page says so.
func TestAStorefrontSessionPaidAtACheaperTiersPriceIsHeld(t *testing.T) {
	h := newHookTest(t)
	session := h.storefrontSession("cs_shop_cheap", "ord_shop_cheap", "suite", "buyer@example.com")
	session["amount_total"] = 14900 // the point of sale's price; the suite costs 599.00 EUR
	a := decode(t, h.deliver(event("evt_shop_cheap", payments.CheckoutCompleted, session)))
	assert.Equal(t, models.PaymentEventNeedsReview, a.Outcome, a.Reason)
	assert.Contains(t, a.Reason, "tier suite")
	assert.Empty(t, h.flows.Starts(), "nothing issued")
	_, err := h.store.GetOrder(t.Context(), "ord_shop_cheap")
	assert.ErrorIs(t, err, models.ErrNotFound)
	co, err := h.store.GetCheckout(t.Context(), "cs_shop_cheap")
	require.NoError(t, err)
	st, err := h.store.CheckoutStatus(t.Context(), co, "Complete Suite")
	require.NoError(t, err)
	assert.Equal(t, models.CheckoutOnHold, st.Stage)
}
