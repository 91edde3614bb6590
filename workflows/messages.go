package workflows

import "time"

// Every message names its Actor: who asked for the change, as the license's
// ledger records it ("token:crm", "admin:ops@vendor.example",
// "stripe:evt_…"). It never changes what the message does.

// RenewRequest extends the license on the same DLID: by Months (from the
// current expiry if it is still ahead, from now if the license has expired)
// or to the end of a paid period (ExpiresAt, from a payment provider). A
// renewal starts a new paid period and never shortens the license.
type RenewRequest struct {
	Months    int        `json:"months,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// PaymentRef identifies the payment; a renewal with a ref already seen is
	// ignored, so a redelivered webhook renews once.
	PaymentRef string `json:"payment_ref,omitempty"`
	// OrderID is a paid renewal order to invoice, if any.
	OrderID string `json:"order_id,omitempty"`
	Actor   string `json:"actor,omitempty"`
}

// CorrectExpiryRequest moves the expiry to ExpiresAt, earlier or later: an
// operator's correction, not a renewal. The paid period's start and the
// renewal count stay; the deadlines are re-armed against the new expiry, and
// every reminder whose deadline still lies ahead goes out once.
type CorrectExpiryRequest struct {
	ExpiresAt time.Time `json:"expires_at"`
	Reason    string    `json:"reason,omitempty"`
	RequestID string    `json:"request_id,omitempty"`
	Actor     string    `json:"actor,omitempty"`
}

// ChangeTierRequest moves the license to another tier and rebuilds its
// tier entitlements (custom add-ons stay).
type ChangeTierRequest struct {
	Tier      string `json:"tier"`
	RequestID string `json:"request_id,omitempty"`
	Actor     string `json:"actor,omitempty"`
}

// SetMaxDomainsRequest changes how many domains may be active at once.
type SetMaxDomainsRequest struct {
	MaxDomains int `json:"max_domains"`
	// ActiveDomains is the caller's count of currently active domains; the
	// limit cannot shrink below it.
	ActiveDomains int    `json:"active_domains,omitempty"`
	RequestID     string `json:"request_id,omitempty"`
	Actor         string `json:"actor,omitempty"`
}

// SuspendRequest stops the license validating until it is reinstated.
type SuspendRequest struct {
	Reason    string `json:"reason,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	Actor     string `json:"actor,omitempty"`
}

// ReinstateRequest lifts a suspension.
type ReinstateRequest struct {
	RequestID string `json:"request_id,omitempty"`
	Actor     string `json:"actor,omitempty"`
}

// RevokeRequest ends the license for good.
type RevokeRequest struct {
	Reason    string `json:"reason,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	Actor     string `json:"actor,omitempty"`
}

// PaymentFailedRequest reports a failed renewal payment.
type PaymentFailedRequest struct {
	// EventID is the payment event (Stripe event id); a redelivery changes nothing.
	EventID string `json:"event_id"`
	// AmountDue is shown to the customer, formatted (149.00 EUR).
	AmountDue string `json:"amount_due,omitempty"`
	// PaymentURL is where the customer can pay or update the payment method.
	PaymentURL string `json:"payment_url,omitempty"`
	Actor      string `json:"actor,omitempty"`
}

// AddEntitlementRequest grants one more product.
type AddEntitlementRequest struct {
	Product   string `json:"product"`
	RequestID string `json:"request_id,omitempty"`
	Actor     string `json:"actor,omitempty"`
}

// message is what every request carries besides its change: the ref that
// makes a redelivery change nothing, and who sent it.
type message interface {
	dedupeRef() string
	sentBy() string
}

func (r RenewRequest) dedupeRef() string          { return r.PaymentRef }
func (r RenewRequest) sentBy() string             { return r.Actor }
func (r CorrectExpiryRequest) dedupeRef() string  { return r.RequestID }
func (r CorrectExpiryRequest) sentBy() string     { return r.Actor }
func (r ChangeTierRequest) dedupeRef() string     { return r.RequestID }
func (r ChangeTierRequest) sentBy() string        { return r.Actor }
func (r SetMaxDomainsRequest) dedupeRef() string  { return r.RequestID }
func (r SetMaxDomainsRequest) sentBy() string     { return r.Actor }
func (r SuspendRequest) dedupeRef() string        { return r.RequestID }
func (r SuspendRequest) sentBy() string           { return r.Actor }
func (r ReinstateRequest) dedupeRef() string      { return r.RequestID }
func (r ReinstateRequest) sentBy() string         { return r.Actor }
func (r RevokeRequest) dedupeRef() string         { return r.RequestID }
func (r RevokeRequest) sentBy() string            { return r.Actor }
func (r PaymentFailedRequest) dedupeRef() string  { return r.EventID }
func (r PaymentFailedRequest) sentBy() string     { return r.Actor }
func (r AddEntitlementRequest) dedupeRef() string { return r.RequestID }
func (r AddEntitlementRequest) sentBy() string    { return r.Actor }
