package workflows

import "time"

// RenewRequest extends the license on the same DLID: by Months (from the
// current expiry if it is still ahead, from now if the license has expired)
// or to an explicit ExpiresAt.
type RenewRequest struct {
	Months    int        `json:"months,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// PaymentRef identifies the payment; a renewal with a ref already seen is
	// ignored, so a redelivered webhook renews once.
	PaymentRef string `json:"payment_ref,omitempty"`
	// OrderID is a paid renewal order to invoice, if any.
	OrderID string `json:"order_id,omitempty"`
}

// ChangeTierRequest moves the license to another tier and rebuilds its
// tier entitlements (custom add-ons stay).
type ChangeTierRequest struct {
	Tier      string `json:"tier"`
	RequestID string `json:"request_id,omitempty"`
}

// SetMaxDomainsRequest changes how many domains may be active at once.
type SetMaxDomainsRequest struct {
	MaxDomains int `json:"max_domains"`
	// ActiveDomains is the caller's count of currently active domains; the
	// limit cannot shrink below it.
	ActiveDomains int    `json:"active_domains,omitempty"`
	RequestID     string `json:"request_id,omitempty"`
}

// SuspendRequest stops the license validating until it is reinstated.
type SuspendRequest struct {
	Reason    string `json:"reason,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// ReinstateRequest lifts a suspension.
type ReinstateRequest struct {
	RequestID string `json:"request_id,omitempty"`
}

// RevokeRequest ends the license for good.
type RevokeRequest struct {
	Reason    string `json:"reason,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// PaymentFailedRequest reports a failed renewal payment.
type PaymentFailedRequest struct {
	// EventID is the payment event (Stripe event id); a redelivery changes nothing.
	EventID string `json:"event_id"`
	// AmountDue is shown to the customer, formatted (149.00 EUR).
	AmountDue string `json:"amount_due,omitempty"`
	// PaymentURL is where the customer can pay or update the payment method.
	PaymentURL string `json:"payment_url,omitempty"`
}

// AddEntitlementRequest grants one more product.
type AddEntitlementRequest struct {
	Product   string `json:"product"`
	RequestID string `json:"request_id,omitempty"`
}
