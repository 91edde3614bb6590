package payments_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments"
	"github.com/licenseflow/licenseflow/testsupport"
)

// A plans-page purchase asks Stripe for the catalog's price, and names the
// tier, the months (or lifetime), the domains and a fresh order in the
// session's and the payment's metadata; the checkout is recorded under the
// session Stripe made.
func TestAPurchaseSessionCarriesTheCatalogsPriceAndItsOrder(t *testing.T) {
	st := testsupport.SQLite(t)
	mock := testsupport.StartStripeMock(t)
	checkout, err := payments.NewCheckout(payments.Config{SecretKey: "sk_test_storefront", APIURL: mock.URL})
	require.NoError(t, err)
	ctx := context.Background()
	front := &payments.Storefront{Store: st, Checkout: checkout, PublicURL: "https://licenses.vendor.example"}
	tierOf := func(key string) models.Tier {
		tier, err := st.GetTier(ctx, key)
		require.NoError(t, err)
		return tier
	}
	buy := func(tier models.Tier, term, email string) (payments.PurchaseLink, url.Values) {
		t.Helper()
		offer, domains, err := tier.ChooseOffer(models.CheckoutChoice{Term: term})
		require.NoError(t, err)
		link, err := front.Start(ctx, payments.Purchase{Tier: tier, Offer: offer, MaxDomains: domains, Email: email})
		require.NoError(t, err)
		sessions := mock.Requests(http.MethodPost, "/v1/checkout/sessions")
		return link, sessions[len(sessions)-1].Form
	}

	link, form := buy(tierOf("pos"), "yearly", "Bea@Example.com")
	assert.Equal(t, "stripe", link.Provider)
	assert.True(t, strings.HasPrefix(link.URL, "https://checkout.stripe.com/"), link.URL)
	assert.True(t, strings.HasPrefix(link.OrderID, "ord_"))
	for field, want := range map[string]string{
		"mode":                                          "payment",
		"line_items[0][quantity]":                       "1",
		"line_items[0][price_data][currency]":           "eur",
		"line_items[0][price_data][unit_amount]":        "14900",
		"line_items[0][price_data][product_data][name]": "Point of Sale, yearly",
		"metadata[tier]":                                "pos",
		"metadata[months]":                              "12",
		"metadata[max_domains]":                         "3",
		"metadata[order_id]":                            link.OrderID,
		"payment_intent_data[metadata][order_id]":       link.OrderID,
		"payment_intent_data[metadata][tier]":           "pos",
		"client_reference_id":                           link.OrderID,
		"customer_email":                                "bea@example.com",
		"success_url":                                   "https://licenses.vendor.example/checkout/success?session_id={CHECKOUT_SESSION_ID}",
		"cancel_url":                                    "https://licenses.vendor.example/plans",
	} {
		assert.Equal(t, want, form.Get(field), field)
	}
	assert.Empty(t, form.Get("metadata[lifetime]"))
	co, err := st.GetCheckout(ctx, link.SessionID)
	require.NoError(t, err)
	assert.Equal(t, models.Checkout{SessionID: link.SessionID, OrderID: link.OrderID, TierKey: "pos", Term: "yearly", Months: 12,
		MaxDomains: 3, Email: "bea@example.com", AmountCents: 14900, Currency: "EUR", CreatedAt: co.CreatedAt}, co)

	again, _ := buy(tierOf("pos"), "yearly", "bea@example.com")
	assert.NotEqual(t, link.OrderID, again.OrderID, "each purchase is an order of its own")
	assert.NotEqual(t, link.SessionID, again.SessionID)

	_, form = buy(tierOf("suite-lifetime"), "lifetime", "")
	assert.Equal(t, "true", form.Get("metadata[lifetime]"))
	assert.Empty(t, form.Get("metadata[months]"), "a lifetime license has no months")
	assert.Equal(t, "199900", form.Get("line_items[0][price_data][unit_amount]"))
	assert.Empty(t, form.Get("customer_email"), "Stripe asks for the address")

	// A tier with its own Stripe price sells whole terms of it: a monthly
	// tier by the year is twelve of that price.
	monthly := tierOf("suite-monthly")
	monthly.StripePriceID = "price_suite_monthly"
	_, form = buy(monthly, "yearly", "bea@example.com")
	assert.Equal(t, "price_suite_monthly", form.Get("line_items[0][price]"))
	assert.Equal(t, "12", form.Get("line_items[0][quantity]"))
	assert.Empty(t, form.Get("line_items[0][price_data][unit_amount]"))
	assert.Equal(t, "12", form.Get("metadata[months]"))
	assert.Equal(t, int64(0), testsupport.RowCounts(t, st)["orders"], "no order until Stripe reports the payment")
}
