package paymenthooks_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/lifecycle/lifecyclefake"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/paymenthooks"
	"github.com/licenseflow/licenseflow/payments"
	"github.com/licenseflow/licenseflow/testsupport"
)

// newCreditHookTest is newHookTest with credit notes laid out.
func newCreditHookTest(t *testing.T) *hookTest {
	t.Helper()
	gin.SetMode(gin.TestMode)
	st := testsupport.SQLite(t)
	flows := &lifecyclefake.Fake{}
	r := httpx.NewRouter(httpx.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Database: st})
	paymenthooks.Mount(r, paymenthooks.Deps{Store: st, Lifecycle: flows, WebhookSecrets: []string{secret},
		RenderCreditNote: func(models.CreditNote, models.Invoice) ([]byte, error) { return []byte("%PDF-1.3"), nil }})
	return &hookTest{t: t, store: st, flows: flows, router: r}
}

// taxedCheckout is a French business's checkout on which Stripe Tax
// computed nothing (reverse charge), or a consumer's on which it did.
func taxedCheckout(id string, tax int64, vatID string) map[string]any {
	cs := checkout(id, id+"@example.com")
	cs["amount_total"] = 14900 + tax
	cs["total_details"] = map[string]any{"amount_discount": 0, "amount_tax": tax}
	details := map[string]any{"email": id + "@example.com", "name": "Bea Buyer", "address": map[string]any{"country": "FR"}}
	if vatID != "" {
		details["tax_ids"] = []any{map[string]any{"type": "eu_vat", "value": vatID}}
	}
	cs["customer_details"] = details
	return cs
}

func refund(id, charge, paymentIntent string, amount, refunded int64) map[string]any {
	return map[string]any{"id": charge, "object": "charge", "payment_intent": paymentIntent, "currency": "eur",
		"refunded": refunded == amount, "amount": amount, "amount_refunded": refunded}
}

// invoiced issues the order's invoice as the workflow would (seller in DE).
func (h *hookTest) invoiced(orderID string) models.Invoice {
	h.t.Helper()
	inv, _, err := h.store.IssueInvoice(h.t.Context(), orderID, time.Now(), models.TaxPolicy{SellerCountry: "DE"},
		func(models.Invoice) ([]byte, error) { return []byte("%PDF-1.3"), nil })
	require.NoError(h.t, err)
	return inv
}

func TestCheckoutRecordsTheBuyersCountryVATIDAndStripeTax(t *testing.T) {
	h := newCreditHookTest(t)
	require.Equal(t, models.PaymentEventProcessed, decode(t, h.deliver(event("evt_b2b", payments.CheckoutCompleted, taxedCheckout("cs_b2b", 0, "FR 40 303265045")))).Outcome)
	inv := h.invoiced("stripe:cs_b2b")
	assert.Equal(t, "FR", inv.CustomerCountry)
	assert.Equal(t, "FR40303265045", inv.CustomerVATID)
	assert.Equal(t, models.TaxReverseCharge, inv.TaxTreatment)
	assert.Equal(t, []int64{14900, 0, 14900}, []int64{inv.SubtotalCents, inv.TaxCents, inv.TotalCents})

	require.Equal(t, models.PaymentEventProcessed, decode(t, h.deliver(event("evt_b2c", payments.CheckoutCompleted, taxedCheckout("cs_b2c", 2980, "")))).Outcome)
	inv = h.invoiced("stripe:cs_b2c")
	assert.Equal(t, models.TaxStripe, inv.TaxTreatment, "Stripe's tax, not the table")
	assert.Equal(t, []int64{14900, 2980, 17880}, []int64{inv.SubtotalCents, inv.TaxCents, inv.TotalCents})

	// A VAT ID that does not check out is dropped: the paid purchase stands, taxed as a consumer's.
	require.Equal(t, models.PaymentEventProcessed, decode(t, h.deliver(event("evt_bad", payments.CheckoutCompleted, taxedCheckout("cs_bad", 0, "FR123")))).Outcome)
	inv = h.invoiced("stripe:cs_bad")
	assert.Empty(t, inv.CustomerVATID)
	assert.Equal(t, models.TaxDestination, inv.TaxTreatment, "no Stripe tax: the table, on what was paid (gross)")
	assert.Equal(t, []int64{12417, 2483, 14900}, []int64{inv.SubtotalCents, inv.TaxCents, inv.TotalCents})
}

