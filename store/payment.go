package store

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/licenseflow/licenseflow/models"
)

// PaymentClaimTimeout is how long a claimed event may stay unfinished before
// a redelivery takes it over (the first handler must have crashed).
const PaymentClaimTimeout = 2 * time.Minute

// ClaimPaymentEvent records an event before it is handled. claimed is true
// when this caller must handle it: the event is new, or an earlier handler
// left it unfinished for longer than PaymentClaimTimeout. Otherwise the
// stored event tells what became of it.
func (s *Store) ClaimPaymentEvent(ctx context.Context, e models.PaymentEvent, now time.Time) (models.PaymentEvent, bool, error) {
	e.Outcome, e.ClaimedAt = models.PaymentEventReceived, now
	err := s.with(ctx).Create(&e).Error
	if err == nil {
		return e, true, nil
	}
	if !isDuplicate(err) {
		return e, false, err
	}
	var stored models.PaymentEvent
	if err := s.with(ctx).First(&stored, "id = ?", e.ID).Error; err != nil {
		return stored, false, err
	}
	if stored.Outcome != models.PaymentEventReceived || now.Sub(stored.ClaimedAt) < PaymentClaimTimeout {
		return stored, false, nil
	}
	res := s.with(ctx).Model(&models.PaymentEvent{}).Where("id = ? AND claimed_at = ?", e.ID, stored.ClaimedAt).Update("claimed_at", now)
	if res.Error != nil {
		return stored, false, res.Error
	}
	return stored, res.RowsAffected == 1, nil
}

// FinishPaymentEvent records the outcome of a handled event. An event held
// for review also writes a payment.needs_review webhook event in the same
// transaction, so an operator is told of every one.
func (s *Store) FinishPaymentEvent(ctx context.Context, id string, outcome models.PaymentEventOutcome, reason, licenseID, orderID string, now time.Time) error {
	at := models.Instant(now)
	finish := func(db *gorm.DB) error {
		return db.Model(&models.PaymentEvent{}).Where("id = ?", id).Updates(map[string]any{
			// The reason column holds 1000 characters.
			"outcome": outcome, "reason": models.Clip(reason, 990), "license_id": licenseID, "order_id": orderID, "finished_at": &at,
		}).Error
	}
	if outcome != models.PaymentEventNeedsReview {
		return finish(s.with(ctx))
	}
	var due []string
	err := s.transaction(ctx, func(tx *Store) error {
		if err := finish(tx.db); err != nil {
			return err
		}
		var e models.PaymentEvent
		if err := tx.db.First(&e, "id = ?", id).Error; err != nil {
			return err
		}
		provider := e.Provider
		if provider == "" {
			provider = models.ProviderStripe
		}
		eventID := strings.TrimPrefix(id, string(provider)+":")
		payment := &models.WebhookPayment{Provider: provider, EventID: eventID, Type: e.Type, Livemode: e.Livemode, OrderID: orderID}
		if provider == models.ProviderStripe {
			payment.StripeEventID = eventID
		}
		data := models.WebhookData{Reason: models.Clip(reason, 990), Payment: payment}
		notice := models.WebhookEvent{Type: models.EventPaymentNeedsReview, OccurredAt: at, Data: models.JSONValue[models.WebhookData]{V: data}}
		if licenseID != "" {
			var err error
			if notice, err = licenseEvent(tx.db, licenseID, models.EventPaymentNeedsReview, at, data); err != nil && !isNotFound(err) {
				return err
			} else if err != nil { // a license the event names but that does not exist
				notice = models.WebhookEvent{Type: models.EventPaymentNeedsReview, OccurredAt: at, Data: models.JSONValue[models.WebhookData]{V: data}}
			}
		}
		notice.Source = string(provider) + ":" + eventID + ":review"
		var err error
		due, err = writeWebhookEvents(tx.db, []models.WebhookEvent{notice})
		return err
	})
	if err == nil {
		s.webhooksDue(due)
	}
	return err
}

// ReleasePaymentEvent forgets a claim whose handling failed in a way a retry
// may fix (an outage): the provider is answered 5xx and redelivers it.
func (s *Store) ReleasePaymentEvent(ctx context.Context, id string) error {
	return s.with(ctx).Where("id = ? AND outcome = ?", id, models.PaymentEventReceived).Delete(&models.PaymentEvent{}).Error
}

