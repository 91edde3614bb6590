package store

import (
	"context"
	"errors"
	"time"

	"github.com/licenseflow/licenseflow/models"
)

// CreateCheckout records a Checkout Session the plans page created, and
// forgets the checkouts abandoned longer than models.AbandonedCheckoutAge
// ago: never paid, they became no order. Each new checkout sweeps, so the
// table holds about a month of abandoned ones, without a job of its own.
func (s *Store) CreateCheckout(ctx context.Context, c models.Checkout) error {
	if err := s.with(ctx).Create(&c).Error; err != nil {
		return err
	}
	return s.with(ctx).Where("created_at < ? AND order_id NOT IN (?)", time.Now().Add(-models.AbandonedCheckoutAge),
		s.db.Model(&models.Order{}).Select("id")).Delete(&models.Checkout{}).Error
}

// GetCheckout finds the checkout a Stripe Checkout Session id belongs to.
func (s *Store) GetCheckout(ctx context.Context, sessionID string) (models.Checkout, error) {
	var c models.Checkout
	if len(sessionID) > 100 {
		return c, models.NotFound("checkout_not_found", "no such checkout")
	}
	err := s.with(ctx).First(&c, "session_id = ?", sessionID).Error
	if isNotFound(err) {
		return c, models.NotFound("checkout_not_found", "no such checkout")
	}
	return c, err
}

// CheckoutStatus tells how far a checkout got: awaiting Stripe's report,
// paid and issuing, issued, or held for an operator.
func (s *Store) CheckoutStatus(ctx context.Context, c models.Checkout, planName string) (models.CheckoutStatus, error) {
	st := models.CheckoutStatus{Stage: models.CheckoutAwaitingPayment, OrderID: c.OrderID, Plan: planName, Term: c.Term}
	o, err := s.GetOrder(ctx, c.OrderID)
	if errors.Is(err, models.ErrNotFound) {
		var held int64
		err := s.with(ctx).Model(&models.PaymentEvent{}).
			Where("order_id = ? AND outcome = ?", c.OrderID, models.PaymentEventNeedsReview).Count(&held).Error
		if held > 0 {
			st.Stage = models.CheckoutOnHold
		}
		return st, err
	}
	if err != nil {
		return st, err
	}
	if o.Status != models.OrderPaid {
		st.Stage = models.CheckoutOnHold
		return st, nil
	}
	l, err := s.GetLicense(ctx, o.LicenseID)
	if errors.Is(err, models.ErrNotFound) {
		st.Stage = models.CheckoutIssuing
		return st, nil
	}
	if err != nil {
		return st, err
	}
	st.Stage, st.LicenseStatus, st.ExpiresAt = models.CheckoutIssued, l.Status, l.ExpiresAt
	if l.Status == models.StatusPending {
		st.Stage = models.CheckoutIssuing
	}
	return st, nil
}
