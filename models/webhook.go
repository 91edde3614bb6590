package models

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// WebhookEventType names what happened, as a CRM subscribes to it.
type WebhookEventType string

const (
	EventLicenseIssued            WebhookEventType = "license.issued"
	EventLicenseRenewed           WebhookEventType = "license.renewed"
	EventLicenseExpiring          WebhookEventType = "license.expiring"
	EventLicenseExpired           WebhookEventType = "license.expired"
	EventLicenseGraceEnded        WebhookEventType = "license.grace_ended"
	EventLicenseSuspended         WebhookEventType = "license.suspended"
	EventLicenseReinstated        WebhookEventType = "license.reinstated"
	EventLicenseRevoked           WebhookEventType = "license.revoked"
	EventLicenseTierChanged       WebhookEventType = "license.tier_changed"
	EventLicenseDomainActivated   WebhookEventType = "license.domain_activated"
	EventLicenseDomainDeactivated WebhookEventType = "license.domain_deactivated"
	EventLicenseSuspiciousUsage   WebhookEventType = "license.suspicious_usage"
	EventOrderCreated             WebhookEventType = "order.created"
	EventOrderPaid                WebhookEventType = "order.paid"
	EventRenewalRequested         WebhookEventType = "renewal.requested"
	EventPaymentFailed            WebhookEventType = "payment.failed"
	EventReleasePublished         WebhookEventType = "release.published"
	EventPaymentNeedsReview       WebhookEventType = "payment.needs_review"
)

// WebhookEventTypes lists every event type an endpoint can subscribe to.
var WebhookEventTypes = []WebhookEventType{
	EventLicenseIssued, EventLicenseRenewed, EventLicenseExpiring, EventLicenseExpired, EventLicenseGraceEnded,
	EventLicenseSuspended, EventLicenseReinstated, EventLicenseRevoked, EventLicenseTierChanged,
	EventLicenseDomainActivated, EventLicenseDomainDeactivated, EventLicenseSuspiciousUsage, EventOrderCreated, EventOrderPaid, EventRenewalRequested,
	EventPaymentFailed, EventReleasePublished, EventPaymentNeedsReview,
}

// AllWebhookEvents subscribes an endpoint to every event type, those added
// in later versions included.
const AllWebhookEvents = "*"

