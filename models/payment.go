package models

import "time"

// PaymentProvider is who took a payment: Stripe, PayPal or Paddle.
type PaymentProvider string

// Payment providers whose webhooks licenseflow acts on.
const (
	ProviderStripe PaymentProvider = "stripe"
	ProviderPayPal PaymentProvider = "paypal"
	ProviderPaddle PaymentProvider = "paddle"
)

// MerchantOfRecord reports whether the provider sells in its own name
// (Paddle): it invoices the buyer and credits refunds itself, so
// licenseflow records its invoice number instead of issuing its own.
func (p PaymentProvider) MerchantOfRecord() bool { return p == ProviderPaddle }

// Title is the provider's name as people write it.
func (p PaymentProvider) Title() string {
	switch p {
	case ProviderPayPal:
		return "PayPal"
	case ProviderPaddle:
		return "Paddle"
	}
	return "Stripe"
}

// PaymentEventKey is the id a provider's event is recorded under: Stripe's
// own id (events were recorded so before other providers came), the
// provider-qualified id for the others ("paypal:WH-…", "paddle:evt_…"), so
// two providers' ids never collide.
func PaymentEventKey(p PaymentProvider, id string) string {
	if p == ProviderStripe || p == "" {
		return id
	}
	return string(p) + ":" + id
}

// ProviderPayment names a payment PayPal or Paddle took: the provider and
// its ids, so a refund, a dispute or the next renewal finds the order and
// the license it paid for. (Stripe's richer links are StripeLinks.)
type ProviderPayment struct {
	Provider PaymentProvider
	// PaymentID is PayPal's capture or sale id, Paddle's transaction id.
	PaymentID string
	// SubscriptionID is PayPal's subscription (I-…) or Paddle's (sub_…).
	SubscriptionID string
	// InvoiceNumber is the merchant of record's own invoice (Paddle).
	InvoiceNumber string
}

// PaymentEventOutcome is what became of a payment provider's webhook event.
type PaymentEventOutcome string

const (
	// PaymentEventReceived: recorded and being handled (or its handler crashed).
	PaymentEventReceived PaymentEventOutcome = "received"
	// PaymentEventProcessed: acted upon.
	PaymentEventProcessed PaymentEventOutcome = "processed"
	// PaymentEventIgnored: a type licenseflow does not act on, or nothing to do.
	PaymentEventIgnored PaymentEventOutcome = "ignored"
	// PaymentEventFailed: could not be acted upon for good (Reason says why).
	PaymentEventFailed PaymentEventOutcome = "failed"
	// PaymentEventNeedsReview: a payment licenseflow did not act on because it
	// matches no license or does not pay for what it asks; it waits for an
	// operator (Reason says why), who was told by a payment.needs_review
	// webhook event.
	PaymentEventNeedsReview PaymentEventOutcome = "needs_review"
)

// PaymentEvent is one webhook event of a payment provider, recorded before
// it is handled: its id (PaymentEventKey) is unique, so each event is
// handled once however often the provider sends it.
type PaymentEvent struct {
	ID         string              `gorm:"primaryKey;size:120" json:"id"`
	Provider   PaymentProvider     `gorm:"size:16;not null;default:'stripe';index" json:"provider"`
	Type       string              `gorm:"size:100;not null;index" json:"type"`
	Livemode   bool                `gorm:"not null" json:"livemode"`
	Outcome    PaymentEventOutcome `gorm:"size:16;not null;index" json:"outcome"`
	Reason     string              `gorm:"size:1000;not null" json:"reason,omitempty"`
	LicenseID  string              `gorm:"size:64;not null;index" json:"license_id,omitempty"`
	OrderID    string              `gorm:"size:128;not null" json:"order_id,omitempty"`
	Payload    string              `gorm:"type:text;not null" json:"-"`
	CreatedAt  time.Time           `json:"received_at"`
	ClaimedAt  time.Time           `gorm:"not null" json:"-"`
	FinishedAt *time.Time          `json:"finished_at"`
}

// TableName keeps the table Stripe's events were first recorded in.
func (PaymentEvent) TableName() string { return "stripe_events" }

// ProviderCustomer is a payment provider's customer as its events describe
// them: Paddle names a transaction's buyer only by customer id, and sends
// the address in customer.created and customer.updated.
type ProviderCustomer struct {
	Provider  PaymentProvider `gorm:"primaryKey;size:16"`
	ID        string          `gorm:"primaryKey;size:100"`
	Email     string          `gorm:"size:320;not null"`
	Name      string          `gorm:"size:200;not null"`
	UpdatedAt time.Time
}
