package models

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"
)

// Messages to a license's workflow. Each is a type that knows its own name,
// so a message can never be sent under another's name; whether it may go as
// an update (validated before anything enters the workflow's history,
// answered with the new state: the API's calls), as a signal (durable once
// accepted, applied when the license can take it: payment webhooks), or as
// both, is part of its type too.

// LicenseMessage is what every message to a license's workflow carries: its
// name, the ref that makes a redelivery change nothing, and who sent it
// (Actor: "token:crm", "admin:ops@vendor.example", "stripe:evt_…", as the
// license's ledger records it; it never changes what the message does).
type LicenseMessage interface {
	MessageName() string
	DedupeRef() string
	SentBy() string
}

// LicenseUpdate is a message that may be sent as an update. Only a pointer
// implements it: the door to Temporal stamps the sender on it before
// sending.
type LicenseUpdate interface {
	LicenseMessage
	Stamp(actor string)
	update()
}

// LicenseSignal is a message that may be sent as a signal (a pointer, like
// LicenseUpdate).
type LicenseSignal interface {
	LicenseMessage
	Stamp(actor string)
	signal()
}

type actorKey struct{}

// WithActor marks ctx with who is asking for changes. The HTTP side sets it
// where it learns who the caller is; the door to Temporal stamps it on every
// message it sends and every license it starts.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFrom is the actor WithActor put in ctx, or "".
func ActorFrom(ctx context.Context) string {
	a, _ := ctx.Value(actorKey{}).(string)
	return a
}

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

// AddEntitlementRequest grants a product beyond the tier (a custom add-on
// that survives tier changes).
type AddEntitlementRequest struct {
	Product string `json:"product"`
	// OrderID is the paid add-on order that bought the product (empty: a
	// grant by hand); the license invoices it once, and the order, not
	// RequestID, makes a redelivery change nothing.
	OrderID   string `json:"order_id,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	Actor     string `json:"actor,omitempty"`
}

// RemoveEntitlementRequest takes back a custom add-on: a refunded add-on,
// or a grant an operator withdraws. A product the tier grants stays
// granted by the tier.
type RemoveEntitlementRequest struct {
	Product   string `json:"product"`
	Reason    string `json:"reason,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	Actor     string `json:"actor,omitempty"`
}

// PaymentFailedRequest reports a failed renewal payment; the license emails
// the customer (dunning). A signal only: payment webhooks send it.
type PaymentFailedRequest struct {
	// EventID is the payment event (Stripe event id); a redelivery changes nothing.
	EventID string `json:"event_id"`
	// AmountDue is shown to the customer, formatted (149.00 EUR).
	AmountDue string `json:"amount_due,omitempty"`
	// PaymentURL is where the customer can pay or update the payment method.
	PaymentURL string `json:"payment_url,omitempty"`
	Actor      string `json:"actor,omitempty"`
}

// SuspiciousUsageNotice reports a day on which a key was used far beyond
// its license (see KeySharingRule): the license records it in its ledger
// and tells the CRM (license.suspicious_usage); it changes nothing else,
// and never suspends. A signal only: the key-sharing watch sends it.
type SuspiciousUsageNotice struct {
	// Day is the UTC day (2006-01-02); one notice per license and day.
	Day string `json:"day"`
	// Addresses counts the distinct client addresses that used the key.
	Addresses int `json:"addresses"`
	// UnactivatedDomains are domains (at most ten) that asked with the key
	// without being activated on the license; UnactivatedCount counts all.
	UnactivatedDomains []string `json:"unactivated_domains,omitempty"`
	UnactivatedCount   int      `json:"unactivated_count"`
	MaxDomains         int      `json:"max_domains"`
	Actor              string   `json:"actor,omitempty"`
}

// Summary is the notice as the ledger and the CRM read it.
func (r SuspiciousUsageNotice) Summary() string {
	s := fmt.Sprintf("on %s the key was used from %d addresses and by %d domains not activated (the license has %d domain slots)",
		r.Day, r.Addresses, r.UnactivatedCount, r.MaxDomains)
	if len(r.UnactivatedDomains) > 0 {
		s += ": " + strings.Join(r.UnactivatedDomains, ", ")
	}
	return Clip(s, 990) // the ledger's note holds 1000 characters
}

// PatchRequest applies several changes as one, all or nothing: the tier,
// then max domains, then the expiry (a renewal, or a correction to
// ExpiresAt), then the status (active reinstates a suspended license;
// suspended; revoked). An update only: the API's PATCH sends it.
type PatchRequest struct {
	// Name relabels the license; an empty name clears the label.
	Name       *string               `json:"name,omitempty"`
	Tier       string                `json:"tier,omitempty"`
	MaxDomains *SetMaxDomainsRequest `json:"max_domains,omitempty"`
	Renew      *RenewRequest         `json:"renew,omitempty"`
	ExpiresAt  *time.Time            `json:"expires_at,omitempty"`
	Status     LicenseStatus         `json:"status,omitempty"`
	Reason     string                `json:"reason,omitempty"`
	RequestID  string                `json:"request_id,omitempty"`
	Actor      string                `json:"actor,omitempty"`
}

// The messages' names in the workflow's history: each action is its own
// name; the rest are named here.
const (
	messageAddEntitlement    = "add-entitlement"
	messageRemoveEntitlement = "remove-entitlement"
	messagePatch             = "patch"
)

