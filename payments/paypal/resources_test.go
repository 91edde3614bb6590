package paypal_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/payments/paypal"
	"github.com/licenseflow/licenseflow/payments/paypal/paypaltest"
)

// delivered is the event in testdata/name, delivered and verified the way
// PayPal's would be.
func delivered(t *testing.T, name string) paypal.Event {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	pp := paypaltest.New(t)
	ev, err := pp.Verifier(webhookID).Verify(context.Background(), body, pp.Sign(body, webhookID, time.Now()))
	require.NoError(t, err)
	return ev
}

func TestACompletedCheckoutOrderNamesItsBuyerUnitAndCapture(t *testing.T) {
	ev := delivered(t, "checkout-order-completed.json")
	assert.Equal(t, paypal.CheckoutOrderCompleted, ev.EventType)
	assert.Equal(t, "checkout-order", ev.ResourceType)
	assert.Equal(t, time.Date(2026, 3, 2, 9, 14, 27, 512e6, time.UTC), ev.CreateTime.UTC())

	var o paypal.Order
	require.NoError(t, ev.Decode(&o))
	assert.Equal(t, "8RW40716JN2249712", o.ID)
	assert.Equal(t, "COMPLETED", o.Status)
	assert.Equal(t, "bea.keller@example.com", o.Email())
	assert.Equal(t, "Bea Keller", o.Name())
	assert.Equal(t, "DE", o.Country())
	assert.Equal(t, "4MD18836TU590251K", o.CaptureID())
	u, ok := o.Unit()
	require.True(t, ok)
	assert.Equal(t, "ord_2f9c41d07a", u.ReferenceID)
	assert.Equal(t, "ord_2f9c41d07a", u.CustomID)
	assert.Equal(t, "LF-2026-000412", u.InvoiceID)
	cents, err := u.Amount.Cents()
	require.NoError(t, err)
	assert.Equal(t, int64(14900), cents)
	assert.Equal(t, "EUR", u.Amount.CurrencyCode)
}

func TestAnOrderIsReadWhateverItLacks(t *testing.T) {
	var none paypal.Order
	_, ok := none.Unit()
	assert.False(t, ok)
	assert.Empty(t, none.CaptureID())
	assert.Empty(t, none.Name())

	var o paypal.Order
	require.NoError(t, (paypal.Event{Resource: []byte(`{
		"payer": {"name": {"surname": "Keller"}},
		"purchase_units": [{"payments": {"captures": [
			{"id": "1PENDING0000000A", "status": "PENDING"},
			{"id": "2DONE00000000000B", "status": "COMPLETED"}]}}]}`)}).Decode(&o))
	assert.Equal(t, "Keller", o.Name(), "no stray space without a given name")
	assert.Equal(t, "2DONE00000000000B", o.CaptureID(), "a pending capture carries no money")
}

func TestACompletedCaptureNamesItsOrder(t *testing.T) {
	ev := delivered(t, "payment-capture-completed.json")
	assert.Equal(t, paypal.CaptureCompleted, ev.EventType)
	var c paypal.Capture
	require.NoError(t, ev.Decode(&c))
	assert.Equal(t, "4MD18836TU590251K", c.ID)
	assert.Equal(t, "COMPLETED", c.Status)
	assert.Equal(t, "ord_2f9c41d07a", c.CustomID)
	assert.Equal(t, "LF-2026-000412", c.InvoiceID)
	assert.Equal(t, "8RW40716JN2249712", c.OrderID())
	assert.Equal(t, paypal.Money{CurrencyCode: "EUR", Value: "149.00"}, c.Amount)
}

func TestARefundedCaptureNamesTheCaptureInItsUpLink(t *testing.T) {
	ev := delivered(t, "payment-capture-refunded.json")
	assert.Equal(t, paypal.CaptureRefunded, ev.EventType)
	var r paypal.Refund
	require.NoError(t, ev.Decode(&r))
	assert.Equal(t, "0YB51298HE7716304", r.ID)
	assert.Equal(t, "COMPLETED", r.Status)
	assert.Equal(t, "4MD18836TU590251K", r.CaptureID())
	refunded, err := r.Amount.Cents()
	require.NoError(t, err)
	assert.Equal(t, int64(4900), refunded)
	total, err := r.SellerPayableBreakdown.TotalRefundedAmount.Cents()
	require.NoError(t, err)
	assert.Equal(t, int64(7900), total, "cumulative over every refund of the capture")
}