// GetPaymentEvent finds a provider's recorded event by the provider's id.
func (s *Store) GetPaymentEvent(ctx context.Context, provider models.PaymentProvider, id string) (models.PaymentEvent, error) {
	var e models.PaymentEvent
	err := s.with(ctx).First(&e, "id = ? AND provider = ?", models.PaymentEventKey(provider, id), provider).Error
	if isNotFound(err) {
		return e, models.NotFound("event_not_found", "no %s event %q was received", provider.Title(), id)
	}
	return e, err
}

// ListPaymentEvents lists a provider's recorded events, newest first.
func (s *Store) ListPaymentEvents(ctx context.Context, provider models.PaymentProvider, outcome models.PaymentEventOutcome, licenseID string, limit int) ([]models.PaymentEvent, error) {
	q := s.with(ctx).Where("provider = ?", provider).Order("created_at DESC").Limit(limit)
	if outcome != "" {
		q = q.Where("outcome = ?", outcome)
	}
	if licenseID != "" {
		q = q.Where("license_id = ?", licenseID)
	}
	var out []models.PaymentEvent
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

// LicenseForProviderSubscription finds the license a PayPal or Paddle
// subscription renews.
func (s *Store) LicenseForProviderSubscription(ctx context.Context, provider models.PaymentProvider, subscriptionID string) (models.License, error) {
	var l models.License
	err := s.with(ctx).Preload("Customer").
		First(&l, "payment_provider = ? AND provider_subscription_id = ? AND provider_subscription_id <> ''", provider, subscriptionID).Error
	if isNotFound(err) {
		return l, models.NotFound("license_not_found", "no license is linked to %s subscription %s", provider.Title(), subscriptionID)
	}
	return l, err
}

// OrderForProviderPayment finds the order a PayPal or Paddle payment paid.
func (s *Store) OrderForProviderPayment(ctx context.Context, provider models.PaymentProvider, paymentID string) (models.Order, error) {
	var o models.Order
	err := s.with(ctx).Preload("Customer").
		First(&o, "payment_provider = ? AND provider_payment_id = ? AND provider_payment_id <> ''", provider, paymentID).Error
	if isNotFound(err) {
		return o, models.NotFound("order_not_found", "no order was paid by %s payment %q", provider.Title(), paymentID)
	}
	return o, err
}

// LinkProviderSubscription records the PayPal or Paddle subscription that
// renews a license (and turns automatic renewal on).
func (s *Store) LinkProviderSubscription(ctx context.Context, licenseID string, provider models.PaymentProvider, subscriptionID string) error {
	if subscriptionID == "" {
		return nil
	}
	return s.with(ctx).Model(&models.License{}).Where("id = ?", licenseID).Updates(map[string]any{
		"payment_provider": provider, "provider_subscription_id": subscriptionID, "auto_renew": true,
	}).Error
}

// SetAutoRenew turns automatic renewal on or off.
func (s *Store) SetAutoRenew(ctx context.Context, licenseID string, on bool) error {
	return s.with(ctx).Model(&models.License{}).Where("id = ?", licenseID).Update("auto_renew", on).Error
}

// RecordProviderCustomer keeps a provider's customer's address and name
// (the latest event's).
func (s *Store) RecordProviderCustomer(ctx context.Context, c models.ProviderCustomer) error {
	return s.with(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "provider"}, {Name: "id"}},
		DoUpdates: clause.AssignmentColumns([]string{"email", "name", "updated_at"}),
	}).Create(&c).Error
}

// GetProviderCustomer finds a provider's customer recorded from its events.
func (s *Store) GetProviderCustomer(ctx context.Context, provider models.PaymentProvider, id string) (models.ProviderCustomer, error) {
	var c models.ProviderCustomer
	err := s.with(ctx).First(&c, "provider = ? AND id = ?", provider, id).Error
	if isNotFound(err) {
		return c, models.NotFound("customer_not_found", "no %s customer %s was received", provider.Title(), id)
	}
	return c, err
}
