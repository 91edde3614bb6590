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

// A bought add-on is an order of its own: invoiced under the product's
// name, counted in the month's add-ons and revenue, and never in its
// tier's revenue (the tier did not sell it).
func TestAnAddonOrderIsInvoicedAndCountedAsASaleOfItsOwn(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, s *store.Store) {
		_, l := purchase(t, s, "addon-base", "addon@example.com", "pos")
		expires := models.Instant(time.Now().AddDate(1, 0, 0))
		l, err := s.MintLicense(ctx, models.Mint{LicenseID: l.ID, TierKey: "pos", MaxDomains: 3, StartsAt: time.Now(), ExpiresAt: &expires})
		require.NoError(t, err)
		_, _, err = s.SetEntitlements(ctx, l.ID, "pos")
		require.NoError(t, err)
		_, err = s.AddonFor(ctx, l, "pos")
		assert.Equal(t, "addon_not_for_sale", problemCode(err))
		p, err := s.AddonFor(ctx, l, "child")
		require.NoError(t, err)
		o, err := s.RecordLicenseOrder(ctx, models.LicenseOrder{OrderID: "addon-child", License: l, Product: p.Code,
			AmountCents: p.AddonPriceCents, Currency: p.AddonCurrency, PaymentRef: "pay-1", PaidAt: time.Now()})
		require.NoError(t, err)
		assert.Equal(t, models.OrderAddon, o.Kind)
		again, err := s.RecordLicenseOrder(ctx, models.LicenseOrder{OrderID: "addon-child", License: l, Product: p.Code,
			AmountCents: p.AddonPriceCents, Currency: p.AddonCurrency, PaymentRef: "pay-1", PaidAt: time.Now()})
		require.NoError(t, err, "recording the same add-on order again is no error")
		assert.Equal(t, o.ID, again.ID)
		_, err = s.RecordLicenseOrder(ctx, models.LicenseOrder{OrderID: "addon-child", License: l, Months: 12, AmountCents: 100, Currency: "EUR", PaidAt: time.Now()})
		assert.Equal(t, "order_exists", problemCode(err), "the same order id as a renewal is another order")

		inv, created, err := s.IssueInvoice(ctx, "addon-child", time.Now(), models.TaxPolicy{}, fakePDF)
		require.NoError(t, err)
		require.True(t, created)
		require.Len(t, inv.Lines.V, 1)
		assert.Equal(t, "MokoSuite Child Theme add-on, for the license's lifetime (license "+l.ID+")", inv.Lines.V[0].Description)
		assert.Equal(t, int64(2900), inv.TotalCents)

		now := time.Now().UTC()
		months, tiers, err := s.SalesMetrics(ctx, now.AddDate(0, 0, -1), now.Add(time.Hour), now.Add(time.Hour))
		require.NoError(t, err)
		var sold, added int
		var revenue int64
		for _, m := range months {
			sold, added, revenue = sold+m.New, added+m.AddOns, revenue+m.Revenue["EUR"]
		}
		assert.Equal(t, 1, sold, "the license")
		assert.Equal(t, 1, added, "the add-on")
		assert.Equal(t, int64(14900+2900), revenue, "both are revenue")
		assert.Equal(t, []models.TierRevenue{{Tier: "pos", Orders: 1, Amount: 14900, Currency: "EUR"}}, tiers, "the tier sold the license only")

		_, err = s.AddonFor(ctx, l, "child")
		assert.Equal(t, "", problemCode(err), "recording the order grants nothing: the workflow does")
	})
}

func problemCode(err error) string {
	if p, ok := models.AsProblem(err); ok {
		return p.Code
	}
	return ""
}

// Taking back an add-on deletes its custom grant; a product the tier also
// grants goes back to being the tier's; the tier's own products are not
// add-ons; taking back what the license does not have changes nothing.
func TestRemovingAnAddonLeavesTheTiersProducts(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, s *store.Store) {
		_, l := purchase(t, s, "remove-base", "remove@example.com", "pos")
		_, _, err := s.SetEntitlements(ctx, l.ID, "pos")
		require.NoError(t, err)
		for _, code := range []string{"child", "pos"} {
			_, err := s.AddCustomEntitlement(ctx, l.ID, code)
			require.NoError(t, err)
		}
		sources := func(ents []models.Entitlement) map[string]models.EntitlementSource {
			out := map[string]models.EntitlementSource{}
			for _, e := range ents {
				out[e.ProductCode] = e.Source
			}
			return out
		}
		all, err := s.RemoveCustomEntitlement(ctx, l.ID, "child")
		require.NoError(t, err)
		assert.Equal(t, map[string]models.EntitlementSource{"base": models.SourceTier, "pos": models.SourceCustom}, sources(all))
		all, err = s.RemoveCustomEntitlement(ctx, l.ID, "pos")
		require.NoError(t, err)
		assert.Equal(t, map[string]models.EntitlementSource{"base": models.SourceTier, "pos": models.SourceTier}, sources(all), "pos is the tier's again")
		all, err = s.RemoveCustomEntitlement(ctx, l.ID, "child")
		require.NoError(t, err, "taking back what is gone changes nothing")
		assert.Len(t, all, 2)
		_, err = s.RemoveCustomEntitlement(ctx, l.ID, "base")
		assert.Equal(t, "not_an_addon", problemCode(err))
		_, err = s.RemoveCustomEntitlement(ctx, l.ID, "nosuch")
		assert.Equal(t, "product_not_found", problemCode(err))
	})
}