func TestOnlyAnUpLinkToACaptureNamesTheRefundsCapture(t *testing.T) {
	for _, tc := range []struct {
		name  string
		links []paypal.Link
		want  string
	}{
		{"an up link to a capture", []paypal.Link{{Href: "https://api.paypal.com/v2/payments/captures/4MD18836TU590251K", Rel: "up"}}, "4MD18836TU590251K"},
		{"the sandbox", []paypal.Link{{Href: "https://api.sandbox.paypal.com/v2/payments/captures/4MD18836TU590251K", Rel: "up"}}, "4MD18836TU590251K"},
		{"after a self link", []paypal.Link{
			{Href: "https://api.paypal.com/v2/payments/refunds/0YB51298HE7716304", Rel: "self"},
			{Href: "https://api.paypal.com/v2/payments/captures/4MD18836TU590251K", Rel: "up"},
		}, "4MD18836TU590251K"},
		{"no links", nil, ""},
		{"a self link only", []paypal.Link{{Href: "https://api.paypal.com/v2/payments/captures/4MD18836TU590251K", Rel: "self"}}, ""},
		{"an up link to an order", []paypal.Link{{Href: "https://api.paypal.com/v2/checkout/orders/8RW40716JN2249712", Rel: "up"}}, ""},
		{"an up link below a capture", []paypal.Link{{Href: "https://api.paypal.com/v2/payments/captures/4MD18836TU590251K/refund", Rel: "up"}}, ""},
		{"an up link without an id", []paypal.Link{{Href: "https://api.paypal.com/v2/payments/captures/", Rel: "up"}}, ""},
		{"an up link that is no URL", []paypal.Link{{Href: "%zz", Rel: "up"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, paypal.Refund{Links: tc.links}.CaptureID())
		})
	}
}

func TestACompletedSaleNamesItsSubscription(t *testing.T) {
	ev := delivered(t, "payment-sale-completed.json")
	assert.Equal(t, paypal.SaleCompleted, ev.EventType)
	var s paypal.Sale
	require.NoError(t, ev.Decode(&s))
	assert.Equal(t, "7AN63215GF8830457", s.ID)
	assert.Equal(t, "completed", s.State)
	assert.Equal(t, "I-9KXR2D7WQ4LM", s.BillingAgreementID)
	assert.Equal(t, "sub_lic_51c0e2", s.Custom)
	cents, currency, err := s.Cents()
	require.NoError(t, err)
	assert.Equal(t, int64(2900), cents)
	assert.Equal(t, "EUR", currency)

	_, _, err = paypal.Sale{Amount: paypal.SaleAmount{Total: "29,00", Currency: "EUR"}}.Cents()
	assert.ErrorContains(t, err, `PayPal amount "29,00" EUR is not a plain decimal`)
}

func TestARefundedSaleNamesTheSale(t *testing.T) {
	ev := delivered(t, "payment-sale-refunded.json")
	assert.Equal(t, paypal.SaleRefunded, ev.EventType)
	var r paypal.SaleRefund
	require.NoError(t, ev.Decode(&r))
	assert.Equal(t, "2LT80564RC9931726", r.ID)
	assert.Equal(t, "completed", r.State)
	assert.Equal(t, "7AN63215GF8830457", r.SaleID)
	assert.Equal(t, paypal.SaleAmount{Total: "29.00", Currency: "EUR"}, r.Amount)
	assert.Equal(t, "29.00", r.TotalRefundedAmount.Value)
	assert.Equal(t, "EUR", r.TotalRefundedAmount.Currency)
}

func TestADisputeNamesTheTransactionsItIsAbout(t *testing.T) {
	ev := delivered(t, "customer-dispute-created.json")
	assert.Equal(t, paypal.DisputeCreated, ev.EventType)
	var d paypal.Dispute
	require.NoError(t, ev.Decode(&d))
	assert.Equal(t, "PP-R-QKM-10458813", d.DisputeID)
	assert.Equal(t, "MERCHANDISE_OR_SERVICE_NOT_RECEIVED", d.Reason)
	assert.Equal(t, "OPEN", d.Status)
	assert.Equal(t, []string{"4MD18836TU590251K"}, d.TransactionIDs())
	assert.Equal(t, paypal.Money{CurrencyCode: "EUR", Value: "149.00"}, d.DisputeAmount)

	var blank paypal.Dispute
	require.NoError(t, (paypal.Event{Resource: []byte(`{"disputed_transactions":[{"seller_transaction_id":""},{"seller_transaction_id":"7AN63215GF8830457"}]}`)}).Decode(&blank))
	assert.Equal(t, []string{"7AN63215GF8830457"}, blank.TransactionIDs(), "a transaction without the seller's id names nothing")
}

