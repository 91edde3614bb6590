package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/lifecycle/lifecyclefake"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/testsupport"
)

// Without Stripe, the portal's add-on button places an add-on order the
// vendor's CRM collects (order.created tells it), and says so; a second
// click is the same order; a product the license cannot buy is refused
// with the reason and orders nothing.
func TestThePortalOrdersAnAddonForTheCRMWithoutStripe(t *testing.T) {
	st := testsupport.SQLite(t)
	ctx := context.Background()
	b := shop(t, st, nil)
	signInCustomer(b, st, "ada@example.com")
	id := models.LicenseIDForOrder("earlier-ada@example.com")
	expires := models.Instant(time.Now().AddDate(1, 0, 0))
	_, err := st.MintLicense(ctx, models.Mint{LicenseID: id, TierKey: "pos", MaxDomains: 3, StartsAt: time.Now(), ExpiresAt: &expires})
	require.NoError(t, err)
	_, _, err = st.SetEntitlements(ctx, id, "pos")
	require.NoError(t, err)

	status, page := b.get("/portal/licenses/" + id)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, `id="buy-addon-child"`)
	assert.Contains(t, page, "29.00 EUR")
	assert.Contains(t, page, `id="buy-addon-npo"`)
	assert.NotContains(t, page, `id="buy-addon-pos"`, "only products sold as add-ons")

	csrf := b.csrf("/portal/licenses/" + id)
	resp, _ := b.post("/portal/licenses/"+id+"/addons", url.Values{"csrf": {csrf}, "product": {"child"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	notice := b.notice(resp)
	assert.Contains(t, notice, "is placed; we will send you payment details")
	assert.Contains(t, notice, "MokoSuite Child Theme (29.00 EUR)")
	resp, _ = b.post("/portal/licenses/"+id+"/addons", url.Values{"csrf": {csrf}, "product": {"child"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)

	orders, err := st.ListOrders(ctx, id)
	require.NoError(t, err)
	var addons []models.Order
	for _, o := range orders {
		if o.Kind == models.OrderAddon {
			addons = append(addons, o)
		}
	}
	require.Len(t, addons, 1, "a second click is the same order")
	assert.Equal(t, models.OrderPending, addons[0].Status)
	assert.Equal(t, "child", addons[0].Product)
	assert.Equal(t, int64(2900), addons[0].AmountCents)
	_, home := b.get("/portal")
	assert.Contains(t, home, "pos + child", "her orders name the add-on")

	resp, page = b.post("/portal/licenses/"+id+"/addons", url.Values{"csrf": {csrf}, "product": {"base"}})
	assert.Equal(t, http.StatusConflict, resp.StatusCode)
	assert.Contains(t, page, "not sold as an add-on")
	resp, _ = b.post("/portal/licenses/"+id+"/addons", url.Values{"product": {"npo"}})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "no CSRF token, no order")
	orders, err = st.ListOrders(ctx, id)
	require.NoError(t, err)
	assert.Len(t, orders, 2, "the purchase and the one add-on order")
}

// The dashboard's product form sets the add-on price an operator types.
func TestTheProductFormSellsAProductAsAnAddon(t *testing.T) {
	st := testsupport.SQLite(t)
	b := signedInOperator(t, st, nil)
	csrf := b.csrf("/admin/catalog/product")
	form := url.Values{"csrf": {csrf}, "existing": {"pos"}, "code": {"pos"}, "repo": {"MokoSuitePOS"}, "name": {"MokoSuite POS"},
		"platform": {"both"}, "requires_key": {"on"}, "addon_price": {"19.50"}, "addon_currency": {"eur"}}
	resp, _ := b.post("/admin/catalog/products", form)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	p, err := st.GetProduct(context.Background(), "pos")
	require.NoError(t, err)
	assert.Equal(t, int64(1950), p.AddonPriceCents)
	assert.Equal(t, "EUR", p.AddonCurrency)
	_, page := b.get("/admin/catalog/product?code=pos")
	assert.Contains(t, page, `value="19.50"`, "the form shows the price back")

	form.Set("addon_price", "nineteen")
	resp, page = b.post("/admin/catalog/products", form)
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Contains(t, page, "add-on price")
	form.Set("addon_price", "19")
	form.Set("addon_currency", "")
	resp, _ = b.post("/admin/catalog/products", form)
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "a price needs its currency")
	p, err = st.GetProduct(context.Background(), "pos")
	require.NoError(t, err)
	assert.Equal(t, int64(1950), p.AddonPriceCents, "a refused form changes nothing")
}

// An owner removes an add-on from the dashboard: a workflow update with
// the product and the reason given.
func TestAnOwnerRemovesAnAddonFromTheDashboard(t *testing.T) {
	st := testsupport.SQLite(t)
	ctx := context.Background()
	tier, err := st.GetTier(ctx, "pos")
	require.NoError(t, err)
	_, l, _, err := st.RecordPurchase(ctx, models.Purchase{OrderID: "web-addon", Email: "buyer@example.com", Tier: tier,
		MaxDomains: 2, Months: 12, Type: models.TypeCommercial, PaidAt: time.Now()})
	require.NoError(t, err)
	_, err = st.AddCustomEntitlement(ctx, l.ID, "child")
	require.NoError(t, err)
	flows := &lifecyclefake.Fake{}
	b := signedInOperator(t, st, flows)
	_, page := b.get("/admin/licenses/" + l.ID)
	assert.Contains(t, page, `id="remove-child"`, "a custom add-on can be removed")
	assert.NotContains(t, page, `id="remove-pos"`, "the tier's products cannot")
	resp, _ := b.post("/admin/licenses/"+l.ID+"/action", url.Values{"csrf": {b.csrf("/admin/licenses/" + l.ID)},
		"action": {"remove-entitlement"}, "product": {"child"}, "reason": {"refunded by bank transfer"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	updates := flows.Updates()
	require.Len(t, updates, 1)
	assert.Equal(t, &models.RemoveEntitlementRequest{Product: "child", Reason: "refunded by bank transfer", Actor: "token:admin"}, updates[0].Msg)
}

// An owner replaces the master license's key from the dashboard (seed 001:
// revoking it generates a new key): the new key is shown once, the old
// one stops working; a support operator cannot.
func TestAnOwnerReplacesTheMasterKeyFromTheDashboard(t *testing.T) {
	st := testsupport.SQLite(t)
	ctx := context.Background()
	old, err := st.EnsureMasterLicense(ctx, time.Now())
	require.NoError(t, err)
	site := rolesDashboard(t, st, &lifecyclefake.Fake{}, []string{ownerEmail}, []string{supportEmail})

	support := browserOn(t, site)
	signInByLink(support, st, supportEmail)
	path := "/admin/licenses/" + models.MasterLicenseID
	resp, _ := support.post(path+"/action", url.Values{"csrf": {support.csrf(path)}, "action": {"rotate-key"}})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "support operators do not replace keys")

	owner := browserOn(t, site)
	signInByLink(owner, st, ownerEmail)
	_, page := owner.get(path)
	assert.Contains(t, page, `id="rotate-master"`)
	assert.NotContains(t, page, `value="suspend"`, "the master license has no lifecycle actions")
	resp, page = owner.post(path+"/action", url.Values{"csrf": {owner.csrf(path)}, "action": {"revoke"}, "reason": {"key leaked"}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	key := between(page, `<code class="key" id="master-key">`, `</code>`)
	require.True(t, models.ValidDLID(key), "the new key is shown: %q", key)
	assert.NotEqual(t, old, key)
	_, err = st.LookupSiteLicense(ctx, old)
	assert.ErrorIs(t, err, models.ErrNotFound, "the old key no longer opens anything")
	sl, err := st.LookupSiteLicense(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, models.MasterLicenseID, sl.License.ID)
	_, again := owner.get(path)
	assert.NotContains(t, again, key, "shown once: the license page masks it")
}

func between(s, from, to string) string {
	_, after, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	inner, _, _ := strings.Cut(after, to)
	return inner
}
