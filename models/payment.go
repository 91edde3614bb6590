package models

import "time"

// StripeEventOutcome is what became of a Stripe webhook event.
type StripeEventOutcome string

const (
	// StripeEventReceived: recorded and being handled (or its handler crashed).
	StripeEventReceived StripeEventOutcome = "received"
	// StripeEventProcessed: acted upon.
	StripeEventProcessed StripeEventOutcome = "processed"
	// StripeEventIgnored: a type licenseflow does not act on, or nothing to do.
	StripeEventIgnored StripeEventOutcome = "ignored"
	// StripeEventFailed: could not be acted upon for good (Reason says why).
	StripeEventFailed StripeEventOutcome = "failed"
	// StripeEventNeedsReview: a payment licenseflow did not act on because it
	// matches no license or does not pay for what it asks; it waits for an
	// operator (Reason says why), who was told by a payment.needs_review
	// webhook event.
	StripeEventNeedsReview StripeEventOutcome = "needs_review"
)

// StripeEvent is one webhook event, recorded before it is handled: its id
// is unique, so each event is handled once however often Stripe sends it.
type StripeEvent struct {
	ID         string             `gorm:"primaryKey;size:100" json:"id"`
	Type       string             `gorm:"size:100;not null;index" json:"type"`
	Livemode   bool               `gorm:"not null" json:"livemode"`
	Outcome    StripeEventOutcome `gorm:"size:16;not null;index" json:"outcome"`
	Reason     string             `gorm:"size:1000;not null" json:"reason,omitempty"`
	LicenseID  string             `gorm:"size:64;not null;index" json:"license_id,omitempty"`
	OrderID    string             `gorm:"size:128;not null" json:"order_id,omitempty"`
	Payload    string             `gorm:"type:text;not null" json:"-"`
	CreatedAt  time.Time          `json:"received_at"`
	ClaimedAt  time.Time          `gorm:"not null" json:"-"`
	FinishedAt *time.Time         `json:"finished_at"`
}
