package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
)

func pendingOrder(t *testing.T, s *store.Store, n models.NewOrder) models.Order {
	t.Helper()
	tier, err := s.GetTier(ctx, "pos")
	require.NoError(t, err)
	n.Tier, n.Months, n.AmountCents, n.Currency = tier, 12, tier.PriceCents, tier.Currency
	if n.Kind == "" {
		n.Kind = models.OrderNew
	}
	o, created, err := s.CreateOrder(ctx, n)
	require.NoError(t, err)
	require.True(t, created)
	return o
}

// The order list a CRM follows: every filter narrows it, pages do not
// overlap and together hold every order, newest first.
func TestFilterOrdersFiltersAndPages(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, s *store.Store) {
		_, paid := purchase(t, s, "paid-1", "buyer@example.com", "pos")
		var pending []models.Order
		for i := range 5 {
			pending = append(pending, pendingOrder(t, s, models.NewOrder{ID: fmt.Sprintf("pending-%d", i), Email: "many@example.com"}))
		}
		renewal := pendingOrder(t, s, models.NewOrder{ID: "renewal-1", Kind: models.OrderRenewal, Email: "buyer@example.com", LicenseID: paid.ID})

		var ids []string
		for cursor, pages := "", 0; ; pages++ {
			require.Less(t, pages, 10, "the cursor moves on")
			page, err := s.FilterOrders(ctx, models.OrderFilter{Limit: 2, Cursor: cursor})
			require.NoError(t, err)
			for _, o := range page.Orders {
				assert.NotContains(t, ids, o.ID, "pages do not overlap")
				ids = append(ids, o.ID)
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		assert.ElementsMatch(t, []string{"paid-1", "pending-0", "pending-1", "pending-2", "pending-3", "pending-4", "renewal-1"}, ids)
		assert.Equal(t, "renewal-1", ids[0], "newest first")

		only := func(f models.OrderFilter) []string {
			t.Helper()
			f.Limit = 50
			page, err := s.FilterOrders(ctx, f)
			require.NoError(t, err)
			var out []string
			for _, o := range page.Orders {
				out = append(out, o.ID)
			}
			return out
		}
		assert.ElementsMatch(t, []string{"paid-1"}, only(models.OrderFilter{Status: models.OrderPaid}))
		assert.Len(t, only(models.OrderFilter{Status: models.OrderPending}), 6)
		assert.ElementsMatch(t, []string{"paid-1", "renewal-1"}, only(models.OrderFilter{Email: "BUYER@example.com"}))
		assert.ElementsMatch(t, []string{"paid-1", "renewal-1"}, only(models.OrderFilter{CustomerID: renewal.CustomerID}))
		assert.ElementsMatch(t, []string{"paid-1", "renewal-1"}, only(models.OrderFilter{LicenseID: paid.ID}))
		assert.Empty(t, only(models.OrderFilter{Status: models.OrderRefunded}))

		// The creation range: from inclusive, before exclusive.
		third := pending[2].CreatedAt
		from := only(models.OrderFilter{CreatedFrom: third})
		before := only(models.OrderFilter{CreatedBefore: third})
		assert.Contains(t, from, "pending-2")
		assert.NotContains(t, before, "pending-2")
		assert.ElementsMatch(t, ids, append(from, before...), "the two halves hold every order once")
		assert.Empty(t, only(models.OrderFilter{CreatedFrom: time.Now().Add(time.Hour)}))

		_, err := s.FilterOrders(ctx, models.OrderFilter{Cursor: "garbage", Limit: 5})
		p, ok := models.AsProblem(err)
		require.True(t, ok)
		assert.Equal(t, "invalid_cursor", p.Code)
	})
}

// A pending order tells the CRM it exists; a renewal the customer asked for
// also asks the CRM to collect it; recording the same order again tells
// nobody anything new.
func TestCreatedOrdersWriteTheirEventsOnce(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, s *store.Store) {
		e, err := s.CreateWebhookEndpoint(ctx, models.WebhookEndpoint{URL: "https://crm.example.com/hooks",
			EventTypes: models.StringList{"*"}, Enabled: true, Secret: "plain:whsec_x"})
		require.NoError(t, err)
		_, paid := purchase(t, s, "paid-1", "buyer@example.com", "pos")
		pendingOrder(t, s, models.NewOrder{ID: "new-1", Email: "new@example.com"})
		pendingOrder(t, s, models.NewOrder{ID: "crm-renewal", Kind: models.OrderRenewal, Email: "buyer@example.com", LicenseID: paid.ID})
		asked := pendingOrder(t, s, models.NewOrder{ID: "asked-renewal", Kind: models.OrderRenewal, Email: "buyer@example.com",
			LicenseID: paid.ID, Requested: true})
		_, created, err := s.CreateOrder(ctx, models.NewOrder{ID: "asked-renewal", Kind: asked.Kind, Email: "buyer@example.com",
			LicenseID: paid.ID, Tier: models.Tier{Key: asked.TierKey}, Months: 12, AmountCents: asked.AmountCents, Requested: true})
		require.NoError(t, err)
		require.False(t, created, "the same order again")
		pendingOrder(t, s, models.NewOrder{ID: "asked-addon", Kind: models.OrderAddon, Product: "child", Email: "buyer@example.com",
			LicenseID: paid.ID, Requested: true})

		deliveries, err := s.PendingWebhookDeliveries(ctx, e.ID, nil, 50)
		require.NoError(t, err)
		var got []string
		for _, d := range deliveries {
			ev, err := s.GetWebhookEvent(ctx, d.EventID)
			require.NoError(t, err)
			got = append(got, string(d.EventType)+":"+ev.Data.V.Order.ID)
			if d.EventType == models.EventRenewalRequested {
				assert.Equal(t, paid.ID, ev.Data.V.License.ID, "the license to renew")
				assert.Equal(t, "buyer@example.com", ev.Data.V.License.CustomerEmail)
				assert.Equal(t, asked.AmountCents, ev.Data.V.Order.AmountCents, "what to collect")
			}
			if ev.Data.V.Order.ID == "asked-addon" {
				assert.Equal(t, "child", ev.Data.V.Order.Product, "the CRM is told which product")
				assert.Equal(t, paid.ID, ev.Data.V.License.ID, "and for which license")
			}
		}
		assert.Equal(t, []string{
			"order.paid:paid-1", "order.created:new-1", "order.created:crm-renewal",
			"order.created:asked-renewal", "renewal.requested:asked-renewal", "order.created:asked-addon",
		}, got)
	})
}
