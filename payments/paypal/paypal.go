// Package paypal adapts PayPal to licenseflow: it verifies webhook
// signatures the way PayPal documents for self-verification (no call back to
// PayPal's API), and reads the few fields licenseflow acts on from each
// event. Nothing else speaks PayPal's wire format.
package paypal

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Tolerance is how far PAYPAL-TRANSMISSION-TIME may lie before now (a
// replay of an old delivery) or after it (a transmission "from the future"
// would stay replayable for as long as it pleases).
const Tolerance = 5 * time.Minute

var (
	// ErrBadSignature is a delivery that PayPal did not sign for this
	// webhook, or that cannot be checked at all. It is permanent: the caller
	// answers 400.
	ErrBadSignature = errors.New("bad PayPal signature")
	// ErrCertUnavailable is a signing certificate that could not be fetched
	// (network error, non-200). It is transient: the caller answers 503 so
	// PayPal redelivers later.
	ErrCertUnavailable = errors.New("PayPal's signing certificate is unavailable")
	// ErrInvalidEvent is a body whose signature holds but which is not a
	// PayPal event envelope. PayPal signed it, so redelivering it will not
	// change it.
	ErrInvalidEvent = errors.New("not a PayPal webhook event")
)

// The headers PayPal signs a delivery with.
const (
	headerTransmissionID   = "PAYPAL-TRANSMISSION-ID"
	headerTransmissionTime = "PAYPAL-TRANSMISSION-TIME"
	headerTransmissionSig  = "PAYPAL-TRANSMISSION-SIG"
	headerCertURL          = "PAYPAL-CERT-URL"
	headerAuthAlgo         = "PAYPAL-AUTH-ALGO"
)

// authAlgo is the only algorithm PayPal signs webhooks with; accepting
// whatever the header names would let a sender pick a weaker one.
const authAlgo = "SHA256withRSA"

// Verifier checks that webhook deliveries were signed by PayPal for one
// webhook. Its fields are exported so tests can point it at a loopback
// certificate host, their own roots and client; use NewVerifier otherwise.
type Verifier struct {
	// WebhookID is the id PayPal gave the webhook (PAYPAL_WEBHOOK_ID); it
	// is part of every signed message, so a delivery meant for another
	// webhook (another merchant's, say) does not verify here.
	WebhookID string
	// CertHosts are the only hosts (host[:port], compared exactly) a
	// PAYPAL-CERT-URL may name: the certificate is fetched from wherever
	// the header says, so the header alone must not choose the server.
	CertHosts []string
	// Roots verify the certificate chain; nil means the system roots.
	Roots *x509.CertPool
	// Client fetches certificates.
	Client *http.Client
	// Now is the clock for the transmission time and certificate validity
	// (time.Now if nil).
	Now func() time.Time

	mu    sync.Mutex
	certs map[string]*certEntry
}

// NewVerifier is a Verifier for PayPal's live and sandbox certificate hosts,
// the system roots, and a client that gives up after 10 seconds.
func NewVerifier(webhookID string) *Verifier {
	return &Verifier{
		WebhookID: webhookID,
		CertHosts: []string{"api.paypal.com", "api-m.paypal.com", "api.sandbox.paypal.com", "api-m.sandbox.paypal.com"},
		Client:    &http.Client{Timeout: 10 * time.Second},
		Now:       time.Now,
	}
}

// Event is a verified webhook event.
type Event struct {
	ID           string
	EventType    string
	ResourceType string
	CreateTime   time.Time
	// Resource is the event's resource, raw; read it with Decode.
	Resource json.RawMessage
}

// Decode reads the event's resource into v.
func (e Event) Decode(v any) error {
	if err := json.Unmarshal(e.Resource, v); err != nil {
		return fmt.Errorf("read %s event %s: %w", e.EventType, e.ID, err)
	}
	return nil
}

// Event types licenseflow acts on.
const (
	CheckoutOrderCompleted = "CHECKOUT.ORDER.COMPLETED"
	CaptureCompleted       = "PAYMENT.CAPTURE.COMPLETED"
	CaptureDenied          = "PAYMENT.CAPTURE.DENIED"
	CaptureRefunded        = "PAYMENT.CAPTURE.REFUNDED"
	SaleCompleted          = "PAYMENT.SALE.COMPLETED"
	SaleDenied             = "PAYMENT.SALE.DENIED"
	SaleRefunded           = "PAYMENT.SALE.REFUNDED"
	DisputeCreated         = "CUSTOMER.DISPUTE.CREATED"
	SubscriptionCancelled  = "BILLING.SUBSCRIPTION.CANCELLED"
)

// Verify checks a delivery's PAYPAL-* headers against its raw body and
// returns the event it carries. PayPal signs
//
//	transmission id | transmission time | webhook id | CRC32 of the body
//
// with the key of the certificate at PAYPAL-CERT-URL, which is fetched only
// from CertHosts, must chain to Roots and is cached until it expires.
//
// A refusal wraps ErrBadSignature (answer 400), ErrCertUnavailable (answer
// 503, PayPal redelivers) or, for a signed body that is no event,
// ErrInvalidEvent.
//
// The body enters the signature only through CRC32, which is no
// cryptographic hash: that is PayPal's design, and why the transmission time
// is held to Tolerance and callers should act on events idempotently (by
// event id).
func (v *Verifier) Verify(ctx context.Context, payload []byte, h http.Header) (Event, error) {
	if v.WebhookID == "" {
		return Event{}, fmt.Errorf("%w: PAYPAL_WEBHOOK_ID is not set; copy the webhook's id from the PayPal developer dashboard", ErrBadSignature)
	}
	for _, name := range []string{headerTransmissionID, headerTransmissionTime, headerTransmissionSig, headerCertURL, headerAuthAlgo} {
		if h.Get(name) == "" {
			return Event{}, fmt.Errorf("%w: the %s header is missing", ErrBadSignature, name)
		}
	}
	transmissionID, sentAt := h.Get(headerTransmissionID), h.Get(headerTransmissionTime)
	if algo := h.Get(headerAuthAlgo); algo != authAlgo {
		return Event{}, fmt.Errorf("%w: %s is %q; only %s is accepted", ErrBadSignature, headerAuthAlgo, algo, authAlgo)
	}
	at, err := time.Parse(time.RFC3339, sentAt)
	if err != nil {
		return Event{}, fmt.Errorf("%w: %s %q is not an RFC 3339 time", ErrBadSignature, headerTransmissionTime, sentAt)
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	switch {
	case now.Sub(at) > Tolerance:
		return Event{}, fmt.Errorf("%w: the transmission is %s old (at most %s is tolerated)", ErrBadSignature, now.Sub(at).Round(time.Second), Tolerance)
	case at.Sub(now) > Tolerance:
		return Event{}, fmt.Errorf("%w: the transmission is timestamped %s ahead of this server's clock (at most %s is tolerated)",
			ErrBadSignature, at.Sub(now).Round(time.Second), Tolerance)
	}
	sig, err := base64.StdEncoding.DecodeString(h.Get(headerTransmissionSig))
	if err != nil {
		return Event{}, fmt.Errorf("%w: %s is not base64: %v", ErrBadSignature, headerTransmissionSig, err)
	}
	key, err := v.signingKey(ctx, h.Get(headerCertURL), now)
	if err != nil {
		return Event{}, err
	}
	// The header's own spelling of the time is what PayPal signed, not a
	// re-formatting of the parsed value.
	message := fmt.Sprintf("%s|%s|%s|%d", transmissionID, sentAt, v.WebhookID, crc32.ChecksumIEEE(payload))
	digest := sha256.Sum256([]byte(message))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig); err != nil {
		return Event{}, fmt.Errorf("%w: the signature does not verify for webhook %s (is PAYPAL_WEBHOOK_ID the id of the webhook PayPal delivers to?)",
			ErrBadSignature, v.WebhookID)
	}
	return parseEvent(payload)
}

// paypalID is what PayPal's ids look like (events: "WH-2WR32451HC0233532-67976317FL4543714",
// captures: "2GG279541U471931P"); anything else is refused before it
// reaches a log line or a database key.
var paypalID = regexp.MustCompile(`^[A-Za-z0-9-]{1,100}$`)

// parseEvent reads a verified body's envelope.
func parseEvent(payload []byte) (Event, error) {
	var env struct {
		ID           string          `json:"id"`
		EventType    string          `json:"event_type"`
		ResourceType string          `json:"resource_type"`
		CreateTime   string          `json:"create_time"`
		Resource     json.RawMessage `json:"resource"`
	}
	if err := json.Unmarshal(payload, &env); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return Event{}, fmt.Errorf("%w: the body is not JSON: %v", ErrInvalidEvent, err)
		}
		return Event{}, fmt.Errorf("%w: the body is JSON but not an object", ErrInvalidEvent)
	}
	switch {
	case !paypalID.MatchString(env.ID):
		return Event{}, fmt.Errorf("%w: id %q is not a PayPal event id (1 to 100 letters, digits and dashes)", ErrInvalidEvent, env.ID)
	case strings.TrimSpace(env.EventType) == "":
		return Event{}, fmt.Errorf("%w: event %s has no event_type", ErrInvalidEvent, env.ID)
	case len(env.EventType) > 100:
		return Event{}, fmt.Errorf("%w: event %s has an event_type of %d bytes (at most 100)", ErrInvalidEvent, env.ID, len(env.EventType))
	}
	ev := Event{ID: env.ID, EventType: env.EventType, ResourceType: env.ResourceType, Resource: env.Resource}
	if env.CreateTime != "" {
		t, err := time.Parse(time.RFC3339, env.CreateTime)
		if err != nil {
			return Event{}, fmt.Errorf("%w: event %s has create_time %q, not an RFC 3339 time", ErrInvalidEvent, env.ID, env.CreateTime)
		}
		ev.CreateTime = t
	}
	return ev, nil
}
