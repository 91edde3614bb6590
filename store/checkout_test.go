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

// A checkout's progress, as its success page tells it: awaiting the
// payment, held when Stripe's report was held for review, issuing once the
// order is paid, issued once the license is minted, held again when the
// payment is refunded. One session is one checkout and one order.
func TestACheckoutsProgressFollowsItsOrder(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, s *store.Store) {
		co := models.Checkout{SessionID: "cs_test_progress", OrderID: "ord_progress", TierKey: "pos", Term: "yearly", Months: 12,
			MaxDomains: 3, Email: "buyer@example.com", AmountCents: 14900, Currency: "EUR"}
		require.NoError(t, s.CreateCheckout(ctx, co))
		dup := co
		dup.SessionID = "cs_test_other"
		assert.Error(t, s.CreateCheckout(ctx, dup), "an order id belongs to one session")
		_, err := s.GetCheckout(ctx, "cs_test_nope")
		assert.ErrorIs(t, err, models.ErrNotFound)

		stage := func() models.CheckoutStage {
			t.Helper()
			got, err := s.GetCheckout(ctx, "cs_test_progress")
			require.NoError(t, err)
			st, err := s.CheckoutStatus(ctx, got, "Point of Sale")
			require.NoError(t, err)
			assert.Equal(t, "ord_progress", st.OrderID)
			return st.Stage
		}
		assert.Equal(t, models.CheckoutAwaitingPayment, stage())
		_, claimed, err := s.ClaimPaymentEvent(ctx, models.PaymentEvent{ID: "evt_held", Type: "checkout.session.completed", Payload: "{}"}, time.Now())
		require.NoError(t, err)
		require.True(t, claimed)
		require.NoError(t, s.FinishPaymentEvent(ctx, "evt_held", models.PaymentEventNeedsReview, "underpaid", "", "ord_progress", time.Now()))
		assert.Equal(t, models.CheckoutOnHold, stage())

		_, l := purchase(t, s, "ord_progress", "buyer@example.com", "pos")
		assert.Equal(t, models.CheckoutIssuing, stage())
		tier, err := s.GetTier(ctx, "pos")
		require.NoError(t, err)
		expires := models.Instant(time.Now().AddDate(1, 0, 0))
		_, err = s.MintLicense(ctx, models.Mint{LicenseID: l.ID, TierKey: "pos", MaxDomains: 3, Channels: tier.Channels,
			StartsAt: time.Now(), ExpiresAt: &expires})
		require.NoError(t, err)
		assert.Equal(t, models.CheckoutIssued, stage())
		require.NoError(t, s.MarkOrder(ctx, "ord_progress", models.OrderRefunded))
		assert.Equal(t, models.CheckoutOnHold, stage())
	})
}

// A checkout abandoned for longer than AbandonedCheckoutAge is forgotten
// when the next one is recorded (with the buyer's address it held); a
// younger one, and an old one that became an order, stay.
func TestAbandonedCheckoutsAreForgotten(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, s *store.Store) {
		checkout := func(session, order string) models.Checkout {
			return models.Checkout{SessionID: session, OrderID: order, TierKey: "pos", Term: "yearly", Months: 12,
				MaxDomains: 3, Email: "buyer@example.com", AmountCents: 14900, Currency: "EUR"}
		}
		long := time.Now().Add(-models.AbandonedCheckoutAge - time.Hour)
		for _, c := range []models.Checkout{checkout("cs_old_abandoned", "ord_old_abandoned"), checkout("cs_old_paid", "ord_old_paid")} {
			c.CreatedAt = long
			require.NoError(t, s.DB().Create(&c).Error)
		}
		purchase(t, s, "ord_old_paid", "buyer@example.com", "pos")
		young := checkout("cs_young", "ord_young")
		young.CreatedAt = time.Now().Add(-models.AbandonedCheckoutAge + time.Hour)
		require.NoError(t, s.DB().Create(&young).Error)

		require.NoError(t, s.CreateCheckout(ctx, checkout("cs_new", "ord_new")))
		_, err := s.GetCheckout(ctx, "cs_old_abandoned")
		assert.ErrorIs(t, err, models.ErrNotFound, "abandoned a month ago: forgotten")
		for _, kept := range []string{"cs_old_paid", "cs_young", "cs_new"} {
			_, err := s.GetCheckout(ctx, kept)
			assert.NoError(t, err, kept)
		}
	})
}
