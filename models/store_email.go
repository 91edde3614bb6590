package models

import (
	"context"
	"time"
)

// EnqueueEmail records a message in the outbox unless one with the same
// idempotency key exists; either way it returns the stored message.
func (s *Store) EnqueueEmail(ctx context.Context, m EmailMessage) (EmailMessage, error) {
	if m.Status == "" {
		m.Status = EmailQueued
	}
	if err := insertIgnoringDuplicates(s.with(ctx), &m); err != nil {
		return m, err
	}
	var stored EmailMessage
	return stored, s.with(ctx).First(&stored, "idempotency_key = ?", m.IdempotencyKey).Error
}

// EmailOutcome is what happened when a message was handed to delivery.
type EmailOutcome struct {
	Status            EmailStatus
	ProviderMessageID string
	Error             string
	At                time.Time
}

// RecordEmailOutcome notes a delivery attempt.
func (s *Store) RecordEmailOutcome(ctx context.Context, id uint, o EmailOutcome) error {
	updates := map[string]any{
		"status": o.Status, "last_error": o.Error, "provider_message_id": o.ProviderMessageID,
		"attempts": gormExpr("attempts + 1"),
	}
	if o.Status == EmailSent || o.Status == EmailHeld {
		at := Instant(o.At)
		updates["sent_at"] = &at
	}
	return s.with(ctx).Model(&EmailMessage{}).Where("id = ?", id).Updates(updates).Error
}

// EmailFilter narrows an outbox listing.
type EmailFilter struct {
	LicenseID string
	To        string
	Template  string
	Status    EmailStatus
	Limit     int
}

// ListEmails lists outbox messages, newest first.
func (s *Store) ListEmails(ctx context.Context, f EmailFilter) ([]EmailMessage, error) {
	q := s.with(ctx).Order("id DESC")
	if f.LicenseID != "" {
		q = q.Where("license_id = ?", f.LicenseID)
	}
	if f.To != "" {
		q = q.Where("to_address = ?", f.To)
	}
	if f.Template != "" {
		q = q.Where("template = ?", f.Template)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	var out []EmailMessage
	return out, q.Find(&out).Error
}

// GetEmail finds one outbox message.
func (s *Store) GetEmail(ctx context.Context, id uint) (EmailMessage, error) {
	var m EmailMessage
	err := s.with(ctx).First(&m, "id = ?", id).Error
	if isNotFound(err) {
		return m, NotFound("email_not_found", "no email %d in the outbox", id)
	}
	return m, err
}
