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

// A token that may only write (an order flow, a CRM's update hook) read
// full keys in its answers: PATCH, POST /orders/{id}/paid on a paid order.
// Now only a token that may read licenses sees the key; the others see it
// masked, so a leaked write token reads no keys.
func TestOnlyATokenThatMayReadLicensesSeesTheirKeys(t *testing.T) {
	a := newAPITest(t)
	ctx := context.Background()
	const licensesWriter, ordersWriter = "lft_licenses-writer-token", "lft_orders-writer-token"
	_, err := a.store.EnsureToken(ctx, "licenses-writer", licensesWriter, models.StringList{string(models.ScopeLicensesWrite)})
	require.NoError(t, err)
	_, err = a.store.EnsureToken(ctx, "orders-writer", ordersWriter, models.StringList{string(models.ScopeOrdersWrite)})
	require.NoError(t, err)
	l := a.issued("key-scope-1", "pos")

	w := a.call(licensesWriter, http.MethodPatch, "/api/v1/licensing/licenses/"+l.ID, `{"name":"Main shop"}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	patched := decodeAs[api.LicenseView](t, w.Body.Bytes())
	assert.Empty(t, patched.DLID, "a licenses:write token gets no key")
	assert.Equal(t, models.MaskDLID(l.Key()), patched.DLIDMasked)
	assert.NotContains(t, w.Body.String(), l.Key())

	w = a.call(ordersWriter, http.MethodPost, "/api/v1/orders", `{"id":"crm-key-scope","customer_email":"scope@example.com","tier":"pos"}`)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	w = a.call(ordersWriter, http.MethodPost, "/api/v1/orders/crm-key-scope/paid", `{"payment_ref":"bank-1"}`)
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	paid := decodeAs[api.OrderPaid](t, w.Body.Bytes())
	expires := models.Instant(time.Now().AddDate(1, 0, 0))
	minted, err := a.store.MintLicense(ctx, models.Mint{LicenseID: paid.License.ID, TierKey: "pos", MaxDomains: 3,
		Channels: models.StringList{"stable"}, StartsAt: time.Now(), ExpiresAt: &expires})
	require.NoError(t, err)
	w = a.call(ordersWriter, http.MethodPost, "/api/v1/orders/crm-key-scope/paid", `{"payment_ref":"bank-1"}`)
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	assert.Equal(t, models.MaskDLID(minted.Key()), decodeAs[api.OrderPaid](t, w.Body.Bytes()).License.DLIDMasked)
	assert.NotContains(t, w.Body.String(), minted.Key(), "an orders:write token paying again gets no key")

	w = a.call(readToken, http.MethodGet, "/api/v1/licensing/licenses/"+l.ID, "")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, l.Key(), decodeAs[api.LicenseView](t, w.Body.Bytes()).DLID, "a licenses:read token reads the key")
	w = a.call(adminToken, http.MethodGet, "/api/v1/licensing/licenses/"+minted.ID, "")
	assert.Equal(t, minted.Key(), decodeAs[api.LicenseView](t, w.Body.Bytes()).DLID, "and so does admin")
}