// TestRefundsIssueCreditNotes: partial refunds credit the newly refunded
// part and leave the license active, a redelivery issues nothing, the full
// refund credits the rest and suspends, and the notes cancel the invoice
// to the cent. A forged refund changes nothing.
func TestRefundsIssueCreditNotes(t *testing.T) {
	h := newCreditHookTest(t)
	require.Equal(t, models.PaymentEventProcessed, decode(t, h.deliver(event("evt_buy", payments.CheckoutCompleted, taxedCheckout("cs_r", 2980, "")))).Outcome)
	inv := h.invoiced("stripe:cs_r")
	notes := func() []models.CreditNote {
		out, err := h.store.InvoiceCreditNotes(t.Context(), inv.Number)
		require.NoError(t, err)
		return out
	}

	// Forged: not signed with the endpoint's secret.
	req := httptest.NewRequest(http.MethodPost, "/api/v1/webhooks/stripe", strings.NewReader(string(event("evt_forged", payments.ChargeRefunded, refund("", "ch_r", "pi_cs_r", 17880, 17880)))))
	req.Header.Set("Stripe-Signature", "t=1,v1=deadbeef")
	w := httptest.NewRecorder()
	h.router.ServeHTTP(w, req)
	assert.Equal(t, http.StatusBadRequest, w.Code)
	assert.Empty(t, notes(), "a forged refund issues no credit note")

	a := decode(t, h.deliver(event("evt_p1", payments.ChargeRefunded, refund("", "ch_r", "pi_cs_r", 17880, 5000))))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	assert.Contains(t, a.Reason, "the license stays active")
	require.Len(t, notes(), 1)
	assert.Equal(t, int64(5000), notes()[0].TotalCents)
	assert.Empty(t, h.flows.Signals(), "a partial refund suspends nothing")

	a = decode(t, h.deliver(event("evt_p1", payments.ChargeRefunded, refund("", "ch_r", "pi_cs_r", 17880, 5000))))
	assert.True(t, a.Duplicate)
	assert.Len(t, notes(), 1, "a duplicate event issues no second note")

	a = decode(t, h.deliver(event("evt_p2", payments.ChargeRefunded, refund("", "ch_r", "pi_cs_r", 17880, 8000))))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	require.Len(t, notes(), 2)
	assert.Equal(t, int64(3000), notes()[1].TotalCents, "amount_refunded is cumulative: only the new 30.00")

	a = decode(t, h.deliver(event("evt_full", payments.ChargeRefunded, refund("", "ch_r", "pi_cs_r", 17880, 17880))))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	all := notes()
	require.Len(t, all, 3)
	var total, tax int64
	for _, n := range all {
		total, tax = total+n.TotalCents, tax+n.TaxCents
	}
	assert.Equal(t, inv.TotalCents, total, "the notes cancel the invoice to the cent")
	assert.Equal(t, inv.TaxCents, tax)
	got, err := h.store.GetInvoice(t.Context(), inv.Number)
	require.NoError(t, err)
	assert.Equal(t, models.InvoiceCredited, got.Status)
	require.Len(t, h.flows.Signals(), 1, "the full refund suspends the license")
	_, ok := h.flows.Signals()[0].Msg.(*models.SuspendRequest)
	assert.True(t, ok)
}

func TestAFullRefundIssuesOneCreditNoteForTheWholeInvoice(t *testing.T) {
	h := newCreditHookTest(t)
	require.Equal(t, models.PaymentEventProcessed, decode(t, h.deliver(event("evt_buy", payments.CheckoutCompleted, taxedCheckout("cs_f", 2980, "")))).Outcome)
	inv := h.invoiced("stripe:cs_f")
	a := decode(t, h.deliver(event("evt_full", payments.ChargeRefunded, refund("", "ch_f", "pi_cs_f", 17880, 17880))))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	notes, err := h.store.InvoiceCreditNotes(t.Context(), inv.Number)
	require.NoError(t, err)
	require.Len(t, notes, 1)
	assert.Equal(t, []int64{inv.SubtotalCents, inv.TaxCents, inv.TotalCents}, []int64{notes[0].SubtotalCents, notes[0].TaxCents, notes[0].TotalCents})
	assert.Equal(t, "stripe:evt_full", notes[0].Source)
	o, err := h.store.GetOrder(t.Context(), "stripe:cs_f")
	require.NoError(t, err)
	assert.Equal(t, models.OrderRefunded, o.Status)
}