func (RenewRequest) MessageName() string          { return string(ActionRenew) }
func (CorrectExpiryRequest) MessageName() string  { return string(ActionCorrectExpiry) }
func (ChangeTierRequest) MessageName() string     { return string(ActionChangeTier) }
func (SetMaxDomainsRequest) MessageName() string  { return string(ActionSetMaxDomains) }
func (SuspendRequest) MessageName() string        { return string(ActionSuspend) }
func (ReinstateRequest) MessageName() string      { return string(ActionReinstate) }
func (RevokeRequest) MessageName() string         { return string(ActionRevoke) }
func (AddEntitlementRequest) MessageName() string { return messageAddEntitlement }
func (RemoveEntitlementRequest) MessageName() string {
	return messageRemoveEntitlement
}
func (PaymentFailedRequest) MessageName() string  { return LedgerPaymentFailed }
func (SuspiciousUsageNotice) MessageName() string { return LedgerSuspiciousUsage }
func (PatchRequest) MessageName() string          { return messagePatch }

func (r RenewRequest) DedupeRef() string         { return r.PaymentRef }
func (r CorrectExpiryRequest) DedupeRef() string { return r.RequestID }
func (r ChangeTierRequest) DedupeRef() string    { return r.RequestID }
func (r SetMaxDomainsRequest) DedupeRef() string { return r.RequestID }
func (r SuspendRequest) DedupeRef() string       { return r.RequestID }
func (r ReinstateRequest) DedupeRef() string     { return r.RequestID }
func (r RevokeRequest) DedupeRef() string        { return r.RequestID }
func (r AddEntitlementRequest) DedupeRef() string {
	if r.OrderID != "" {
		return "addon:" + r.OrderID
	}
	return r.RequestID
}
func (r RemoveEntitlementRequest) DedupeRef() string { return r.RequestID }
func (r PaymentFailedRequest) DedupeRef() string     { return r.EventID }
func (r SuspiciousUsageNotice) DedupeRef() string    { return "suspicious-usage:" + r.Day }
func (r PatchRequest) DedupeRef() string             { return r.RequestID }

func (r RenewRequest) SentBy() string             { return r.Actor }
func (r CorrectExpiryRequest) SentBy() string     { return r.Actor }
func (r ChangeTierRequest) SentBy() string        { return r.Actor }
func (r SetMaxDomainsRequest) SentBy() string     { return r.Actor }
func (r SuspendRequest) SentBy() string           { return r.Actor }
func (r ReinstateRequest) SentBy() string         { return r.Actor }
func (r RevokeRequest) SentBy() string            { return r.Actor }
func (r AddEntitlementRequest) SentBy() string    { return r.Actor }
func (r RemoveEntitlementRequest) SentBy() string { return r.Actor }
func (r PaymentFailedRequest) SentBy() string     { return r.Actor }
func (r SuspiciousUsageNotice) SentBy() string    { return r.Actor }
func (r PatchRequest) SentBy() string             { return r.Actor }

// Stamp sets the actor unless the message names one already.
func (r *RenewRequest) Stamp(actor string)             { r.Actor = cmp.Or(r.Actor, actor) }
func (r *CorrectExpiryRequest) Stamp(actor string)     { r.Actor = cmp.Or(r.Actor, actor) }
func (r *ChangeTierRequest) Stamp(actor string)        { r.Actor = cmp.Or(r.Actor, actor) }
func (r *SetMaxDomainsRequest) Stamp(actor string)     { r.Actor = cmp.Or(r.Actor, actor) }
func (r *SuspendRequest) Stamp(actor string)           { r.Actor = cmp.Or(r.Actor, actor) }
func (r *ReinstateRequest) Stamp(actor string)         { r.Actor = cmp.Or(r.Actor, actor) }
func (r *RevokeRequest) Stamp(actor string)            { r.Actor = cmp.Or(r.Actor, actor) }
func (r *AddEntitlementRequest) Stamp(actor string)    { r.Actor = cmp.Or(r.Actor, actor) }
func (r *RemoveEntitlementRequest) Stamp(actor string) { r.Actor = cmp.Or(r.Actor, actor) }
func (r *PaymentFailedRequest) Stamp(actor string)     { r.Actor = cmp.Or(r.Actor, actor) }
func (r *SuspiciousUsageNotice) Stamp(actor string)    { r.Actor = cmp.Or(r.Actor, actor) }
func (r *PatchRequest) Stamp(actor string)             { r.Actor = cmp.Or(r.Actor, actor) }

// Updates: everything but the dunning notice.
func (RenewRequest) update()             {}
func (CorrectExpiryRequest) update()     {}
func (ChangeTierRequest) update()        {}
func (SetMaxDomainsRequest) update()     {}
func (SuspendRequest) update()           {}
func (ReinstateRequest) update()         {}
func (RevokeRequest) update()            {}
func (AddEntitlementRequest) update()    {}
func (RemoveEntitlementRequest) update() {}
func (PatchRequest) update()             {}

// Signals: everything but the patch, whose all-or-nothing answer only an
// update can give.
func (RenewRequest) signal()             {}
func (CorrectExpiryRequest) signal()     {}
func (ChangeTierRequest) signal()        {}
func (SetMaxDomainsRequest) signal()     {}
func (SuspendRequest) signal()           {}
func (ReinstateRequest) signal()         {}
func (RevokeRequest) signal()            {}
func (AddEntitlementRequest) signal()    {}
func (RemoveEntitlementRequest) signal() {}
func (PaymentFailedRequest) signal()     {}
func (SuspiciousUsageNotice) signal()    {}
