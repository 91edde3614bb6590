package store

import (
	"context"

	"github.com/licenseflow/licenseflow/models"
)

// EnqueueEmail records a message in the outbox unless one with the same
// idempotency key exists; either way it returns the stored message.
func (s *Store) EnqueueEmail(ctx context.Context, m models.EmailMessage) (models.EmailMessage, error) {
	if m.Status == "" {
		m.Status = models.EmailQueued
	}
	if err := insertIgnoringDuplicates(s.with(ctx), &m); err != nil {
		return m, err
	}
	var stored models.EmailMessage
	return stored, s.with(ctx).First(&stored, "idempotency_key = ?", m.IdempotencyKey).Error
}

// CountEmailAttempt counts an attempt at handing a message to SMTP,
// before it is made, so an attempt cut short by a crash still shows.
func (s *Store) CountEmailAttempt(ctx context.Context, id uint) error {
	return s.with(ctx).Model(&models.EmailMessage{}).Where("id = ?", id).
		Update("attempts", gormExpr("attempts + 1")).Error
}

// RecordEmailOutcome notes how an attempt ended.
func (s *Store) RecordEmailOutcome(ctx context.Context, id uint, o models.EmailOutcome) error {
	updates := map[string]any{
		"status": o.Status, "last_error": o.Error, "provider_message_id": o.ProviderMessageID,
	}
	if o.Status == models.EmailSent || o.Status == models.EmailHeld {
		at := models.Instant(o.At)
		updates["sent_at"] = &at
	}
	if o.DropBody {
		updates["text_body"], updates["html_body"] = models.DroppedBody, ""
	}
	return s.with(ctx).Model(&models.EmailMessage{}).Where("id = ?", id).Updates(updates).Error
}

// ListEmails lists outbox messages, newest first.
func (s *Store) ListEmails(ctx context.Context, f models.EmailFilter) ([]models.EmailMessage, error) {
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
	var out []models.EmailMessage
	return out, q.Find(&out).Error
}

// GetEmail finds one outbox message.
func (s *Store) GetEmail(ctx context.Context, id uint) (models.EmailMessage, error) {
	var m models.EmailMessage
	err := s.with(ctx).First(&m, "id = ?", id).Error
	if isNotFound(err) {
		return m, models.NotFound("email_not_found", "no email %d in the outbox", id)
	}
	return m, err
}
