package store_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
)

func trialPurchase(t *testing.T, s *store.Store, orderID, email string) models.Purchase {
	t.Helper()
	tier, err := s.GetTier(ctx, "suite")
	require.NoError(t, err)
	ends := tier.TrialEnds(time.Now())
	return models.Purchase{OrderID: orderID, Email: email, Tier: tier, MaxDomains: 3, ExpiresAt: &ends,
		Type: models.TypeTrial, Currency: tier.Currency, PaidAt: time.Now()}
}

// One trial per customer and tier, however many orders ask for it at once:
// a trial that could be started again would be a license renewed for free.
func TestATrialIsGivenOncePerCustomerAndTier(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, s *store.Store) {
		const n = 6
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				_, _, _, errs[i] = s.RecordPurchase(ctx, trialPurchase(t, s, fmt.Sprintf("trial-%d", i), "Taster@example.com"))
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
				continue
			}
			p, ok := models.AsProblem(err)
			require.True(t, ok, "a refused trial is a problem with a code, not %v", err)
			assert.Equal(t, "trial_used", p.Code)
		}
		assert.Equal(t, 1, won, "exactly one of the concurrent trials is started")

		page, err := s.FilterOrders(ctx, models.OrderFilter{Email: "taster@example.com", Limit: 50})
		require.NoError(t, err)
		require.Len(t, page.Orders, 1, "the refused trials recorded no order")
		o := page.Orders[0]
		assert.Equal(t, models.OrderTrial, o.Kind)
		assert.Zero(t, o.AmountCents)

		again, l, created, err := s.RecordPurchase(ctx, trialPurchase(t, s, o.ID, "taster@example.com"))
		require.NoError(t, err, "a retry of the trial's own order is no second trial")
		assert.False(t, created)
		assert.Equal(t, o.ID, again.ID)
		assert.Equal(t, models.TypeTrial, l.Type)

		_, _, _, err = s.RecordPurchase(ctx, trialPurchase(t, s, "trial-other", "someone.else@example.com"))
		require.NoError(t, err, "another customer has a trial of their own")

		_, _, err = s.IssueInvoice(ctx, o.ID, time.Now(), models.TaxPolicy{}, func(models.Invoice) ([]byte, error) { return []byte("%PDF"), nil })
		p, ok := models.AsProblem(err)
		require.True(t, ok, "%v", err)
		assert.Equal(t, "trial_not_invoiced", p.Code, "a trial's order is never invoiced")
	})
}
