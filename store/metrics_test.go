package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
)

func TestSalesMetricsOnASeededDataSet(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		now := time.Now().UTC()
		thisMonth := time.Date(now.Year(), now.Month(), 1, 12, 0, 0, 0, time.UTC)
		lastMonth := thisMonth.AddDate(0, -1, 0)
		twoAgo := thisMonth.AddDate(0, -2, 0)
		buy := func(order, tier string, at time.Time) models.License {
			tr, err := store.GetTier(ctx, tier)
			require.NoError(t, err)
			_, l, _, err := store.RecordPurchase(ctx, models.Purchase{OrderID: order, Email: order + "@example.com", Tier: tr,
				MaxDomains: 1, Months: 12, AmountCents: tr.PriceCents, Currency: tr.Currency, PaidAt: at})
			require.NoError(t, err)
			return l
		}
		// Two months ago: 2 pos, 1 suite. Last month: 1 pos and a renewal. This month: 1 crm.
		a := buy("m-1", "pos", twoAgo)
		buy("m-2", "pos", twoAgo.Add(time.Hour))
		buy("m-3", "suite", twoAgo.Add(2*time.Hour))
		buy("m-4", "pos", lastMonth)
		_, err := store.RecordLicenseOrder(ctx, models.LicenseOrder{OrderID: "m-5", License: a, Months: 12, AmountCents: 14900, Currency: "EUR", PaidAt: lastMonth.Add(time.Hour)})
		require.NoError(t, err)
		lapsedLicense := buy("m-6", "crm", thisMonth.AddDate(0, -14, 0)) // before the span
		revoked := buy("m-7", "crm", now.Add(-time.Minute))

		// Churn: one license's grace ended last month; one revoked now.
		graceEnd := lastMonth.Add(5 * 24 * time.Hour)
		exp := graceEnd.Add(-7 * 24 * time.Hour)
		require.NoError(t, store.ProjectLicense(ctx, models.Projection{LicenseID: lapsedLicense.ID, Revision: 5, Status: models.StatusExpired,
			TierKey: "crm", ExpiresAt: &exp, GraceUntil: &graceEnd, MaxDomains: 1}))
		require.NoError(t, store.ProjectLicense(ctx, models.Projection{LicenseID: revoked.ID, Revision: 5, Status: models.StatusRevoked,
			TierKey: "crm", MaxDomains: 1}))

		months, tiers, err := store.SalesMetrics(ctx, twoAgo, now, now)
		require.NoError(t, err)
		require.Len(t, months, 3)
		got := map[string][3]int{}
		for _, m := range months {
			got[m.Month] = [3]int{m.New, m.Renewed, m.Churned}
		}
		assert.Equal(t, [3]int{3, 0, 0}, got[twoAgo.Format("2006-01")])
		assert.Equal(t, [3]int{1, 1, 1}, got[lastMonth.Format("2006-01")])
		assert.Equal(t, [3]int{1, 0, 1}, got[thisMonth.Format("2006-01")], "m-7 bought and revoked")
		assert.Equal(t, int64(2*14900+59900), months[0].Revenue["EUR"])

		want := []models.TierRevenue{
			{Tier: "suite", Orders: 1, Amount: 59900, Currency: "EUR"},
			{Tier: "pos", Orders: 4, Amount: 4 * 14900, Currency: "EUR"}, // three purchases and a renewal
			{Tier: "crm", Orders: 1, Amount: 19900, Currency: "EUR"},
		}
		assert.Equal(t, want, tiers, "ordered by revenue")
	})
}
