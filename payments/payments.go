// Package payments adapts Stripe to licenseflow: it verifies webhook
// signatures, reads the few fields licenseflow acts on from each event, and
// prepares renewal links (Checkout Sessions, or pending CRM orders without
// Stripe). Nothing else imports stripe-go.
package payments

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v79"
	"github.com/stripe/stripe-go/v79/webhook"
)

// SignatureTolerance is how old a signed webhook may be (Stripe's default).
const SignatureTolerance = 300 * time.Second

// ErrBadSignature is a webhook whose Stripe-Signature does not verify with
// any configured secret, is missing, or is too old.
var ErrBadSignature = errors.New("bad Stripe signature")

// Event is a verified webhook event.
type Event struct {
	ID       string
	Type     string
	Livemode bool
	Created  time.Time
	// Object is the event's data.object, raw.
	Object json.RawMessage
}

// Verify checks a webhook payload against every configured signing secret
// (several, so a secret can be rotated without dropping events).
//
// API versions: the event is read with licenseflow's own structs, which
// only use fields that are stable across Stripe API versions, so an
// endpoint on a different API version than stripe-go's is accepted on
// purpose (IgnoreAPIVersionMismatch) instead of rejecting every event.
func Verify(payload []byte, header string, secrets []string) (Event, error) {
	return VerifyAt(payload, header, secrets, time.Now())
}

// VerifyAt is Verify at a given moment: the signature must verify with one
// of the secrets, and its timestamp may lie at most SignatureTolerance
// before now (a replay of an old event) or after it (a signature "from the
// future" would stay replayable for as long as it pleases).
func VerifyAt(payload []byte, header string, secrets []string, now time.Time) (Event, error) {
	if header == "" {
		return Event{}, fmt.Errorf("%w: the Stripe-Signature header is missing", ErrBadSignature)
	}
	at, ok := signedAt(header)
	switch {
	case !ok:
		return Event{}, fmt.Errorf("%w: the Stripe-Signature header has no valid timestamp (t=)", ErrBadSignature)
	case now.Sub(at) > SignatureTolerance:
		return Event{}, fmt.Errorf("%w: the signature is %s old (at most %s is tolerated)", ErrBadSignature, now.Sub(at).Round(time.Second), SignatureTolerance)
	case at.Sub(now) > SignatureTolerance:
		return Event{}, fmt.Errorf("%w: the signature is timestamped %s ahead of this server's clock (at most %s is tolerated)",
			ErrBadSignature, at.Sub(now).Round(time.Second), SignatureTolerance)
	}
	var lastErr error
	for _, secret := range secrets {
		// The timestamp was checked above against now, in both directions.
		e, err := webhook.ConstructEventWithOptions(payload, header, secret, webhook.ConstructEventOptions{
			IgnoreTolerance: true, IgnoreAPIVersionMismatch: true,
		})
		if err == nil {
			ev := Event{ID: e.ID, Type: string(e.Type), Livemode: e.Livemode, Created: time.Unix(e.Created, 0)}
			if e.Data != nil { // an event without data (found by FuzzStripeEvent) has nothing to decode
				ev.Object = e.Data.Raw
			}
			return ev, nil
		}
		lastErr = err
	}
	if lastErr == nil {
		lastErr = errors.New("no webhook signing secret is configured")
	}
	return Event{}, fmt.Errorf("%w: %v", ErrBadSignature, lastErr)
}

// signedAt reads the timestamp of a Stripe-Signature header
// ("t=1495999758,v1=…") the way stripe-go does: the last t= counts, and
// one that is not a number makes the header invalid.
func signedAt(header string) (at time.Time, ok bool) {
	for _, pair := range strings.Split(header, ",") {
		parts := strings.Split(pair, "=")
		if len(parts) != 2 || parts[0] != "t" {
			continue
		}
		secs, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		at, ok = time.Unix(secs, 0), true
	}
	return at, ok
}

// ID is a Stripe object reference: a plain id, or an expanded object whose
// id is taken.
type ID string