func TestACancelledSubscriptionNamesItsSubscriberAndPlan(t *testing.T) {
	ev := delivered(t, "billing-subscription-cancelled.json")
	assert.Equal(t, paypal.SubscriptionCancelled, ev.EventType)
	var s paypal.Subscription
	require.NoError(t, ev.Decode(&s))
	assert.Equal(t, "I-9KXR2D7WQ4LM", s.ID)
	assert.Equal(t, "CANCELLED", s.Status)
	assert.Equal(t, "P-4VE21873XB6630155MKQW7RA", s.PlanID)
	assert.Equal(t, "sub_lic_51c0e2", s.CustomID)
	assert.Equal(t, "ops@restaurant.example", s.Subscriber.EmailAddress)
	assert.Equal(t, "Jonas Ortmann", s.Subscriber.Name.Full())
	assert.Equal(t, time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC), s.BillingInfo.NextBillingTime)
}

func TestAResourceOfAnotherShapeDoesNotDecode(t *testing.T) {
	ev := paypal.Event{ID: "WH-1", EventType: paypal.CaptureCompleted, Resource: []byte(`{"id": 42}`)}
	err := ev.Decode(&paypal.Capture{})
	assert.ErrorContains(t, err, "read PAYMENT.CAPTURE.COMPLETED event WH-1")

	assert.Error(t, paypal.Event{ID: "WH-2"}.Decode(&paypal.Capture{}), "an event without a resource has nothing to decode")
}

// Every amount is kept in hundredths of its currency unit, whatever the
// currency (models.FormatMoney prints cents/100 with two decimals).
func TestParseAmountReadsPlainDecimalsAsHundredths(t *testing.T) {
	for _, tc := range []struct {
		value, currency string
		want            int64
		err             string
	}{
		{value: "49.00", currency: "EUR", want: 4900},
		{value: "49", currency: "EUR", want: 4900},
		{value: "49.5", currency: "EUR", want: 4950},
		{value: "0.01", currency: "USD", want: 1},
		{value: "0", currency: "USD", want: 0},
		{value: "007.10", currency: "USD", want: 710},
		{value: "1000", currency: "JPY", want: 100000},
		{value: "999999999999999", currency: "HUF", want: 99999999999999900},
		{value: "9999999999999.99", currency: "USD", want: 999999999999999},
		{value: "", currency: "EUR", err: "PayPal amount is empty"},
		{value: "-49.00", currency: "EUR", err: `PayPal amount "-49.00" EUR is negative`},
		{value: "+49.00", currency: "EUR", err: "is not a plain decimal"},
		{value: "49.001", currency: "EUR", err: `PayPal amount "49.001" EUR has more than two decimals`},
		{value: "4.9e1", currency: "EUR", err: "is not a plain decimal"},
		{value: "1E2", currency: "EUR", err: "is not a plain decimal"},
		{value: " 49.00", currency: "EUR", err: "is not a plain decimal"},
		{value: "49.00 ", currency: "EUR", err: "is not a plain decimal"},
		{value: "4 900", currency: "EUR", err: "is not a plain decimal"},
		{value: "1,000.00", currency: "EUR", err: "is not a plain decimal"},
		{value: "49,00", currency: "EUR", err: "is not a plain decimal"},
		{value: "49.", currency: "EUR", err: "is not a plain decimal"},
		{value: ".50", currency: "EUR", err: "is not a plain decimal"},
		{value: "1.2.3", currency: "EUR", err: "is not a plain decimal"},
		{value: "0x31", currency: "EUR", err: "is not a plain decimal"},
		{value: "NaN", currency: "EUR", err: "is not a plain decimal"},
		{value: "Inf", currency: "EUR", err: "is not a plain decimal"},
		{value: "４９", currency: "JPY", err: "is not a plain decimal"},
		{value: "1000000000000000", currency: "USD", err: "has more than 15 digits"},
		{value: "99999999999999.99", currency: "USD", err: "has more than 15 digits"},
		{value: "49.00", currency: "", want: 4900},
		{value: "49.000", currency: "", err: `PayPal amount "49.000" has more than two decimals`},
	} {
		t.Run(tc.value+" "+tc.currency, func(t *testing.T) {
			got, err := paypal.ParseAmount(tc.value, tc.currency)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				assert.Zero(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
