package payments_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments"
	"github.com/licenseflow/licenseflow/testsupport"
)

// Every click on Renew made a new pending order (and told the CRM to
// collect again). Asking again for the same renewal now gets the same
// order; another length, or asking after it was paid, gets a new one.
func TestAskingAgainForARenewalGetsTheSameOrder(t *testing.T) {
	st := testsupport.SQLite(t)
	ctx := context.Background()
	tier, err := st.GetTier(ctx, "pos")
	require.NoError(t, err)
	_, l, _, err := st.RecordPurchase(ctx, models.Purchase{OrderID: "renew-twice", Email: "twice@example.com", Tier: tier,
		MaxDomains: 1, Months: 12, Type: models.TypeCommercial, PaidAt: time.Now()})
	require.NoError(t, err)
	expires := models.Instant(time.Now().AddDate(0, 0, 20))
	l, err = st.MintLicense(ctx, models.Mint{LicenseID: l.ID, TierKey: "pos", MaxDomains: 1, Channels: tier.Channels,
		StartsAt: time.Now(), ExpiresAt: &expires})
	require.NoError(t, err)
	l, err = st.GetLicense(ctx, l.ID) // with its customer, as the portal reads it
	require.NoError(t, err)
	renewals := &payments.Renewals{Store: st}
	link := func(months *int) string {
		t.Helper()
		got, err := renewals.Link(ctx, l, months)
		require.NoError(t, err)
		require.Equal(t, "crm", got.Provider)
		return got.OrderID
	}
	pending := func() int {
		t.Helper()
		orders, err := st.ListOrders(ctx, l.ID)
		require.NoError(t, err)
		n := 0
		for _, o := range orders {
			if o.Kind == models.OrderRenewal && o.Status == models.OrderPending {
				n++
			}
		}
		return n
	}

	first := link(nil)
	assert.Equal(t, first, link(nil), "a second click, the same order")
	assert.Equal(t, 1, pending())
	six := 6
	assert.NotEqual(t, first, link(&six), "another length is another order")
	assert.Equal(t, 2, pending())

	_, _, err = st.PayOrder(ctx, first, "bank-1", time.Now())
	require.NoError(t, err)
	renewed := expires.AddDate(1, 0, 0) // what the license's workflow then makes of it
	l.ExpiresAt = &renewed
	again := link(nil)
	assert.NotEqual(t, first, again, "once paid, a new renewal is a new order")
	assert.Equal(t, again, link(nil))
}