// UnmarshalJSON accepts "cus_123" or {"id":"cus_123",…}.
func (i *ID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*i = ID(s)
		return nil
	}
	var obj struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	*i = ID(obj.ID)
	return nil
}

// CheckoutSession is what licenseflow reads from checkout.session.* events.
type CheckoutSession struct {
	ID            string `json:"id"`
	Mode          string `json:"mode"`
	PaymentStatus string `json:"payment_status"`
	Customer      ID     `json:"customer"`
	Subscription  ID     `json:"subscription"`
	PaymentIntent ID     `json:"payment_intent"`
	Invoice       ID     `json:"invoice"`
	AmountTotal   int64  `json:"amount_total"`
	// TotalDetails.AmountDiscount is what the vendor's coupons and
	// promotion codes took off the session.
	TotalDetails struct {
		AmountDiscount int64 `json:"amount_discount"`
		// AmountTax is the tax Stripe Tax computed (included in AmountTotal).
		AmountTax int64 `json:"amount_tax"`
	} `json:"total_details"`
	Currency          string            `json:"currency"`
	ClientReferenceID string            `json:"client_reference_id"`
	Metadata          map[string]string `json:"metadata"`
	CustomerEmail     string            `json:"customer_email"`
	CustomerDetails   struct {
		Email   string `json:"email"`
		Name    string `json:"name"`
		Address struct {
			Country string `json:"country"`
		} `json:"address"`
		// TaxIDs are the buyer's tax IDs ("eu_vat": DE123456789) when
		// Checkout collected them.
		TaxIDs []struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		} `json:"tax_ids"`
	} `json:"customer_details"`
}

// Country is the buyer's billing country as Checkout collected it.
func (s CheckoutSession) Country() string { return s.CustomerDetails.Address.Country }

// VATID is the buyer's EU VAT ID (the first eu_vat tax ID), "" without one.
func (s CheckoutSession) VATID() string {
	for _, t := range s.CustomerDetails.TaxIDs {
		if t.Type == "eu_vat" {
			return t.Value
		}
	}
	return ""
}

// Email is the buyer's address, wherever Checkout put it.
func (s CheckoutSession) Email() string {
	if s.CustomerDetails.Email != "" {
		return s.CustomerDetails.Email
	}
	return s.CustomerEmail
}

// MetadataInt reads an integer from metadata (0 when absent or not a number).
func (s CheckoutSession) MetadataInt(key string) int {
	n, _ := strconv.Atoi(s.Metadata[key])
	return n
}

// Invoice is what licenseflow reads from invoice.* events, in the shapes
// of every API version in use: before 2025-03-31.basil an invoice names its
// subscription and payment intent at the top level; from basil on the
// subscription is at parent.subscription_details.subscription and the
// payment intent in the invoice's payments. Read them through
// SubscriptionID and PaymentIntentID, never the raw fields.
type Invoice struct {
	ID            string `json:"id"`
	Customer      ID     `json:"customer"`
	Subscription  ID     `json:"subscription"`
	PaymentIntent ID     `json:"payment_intent"`
	Parent        struct {
		SubscriptionDetails struct {
			Subscription ID `json:"subscription"`
		} `json:"subscription_details"`
	} `json:"parent"`
	Payments struct {
		Data []struct {
			Status  string `json:"status"`
			Payment struct {
				PaymentIntent ID `json:"payment_intent"`
			} `json:"payment"`
		} `json:"data"`
	} `json:"payments"`
	BillingReason string `json:"billing_reason"`
	AmountPaid    int64  `json:"amount_paid"`
	AmountDue     int64  `json:"amount_due"`
	// Subtotal is the amount before discounts and taxes.
	Subtotal             int64 `json:"subtotal"`
	TotalDiscountAmounts []struct {
		Amount int64 `json:"amount"`
	} `json:"total_discount_amounts"`
	Currency         string `json:"currency"`
	HostedInvoiceURL string `json:"hosted_invoice_url"`
	AttemptCount     int    `json:"attempt_count"`
	Lines            struct {
		Data []struct {
			Period struct {
				Start int64 `json:"start"`
				End   int64 `json:"end"`
			} `json:"period"`
			// The line's price: price.id before 2025-03-31.basil,
			// pricing.price_details.price from then on.
			Price struct {
				ID string `json:"id"`
			} `json:"price"`
			Pricing struct {
				PriceDetails struct {
					Price string `json:"price"`
				} `json:"price_details"`
			} `json:"pricing"`
		} `json:"data"`
	} `json:"lines"`
}

