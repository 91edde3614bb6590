package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/models"
)

// An add-on is sold through a CRM order like a renewal: recorded pending at
// the catalog's add-on price, then paid, which asks the license's workflow
// to grant the product against that order (the workflow invoices it).
func TestAnAddonOrderIsPricedFromTheCatalogAndGrantedWhenPaid(t *testing.T) {
	a := newAPITest(t)
	l := a.issued("addon-base", "pos")
	body := `{"id":"addon-1","kind":"addon","license_id":"` + l.ID + `","product":" Child "}`
	w := a.call(adminToken, http.MethodPost, "/api/v1/orders", body)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	o := decodeAs[api.OrderView](t, w.Body.Bytes())
	assert.Equal(t, models.OrderAddon, o.Kind)
	assert.Equal(t, "child", o.Product)
	assert.Equal(t, int64(2900), o.AmountCents, "the example catalog sells the child theme for 29 EUR")
	assert.Equal(t, "EUR", o.Currency)
	assert.Equal(t, l.ID, o.LicenseID)
	assert.Equal(t, http.StatusOK, a.call(adminToken, http.MethodPost, "/api/v1/orders", body).Code, "the same order again is the same order")
	a.refused(http.MethodPost, "/api/v1/orders", `{"id":"addon-1","kind":"addon","license_id":"`+l.ID+`","product":"npo"}`, 409, "order_exists")

	w = a.call(adminToken, http.MethodPost, "/api/v1/orders/addon-1/paid", `{"payment_ref":"bank-1"}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	updates := a.flows.Updates()
	require.Len(t, updates, 1)
	assert.Equal(t, &models.AddEntitlementRequest{Product: "child", OrderID: "addon-1", Actor: "token:admin"}, updates[0].Msg)
	paid, err := a.store.GetOrder(context.Background(), "addon-1")
	require.NoError(t, err)
	assert.Equal(t, models.OrderPaid, paid.Status)

	// The CRM may sell it for another amount, as for any order.
	w = a.call(adminToken, http.MethodPost, "/api/v1/orders", `{"id":"addon-2","kind":"addon","license_id":"`+l.ID+`","product":"npo","amount_cents":3900,"currency":"usd"}`)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	o = decodeAs[api.OrderView](t, w.Body.Bytes())
	assert.Equal(t, int64(3900), o.AmountCents)
	assert.Equal(t, "USD", o.Currency)
}

func TestAddonOrdersThatCannotBeSoldAreRefusedAndNothingIsRecorded(t *testing.T) {
	a := newAPITest(t)
	ctx := context.Background()
	l := a.issued("addon-refused", "pos")
	// The pos product is the tier's own; sold as an add-on too, it is still refused for this license.
	w := a.call(adminToken, http.MethodPut, "/api/v1/products/pos", `{"repo":"MokoSuitePOS","name":"MokoSuite POS","platform":"both","addon_price_cents":5000,"addon_currency":"eur"}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())

	trial := a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"taster@example.com","tier":"suite","order_id":"addon-trial","type":"trial"}`)
	require.Equal(t, http.StatusAccepted, trial.Code, trial.Body.String())
	trialID := models.LicenseIDForOrder("addon-trial")
	expires := models.Instant(time.Now().Add(14 * 24 * time.Hour))
	_, err := a.store.MintLicense(ctx, models.Mint{LicenseID: trialID, TierKey: "suite", MaxDomains: 3, StartsAt: time.Now(), ExpiresAt: &expires})
	require.NoError(t, err)
	a.withMaster()

	order := func(license, rest string) string {
		return `{"id":"refused-1","kind":"addon","license_id":"` + license + `"` + rest + `}`
	}
	for _, c := range []struct {
		body   string
		status int
		code   string
	}{
		{order(l.ID, ``), 422, "missing_product"},
		{order(l.ID, `,"product":"nosuch"`), 422, "product_not_found"},
		{order(l.ID, `,"product":"base"`), 422, "addon_not_for_sale"},
		{order(l.ID, `,"product":"pos"`), 409, "already_entitled"},
		{order(l.ID, `,"product":"child","months":12`), 422, "invalid_addon_order"},
		{order(l.ID, `,"product":"child","amount_cents":-1`), 422, "invalid_amount"},
		{order(trialID, `,"product":"child"`), 409, "trial_addon"},
		{order(models.MasterLicenseID, `,"product":"child"`), 409, "master_license"},
		{order("lic_nope", `,"product":"child"`), 422, "license_not_found"},
		{`{"id":"refused-1","kind":"addon","product":"child"}`, 422, "missing_license_id"},
		{`{"id":"refused-1","customer_email":"a@example.com","tier":"pos","product":"child"}`, 422, "unexpected_product"},
	} {
		a.refused(http.MethodPost, "/api/v1/orders", c.body, c.status, c.code)
	}
	_, err = a.store.GetOrder(ctx, "refused-1")
	assert.ErrorIs(t, err, models.ErrNotFound, "nothing recorded")

	require.NoError(t, a.store.DB().Model(&models.License{}).Where("id = ?", l.ID).Update("status", models.StatusSuspended).Error)
	a.refused(http.MethodPost, "/api/v1/orders", order(l.ID, `,"product":"child"`), 409, "license_suspended")
}