// WebhookEndpoint is a URL of the vendor's (a CRM) that receives signed
// events of the types it subscribed to.
type WebhookEndpoint struct {
	ID          string     `gorm:"primaryKey;size:64" json:"id"`
	URL         string     `gorm:"size:2048;not null" json:"url"`
	Description string     `gorm:"size:500;not null" json:"description"`
	EventTypes  StringList `gorm:"not null" json:"event_types"`
	// IncludeDLID puts the full key into license events; without it they
	// carry the masked key only.
	IncludeDLID bool `gorm:"column:include_dlid;not null" json:"include_dlid"`
	Enabled     bool `gorm:"not null" json:"enabled"`
	// Secret signs deliveries, sealed for storage (encrypted when a key is
	// configured). It is shown once, when created or rotated.
	Secret string `gorm:"size:400;not null" json:"-"`
	// PreviousSecret also signs deliveries until PreviousUntil, so a
	// receiver can switch to a rotated secret without missing events.
	PreviousSecret string     `gorm:"size:400;not null" json:"-"`
	PreviousUntil  *time.Time `json:"-"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// Subscribed reports whether the endpoint wants events of type t.
func (e WebhookEndpoint) Subscribed(t WebhookEventType) bool {
	return e.EventTypes.Contains(AllWebhookEvents) || e.EventTypes.Contains(string(t))
}

// NewWebhookEndpointID returns an id for a new endpoint.
func NewWebhookEndpointID() string { return newID("we_") }

// NewWebhookEventID returns an id for a new event; receivers dedupe by it.
func NewWebhookEventID() string { return newID("evt_") }

// WebhookSecretRotationOverlap is how long a rotated-out secret still signs
// deliveries beside the new one.
const WebhookSecretRotationOverlap = 24 * time.Hour

// ParseWebhookEventTypes checks a subscription: known event types, or "*"
// for all of them.
func ParseWebhookEventTypes(in []string) (StringList, error) {
	out := normalizedSet(in)
	if len(out) == 0 {
		return nil, Invalid("missing_event_types", "event_types", "subscribe to at least one event type, or \"*\" for all of them")
	}
	for _, t := range out {
		if t != AllWebhookEvents && !slices.Contains(WebhookEventTypes, WebhookEventType(t)) {
			known := make([]string, len(WebhookEventTypes))
			for i, k := range WebhookEventTypes {
				known[i] = string(k)
			}
			return nil, Invalid("unknown_event_type", "event_types", "%q is not an event type; known types: %s (or \"*\")", t, strings.Join(known, ", "))
		}
	}
	return out, nil
}

// CheckWebhookDescription bounds an endpoint's description.
func CheckWebhookDescription(d string) (string, error) {
	d = strings.TrimSpace(d)
	if len(d) > 500 {
		return "", Invalid("description_too_long", "description", "keep the description under 500 characters")
	}
	return d, nil
}

// WebhookEvent is one thing that happened, written to the outbox in the
// same transaction as the change it reports, so none is ever lost.
type WebhookEvent struct {
	// Seq orders events as they were written; a license's events are written
	// one transaction after the other, so Seq is their order too.
	Seq       uint64           `gorm:"primaryKey;autoIncrement" json:"-"`
	ID        string           `gorm:"size:40;not null;uniqueIndex" json:"id"`
	Type      WebhookEventType `gorm:"size:64;not null" json:"type"`
	LicenseID string           `gorm:"size:64;not null;index" json:"license_id,omitempty"`
	// Source names the change that wrote the event ("ledger:<license>:<revision>:<type>",
	// "order:<id>:paid"); it is unique, so a retried write adds nothing.
	Source     string                 `gorm:"size:300;not null;uniqueIndex" json:"-"`
	OccurredAt time.Time              `gorm:"not null" json:"occurred_at"`
	Data       JSONValue[WebhookData] `gorm:"not null" json:"data"`
}

// WebhookData is an event's data object. License events carry the license
// as it is after the change, with the key masked; the full key is added at
// delivery, for endpoints that opted in.
type WebhookData struct {
	License *WebhookLicense `json:"license,omitempty"`
	// Reminder says which reminder an expiring event is: "30d" or "7d".
	Reminder string `json:"reminder,omitempty"`
	// PreviousTier is the tier a license moved away from.
	PreviousTier string          `json:"previous_tier,omitempty"`
	Domain       string          `json:"domain,omitempty"`
	Order        *WebhookOrder   `json:"order,omitempty"`
	Release      *WebhookRelease `json:"release,omitempty"`
	// Reason is why (a suspension's or revocation's reason, a released domain).
	Reason string `json:"reason,omitempty"`
	// Actor is who asked, as the license's ledger records it.
	Actor string `json:"actor,omitempty"`
	// Payment is the provider's event a payment.needs_review is about.
	Payment *WebhookPayment `json:"payment,omitempty"`
}

// WebhookPayment is a payment provider's event held for review, as events
// describe it. StripeEventID is kept for Stripe's events (receivers read it
// from before other providers came).
type WebhookPayment struct {
	Provider      PaymentProvider `json:"provider"`
	EventID       string          `json:"event_id"`
	StripeEventID string          `json:"stripe_event_id,omitempty"`
	Type          string          `json:"type"`
	Livemode      bool            `json:"livemode"`
	OrderID       string          `json:"order_id,omitempty"`
}

// WebhookLicense is a license as events describe it.
type WebhookLicense struct {
	ID            string        `json:"id"`
	DLIDMasked    string        `json:"dlid_masked,omitempty"`
	DLID          string        `json:"dlid,omitempty"`
	Status        LicenseStatus `json:"status"`
	Tier          string        `json:"tier"`
	Type          LicenseType   `json:"type"`
	CustomerEmail string        `json:"customer_email"`
	OrderID       string        `json:"order_id"`
	StartsAt      *time.Time    `json:"starts_at"`
	ExpiresAt     *time.Time    `json:"expires_at"`
	GraceUntil    *time.Time    `json:"grace_until"`
	MaxDomains    int           `json:"max_domains"`
}

// WebhookOrder is an order as events describe it.
type WebhookOrder struct {
	ID            string    `json:"id"`
	Kind          OrderKind `json:"kind"`
	Product       string    `json:"product,omitempty"` // an add-on's product
	CustomerEmail string    `json:"customer_email"`
	Tier          string    `json:"tier"`
	LicenseID     string    `json:"license_id"`
	Months        int       `json:"months"`
	Lifetime      bool      `json:"lifetime"`
	AmountCents   int64     `json:"amount_cents"`
	Currency      string    `json:"currency"`
	PaymentRef    string    `json:"payment_ref,omitempty"`
}

// WebhookRelease is a release as events describe it.
type WebhookRelease struct {
	Product     string    `json:"product"`
	Version     string    `json:"version"`
	Channel     string    `json:"channel"`
	Notes       string    `json:"notes"`
	SHA256      string    `json:"sha256"`
	PublishedAt time.Time `json:"published_at"`
}

// WebhookLicenseOf describes a license (with its customer loaded), key masked.
func WebhookLicenseOf(l License) *WebhookLicense {
	w := &WebhookLicense{ID: l.ID, Status: l.Status, Tier: l.TierKey, Type: l.Type, CustomerEmail: l.Customer.Email,
		OrderID: l.OrderID, StartsAt: l.StartsAt, ExpiresAt: l.ExpiresAt, GraceUntil: l.GraceUntil, MaxDomains: l.MaxDomains}
	if l.DLID != nil {
		w.DLIDMasked = MaskDLID(*l.DLID)
	}
	return w
}

// WebhookOrderOf describes an order (with its customer loaded).
func WebhookOrderOf(o Order) *WebhookOrder {
	return &WebhookOrder{ID: o.ID, Kind: o.Kind, Product: o.Product, CustomerEmail: o.Customer.Email, Tier: o.TierKey, LicenseID: o.LicenseID,
		Months: o.Months, Lifetime: o.Lifetime, AmountCents: o.AmountCents, Currency: o.Currency, PaymentRef: o.PaymentRef}
}

// LicenseChange is one webhook event a license's change brings about,
// before the license snapshot is added.
type LicenseChange struct {
	Type WebhookEventType
	At   time.Time
	Data WebhookData
}

// LicenseChanges derives the webhook events of one projected revision from
// its ledger lines: what moved (status, tier, renewals) and which deadline
// or message caused it. Lines of one revision share their action and actor.
func LicenseChanges(lines []LicenseEvent) []LicenseChange {
	if len(lines) == 0 {
		return nil
	}
	first := lines[0]
	base := WebhookData{Actor: first.Actor}
	var out []LicenseChange
	add := func(t WebhookEventType, d WebhookData) {
		out = append(out, LicenseChange{Type: t, At: first.At, Data: d})
	}
	switch first.Action {
	case LedgerIssue:
		add(EventLicenseIssued, base)
	case LedgerReminder30, LedgerReminder7:
		d := base
		d.Reminder = strings.TrimPrefix(first.Action, "reminder-")
		add(EventLicenseExpiring, d)
	case LedgerExpired:
		add(EventLicenseExpired, base)
	case LedgerGraceEnded:
		add(EventLicenseGraceEnded, base)
	case LedgerPaymentFailed:
		add(EventPaymentFailed, base)
	case LedgerSuspiciousUsage:
		d := base
		d.Reason = first.Note
		add(EventLicenseSuspiciousUsage, d)
	}
	for _, l := range lines {
		switch l.Field {
		case "renewals":
			add(EventLicenseRenewed, base)
		case "tier":
			if first.Action != LedgerIssue && first.Action != LedgerResume {
				d := base
				d.PreviousTier = l.Old
				add(EventLicenseTierChanged, d)
			}
		case "status":
			if t, ok := statusEvent(LicenseStatus(l.Old), LicenseStatus(l.New)); ok && first.Action != LedgerResume {
				d := base
				d.Reason = l.Note
				add(t, d)
			}
		}
	}
	return out
}

// statusEvent names the status moves a webhook reports on its own; the
// expiry-driven moves are reported by their deadlines.
func statusEvent(old, new LicenseStatus) (WebhookEventType, bool) {
	switch {
	case new == StatusSuspended:
		return EventLicenseSuspended, true
	case new == StatusRevoked:
		return EventLicenseRevoked, true
	case old == StatusSuspended:
		return EventLicenseReinstated, true
	}
	return "", false
}

// LicenseEventSource is the unique source of a license change's event.
func LicenseEventSource(licenseID string, revision int64, t WebhookEventType) string {
	return fmt.Sprintf("ledger:%s:%d:%s", licenseID, revision, t)
}

// DeliveryStatus is where one event's delivery to one endpoint stands.
type DeliveryStatus string

const (
	// DeliveryPending: not delivered yet; being attempted or waiting for
	// its next attempt.
	DeliveryPending   DeliveryStatus = "pending"
	DeliveryDelivered DeliveryStatus = "delivered"
	// DeliveryFailed: given up (the endpoint refused it, or retries ran
	// out); an operator can redeliver it.
	DeliveryFailed DeliveryStatus = "failed"
)

// WebhookDelivery is one event on its way to one endpoint, and the log of
// its attempts. The pair (endpoint, event) is unique: an event reaches an
// endpoint once (a redelivery reuses the row).
type WebhookDelivery struct {
	ID         uint64           `gorm:"primaryKey;autoIncrement" json:"id"`
	EndpointID string           `gorm:"size:64;not null;uniqueIndex:ux_webhook_delivery,priority:1;index:ix_webhook_delivery_queue,priority:1" json:"endpoint_id"`
	EventSeq   uint64           `gorm:"not null;uniqueIndex:ux_webhook_delivery,priority:2;index:ix_webhook_delivery_queue,priority:3" json:"-"`
	EventID    string           `gorm:"size:40;not null;index" json:"event_id"`
	EventType  WebhookEventType `gorm:"size:64;not null" json:"event_type"`
	// LicenseID orders deliveries: a license's later event waits for its
	// earlier one on the same endpoint.
	LicenseID string         `gorm:"size:64;not null" json:"license_id,omitempty"`
	Status    DeliveryStatus `gorm:"size:16;not null;index:ix_webhook_delivery_queue,priority:2" json:"status"`
	Attempts  int            `gorm:"not null" json:"attempts"`
	// LastStatusCode is the receiver's last HTTP status (0: no answer).
	LastStatusCode int `gorm:"not null" json:"last_status_code"`
	// LastResponse is the start of the receiver's last answer.
	LastResponse   string     `gorm:"size:1024;not null" json:"last_response"`
	LastError      string     `gorm:"size:1024;not null" json:"last_error"`
	FirstAttemptAt *time.Time `json:"first_attempt_at"`
	LastAttemptAt  *time.Time `json:"last_attempt_at"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
	DeliveredAt    *time.Time `json:"delivered_at"`
	// LeaseUntil is held while an attempt is in flight, so no second
	// attempt of the same delivery overlaps it.
	LeaseUntil *time.Time `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// MaxWebhookResponseExcerpt bounds the stored start of a receiver's answer.
const MaxWebhookResponseExcerpt = 1024

// DeliveryFilter narrows an endpoint's delivery log; zero fields do not filter.
type DeliveryFilter struct {
	EndpointID string
	Status     DeliveryStatus
	EventType  WebhookEventType
	EventID    string
	LicenseID  string
	// Before is the id of the last delivery of the previous page (0: first page).
	Before uint64
	Limit  int
}

// DeliveryClaim is what one delivery attempt needs: the delivery, its
// endpoint and its event.
type DeliveryClaim struct {
	Delivery WebhookDelivery
	Endpoint WebhookEndpoint
	Event    WebhookEvent
	// Claimed is true when this caller holds the delivery's lease and must
	// attempt it; otherwise Delivery says why not (delivered, failed) or
	// another attempt is in flight (InFlight).
	Claimed  bool
	InFlight bool
}

// WebhookPayload is the JSON body of a delivery.
type WebhookPayload struct {
	// ID is the event id: the same in every delivery (and redelivery) of
	// the event, so receivers dedupe by it.
	ID   string           `json:"id"`
	Type WebhookEventType `json:"type"`
	// Created is when the change happened.
	Created time.Time   `json:"created"`
	Data    WebhookData `json:"data"`
}

// DeliveryAttempt is the outcome of one attempt to deliver.
type DeliveryAttempt struct {
	At         time.Time
	StatusCode int
	Response   string
	Error      string
	// Outcome is the delivery's status after the attempt.
	Outcome DeliveryStatus
	// NextAttemptAt is when a pending delivery is tried again.
	NextAttemptAt *time.Time
}