// BeforeDiscounts is what the invoice charged before the vendor's
// discounts (coupons, promotion codes) and taxes.
func (i Invoice) BeforeDiscounts() int64 {
	paid := i.AmountPaid
	for _, d := range i.TotalDiscountAmounts {
		paid += max(d.Amount, 0)
	}
	return max(i.Subtotal, paid)
}

// HasPrice reports whether a line of the invoice bills the Stripe price id.
func (i Invoice) HasPrice(id string) bool {
	for _, l := range i.Lines.Data {
		if id != "" && (l.Price.ID == id || l.Pricing.PriceDetails.Price == id) {
			return true
		}
	}
	return false
}

// SubscriptionID is the subscription the invoice bills, in either shape.
func (i Invoice) SubscriptionID() string {
	if i.Subscription != "" {
		return string(i.Subscription)
	}
	return string(i.Parent.SubscriptionDetails.Subscription)
}

// PaymentIntentID is the payment intent that paid the invoice, in either
// shape (basil lists it in payments, present when Stripe includes them).
func (i Invoice) PaymentIntentID() string {
	if i.PaymentIntent != "" {
		return string(i.PaymentIntent)
	}
	for _, p := range i.Payments.Data {
		if p.Payment.PaymentIntent != "" && (p.Status == "" || p.Status == "paid") {
			return string(p.Payment.PaymentIntent)
		}
	}
	return ""
}

// ServiceEnd is the end of the period this invoice pays for: the latest line
// period end. (The invoice's own period_end is the previous period on
// subscription invoices, so it is not used.)
func (i Invoice) ServiceEnd() (time.Time, bool) {
	var end int64
	for _, l := range i.Lines.Data {
		end = max(end, l.Period.End)
	}
	return time.Unix(end, 0).UTC(), end > 0
}

// Charge is what licenseflow reads from charge.refunded. From basil on a
// charge no longer names its invoice: it is matched by its payment intent.
type Charge struct {
	ID            string `json:"id"`
	PaymentIntent ID     `json:"payment_intent"`
	Invoice       ID     `json:"invoice"`
	Refunded      bool   `json:"refunded"`
	Amount        int64  `json:"amount"`
	// AmountRefunded is cumulative: every refund of the charge so far.
	AmountRefunded int64  `json:"amount_refunded"`
	Currency       string `json:"currency"`
}

// Dispute is what licenseflow reads from charge.dispute.created.
type Dispute struct {
	ID            string `json:"id"`
	Charge        ID     `json:"charge"`
	PaymentIntent ID     `json:"payment_intent"`
	Reason        string `json:"reason"`
}

// Subscription is what licenseflow reads from customer.subscription.*.
type Subscription struct {
	ID       string `json:"id"`
	Customer ID     `json:"customer"`
	Status   string `json:"status"`
}

// Decode reads the event's object into v.
func (e Event) Decode(v any) error {
	if err := json.Unmarshal(e.Object, v); err != nil {
		return fmt.Errorf("read %s event %s: %w", e.Type, e.ID, err)
	}
	return nil
}

// Event types licenseflow acts on.
const (
	CheckoutCompleted      = string(stripe.EventTypeCheckoutSessionCompleted)
	CheckoutAsyncSucceeded = string(stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded)
	InvoicePaid            = string(stripe.EventTypeInvoicePaid)
	InvoicePaymentFailed   = string(stripe.EventTypeInvoicePaymentFailed)
	SubscriptionDeleted    = string(stripe.EventTypeCustomerSubscriptionDeleted)
	ChargeRefunded         = string(stripe.EventTypeChargeRefunded)
	DisputeCreated         = string(stripe.EventTypeChargeDisputeCreated)
)
