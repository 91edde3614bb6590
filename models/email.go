package models

import "time"

// EmailStatus tracks an outbox message.
type EmailStatus string

const (
	// EmailQueued: recorded, not yet handed to SMTP.
	EmailQueued EmailStatus = "queued"
	// EmailSent: accepted by the SMTP server.
	EmailSent EmailStatus = "sent"
	// EmailHeld: no SMTP server is configured; the message stays readable in the outbox.
	EmailHeld EmailStatus = "held"
	// EmailFailed: the SMTP server refused it for good (e.g. a bad address).
	EmailFailed EmailStatus = "failed"
)

// EmailMessage is one message in the outbox. The idempotency key (workflow
// id + step + expiry) makes each workflow step send at most one message.
type EmailMessage struct {
	ID                uint        `gorm:"primaryKey" json:"id"`
	IdempotencyKey    string      `gorm:"size:300;not null;uniqueIndex" json:"idempotency_key"`
	To                string      `gorm:"column:to_address;size:320;not null;index" json:"to"`
	Template          string      `gorm:"size:64;not null" json:"template"`
	Subject           string      `gorm:"size:300;not null" json:"subject"`
	TextBody          string      `gorm:"not null" json:"text_body"`
	HTMLBody          string      `gorm:"not null" json:"html_body"`
	LicenseID         string      `gorm:"size:64;not null;index" json:"license_id"`
	InvoiceNumber     string      `gorm:"size:32;not null" json:"invoice_number,omitempty"`
	Status            EmailStatus `gorm:"size:16;not null;index" json:"status"`
	Attempts          int         `gorm:"not null" json:"attempts"`
	LastError         string      `gorm:"not null" json:"last_error,omitempty"`
	ProviderMessageID string      `gorm:"size:300;not null" json:"provider_message_id,omitempty"`
	SentAt            *time.Time  `json:"sent_at"`
	CreatedAt         time.Time   `json:"created_at"`
	UpdatedAt         time.Time   `json:"updated_at"`
}

// EmailOutcome is what happened when a message was handed to delivery.
type EmailOutcome struct {
	Status            EmailStatus
	ProviderMessageID string
	Error             string
	At                time.Time
	// DropBody replaces the stored bodies with a note (the message held a
	// secret that must not outlive its sending).
	DropBody bool
}

// SignInTemplate is the email template of sign-in links, whose bodies the
// outbox does not keep once the link could be used.
const SignInTemplate = "magic-link"

// DroppedBody stands in for the body of a message that is not kept.
const DroppedBody = "(Not kept: this email held a single-use sign-in link. It was sent; ask for a new link to sign in.)"

// EmailFilter narrows an outbox listing.
type EmailFilter struct {
	LicenseID string
	To        string
	Template  string
	Status    EmailStatus
	Limit     int
}
