package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/licenseflow/licenseflow/models"
)

// StripeClaimTimeout is how long a claimed event may stay unfinished before
// a redelivery takes it over (the first handler must have crashed).
const StripeClaimTimeout = 2 * time.Minute

// ClaimStripeEvent records an event before it is handled. claimed is true
// when this caller must handle it: the event is new, or an earlier handler
// left it unfinished for longer than StripeClaimTimeout. Otherwise the
// stored event tells what became of it.
func (s *Store) ClaimStripeEvent(ctx context.Context, e models.StripeEvent, now time.Time) (models.StripeEvent, bool, error) {
	e.Outcome, e.ClaimedAt = models.StripeEventReceived, now
	err := s.with(ctx).Create(&e).Error
	if err == nil {
		return e, true, nil
	}
	if !isDuplicate(err) {
		return e, false, err
	}
	var stored models.StripeEvent
	if err := s.with(ctx).First(&stored, "id = ?", e.ID).Error; err != nil {
		return stored, false, err
	}
	if stored.Outcome != models.StripeEventReceived || now.Sub(stored.ClaimedAt) < StripeClaimTimeout {
		return stored, false, nil
	}
	res := s.with(ctx).Model(&models.StripeEvent{}).Where("id = ? AND claimed_at = ?", e.ID, stored.ClaimedAt).Update("claimed_at", now)
	if res.Error != nil {
		return stored, false, res.Error
	}
	return stored, res.RowsAffected == 1, nil
}

// FinishStripeEvent records the outcome of a handled event. An event held
// for review also writes a payment.needs_review webhook event in the same
// transaction, so an operator is told of every one.
func (s *Store) FinishStripeEvent(ctx context.Context, id string, outcome models.StripeEventOutcome, reason, licenseID, orderID string, now time.Time) error {
	at := models.Instant(now)
	finish := func(db *gorm.DB) error {
		return db.Model(&models.StripeEvent{}).Where("id = ?", id).Updates(map[string]any{
			// The reason column holds 1000 characters.
			"outcome": outcome, "reason": models.Clip(reason, 990), "license_id": licenseID, "order_id": orderID, "finished_at": &at,
		}).Error
	}
	if outcome != models.StripeEventNeedsReview {
		return finish(s.with(ctx))
	}
	var due []string
	err := s.transaction(ctx, func(tx *Store) error {
		if err := finish(tx.db); err != nil {
			return err
		}
		var e models.StripeEvent
		if err := tx.db.First(&e, "id = ?", id).Error; err != nil {
			return err
		}
		data := models.WebhookData{Reason: models.Clip(reason, 990),
			Payment: &models.WebhookPayment{StripeEventID: id, Type: e.Type, Livemode: e.Livemode, OrderID: orderID}}
		notice := models.WebhookEvent{Type: models.EventPaymentNeedsReview, OccurredAt: at, Data: models.JSONValue[models.WebhookData]{V: data}}
		if licenseID != "" {
			var err error
			if notice, err = licenseEvent(tx.db, licenseID, models.EventPaymentNeedsReview, at, data); err != nil && !isNotFound(err) {
				return err
			} else if err != nil { // a license the event names but that does not exist
				notice = models.WebhookEvent{Type: models.EventPaymentNeedsReview, OccurredAt: at, Data: models.JSONValue[models.WebhookData]{V: data}}
			}
		}
		notice.Source = "stripe:" + id + ":review"
		var err error
		due, err = writeWebhookEvents(tx.db, []models.WebhookEvent{notice})
		return err
	})
	if err == nil {
		s.webhooksDue(due)
	}
	return err
}

// ReleaseStripeEvent forgets a claim whose handling failed in a way a retry
// may fix (an outage): Stripe is answered 5xx and redelivers it.
func (s *Store) ReleaseStripeEvent(ctx context.Context, id string) error {
	return s.with(ctx).Where("id = ? AND outcome = ?", id, models.StripeEventReceived).Delete(&models.StripeEvent{}).Error
}

// GetStripeEvent finds a recorded event.
func (s *Store) GetStripeEvent(ctx context.Context, id string) (models.StripeEvent, error) {
	var e models.StripeEvent
	err := s.with(ctx).First(&e, "id = ?", id).Error
	if isNotFound(err) {
		return e, models.NotFound("event_not_found", "no Stripe event %q was received", id)
	}
	return e, err
}

// ListStripeEvents lists recorded events, newest first.
func (s *Store) ListStripeEvents(ctx context.Context, outcome models.StripeEventOutcome, licenseID string, limit int) ([]models.StripeEvent, error) {
	q := s.with(ctx).Order("created_at DESC").Limit(limit)
	if outcome != "" {
		q = q.Where("outcome = ?", outcome)
	}
	if licenseID != "" {
		q = q.Where("license_id = ?", licenseID)
	}
	var out []models.StripeEvent
	return out, q.Find(&out).Error
}

// LicenseForSubscription finds the license a Stripe subscription renews.
func (s *Store) LicenseForSubscription(ctx context.Context, subscriptionID string) (models.License, error) {
	var l models.License
	err := s.with(ctx).Preload("Customer").First(&l, "stripe_subscription_id = ? AND stripe_subscription_id <> ''", subscriptionID).Error
	if isNotFound(err) {
		return l, models.NotFound("license_not_found", "no license is linked to Stripe subscription %s", subscriptionID)
	}
	return l, err
}

// OrderForPayment finds the order paid by a Stripe payment intent or invoice.
func (s *Store) OrderForPayment(ctx context.Context, paymentIntentID, invoiceID string) (models.Order, error) {
	var o models.Order
	q := s.with(ctx).Preload("Customer")
	switch {
	case paymentIntentID != "" && invoiceID != "":
		q = q.Where("stripe_payment_intent_id = ? OR stripe_invoice_id = ?", paymentIntentID, invoiceID)
	case paymentIntentID != "":
		q = q.Where("stripe_payment_intent_id = ?", paymentIntentID)
	case invoiceID != "":
		q = q.Where("stripe_invoice_id = ?", invoiceID)
	default:
		return o, models.NotFound("order_not_found", "the event names no payment intent or invoice")
	}
	err := q.First(&o).Error
	if isNotFound(err) {
		return o, models.NotFound("order_not_found", "no order was paid by payment intent %q / invoice %q", paymentIntentID, invoiceID)
	}
	return o, err
}

// LinkStripe records a license's Stripe customer and subscription.
func (s *Store) LinkStripe(ctx context.Context, licenseID, customerID, subscriptionID string) error {
	updates := map[string]any{}
	if customerID != "" {
		updates["stripe_customer_id"] = customerID
	}
	if subscriptionID != "" {
		updates["stripe_subscription_id"] = subscriptionID
		updates["auto_renew"] = true
	}
	if len(updates) == 0 {
		return nil
	}
	return s.with(ctx).Model(&models.License{}).Where("id = ?", licenseID).Updates(updates).Error
}

// SetAutoRenew turns automatic renewal on or off.
func (s *Store) SetAutoRenew(ctx context.Context, licenseID string, on bool) error {
	return s.with(ctx).Model(&models.License{}).Where("id = ?", licenseID).Update("auto_renew", on).Error
}
