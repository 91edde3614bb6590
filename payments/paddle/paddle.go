// Package paddle adapts Paddle Billing to licenseflow: it verifies the
// Paddle-Signature of webhook notifications and reads the few fields
// licenseflow acts on from transactions, subscriptions, adjustments and
// customers. It uses the standard library only, no Paddle SDK.
package paddle

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// SignatureTolerance is how far a notification's signed timestamp may lie
// from this server's clock, in either direction. Paddle's SDKs default to a
// few seconds; five minutes (Stripe's default too) absorbs clock skew and a
// slow proxy while keeping a captured notification from being replayed later.
const SignatureTolerance = 5 * time.Minute

// ErrBadSignature is a notification whose Paddle-Signature is missing,
// malformed, outside SignatureTolerance, or matches no configured secret.
var ErrBadSignature = errors.New("bad Paddle signature")

// ErrInvalidEvent is a body whose signature verified but which is not a
// Paddle event: Paddle signed it, so it is a bug or a change on Paddle's
// side to look into, not an attack to shrug off.
var ErrInvalidEvent = errors.New("not a Paddle event")

// Event types licenseflow acts on.
const (
	TransactionCompleted     = "transaction.completed"
	TransactionPaymentFailed = "transaction.payment_failed"
	SubscriptionCanceled     = "subscription.canceled"
	AdjustmentCreated        = "adjustment.created"
	AdjustmentUpdated        = "adjustment.updated"
	CustomerCreated          = "customer.created"
	CustomerUpdated          = "customer.updated"
)

// Event is a verified notification's envelope.
type Event struct {
	ID         string    `json:"event_id"`
	Type       string    `json:"event_type"`
	OccurredAt time.Time `json:"occurred_at"`
	// NotificationID names one notification of the event: Paddle's retries
	// resend it, a replay (dashboard or API) makes a new one for the same
	// event id. Deduplicate on ID, not on this.
	NotificationID string `json:"notification_id"`
	// Data is the entity the event is about, raw.
	Data json.RawMessage `json:"data"`
}

var eventID = regexp.MustCompile(`(?i)^evt_[a-z0-9]{1,60}$`)

const maxEventType = 100

// Verify checks a notification's Paddle-Signature header against every
// configured secret (several, so a notification destination's secret can be
// rotated without dropping events), then reads its envelope.
//
// The header is "ts=<unix seconds>;h1=<hex HMAC-SHA256>", the HMAC keyed with
// the destination's secret over ts + ":" + the raw body; during a rotation
// Paddle sends one h1 per secret. The timestamp must lie within
// SignatureTolerance of now in both directions: an old one is a replay, and
// one "from the future" would stay replayable for as long as it pleases.
func Verify(payload []byte, header string, secrets []string, now time.Time) (Event, error) {
	if header == "" {
		return Event{}, fmt.Errorf("%w: the Paddle-Signature header is missing", ErrBadSignature)
	}
	sig, err := parseHeader(header)
	if err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	switch {
	case now.Sub(sig.at) > SignatureTolerance:
		return Event{}, fmt.Errorf("%w: the signature is %s old (at most %s is tolerated)",
			ErrBadSignature, now.Sub(sig.at).Round(time.Second), SignatureTolerance)
	case sig.at.Sub(now) > SignatureTolerance:
		return Event{}, fmt.Errorf("%w: the signature is timestamped %s ahead of this server's clock (at most %s is tolerated)",
			ErrBadSignature, sig.at.Sub(now).Round(time.Second), SignatureTolerance)
	}
	keys := usable(secrets)
	if len(keys) == 0 {
		return Event{}, fmt.Errorf("%w: no Paddle webhook secret is configured; set PADDLE_WEBHOOK_SECRETS to the notification destination's secret key (pdl_ntfset_…)", ErrBadSignature)
	}
	if !sig.matches(payload, keys) {
		return Event{}, fmt.Errorf("%w: no h1 signature matches a configured secret; check that PADDLE_WEBHOOK_SECRETS holds this notification destination's secret key and that the body reaches us unchanged", ErrBadSignature)
	}
	return readEvent(payload)
}

// Sign builds the Paddle-Signature header Paddle would send for payload,
// signed with secret at the given moment (for tests and local tools).
func Sign(payload []byte, secret string, at time.Time) string {
	ts := strconv.FormatInt(at.Unix(), 10)
	return "ts=" + ts + ";h1=" + hex.EncodeToString(mac(secret, ts, payload))
}

// signature is a parsed Paddle-Signature header.
type signature struct {
	ts string // as sent: the HMAC covers these exact characters
	at time.Time
	h1 [][]byte
}

// parseHeader reads "ts=…;h1=…[;h1=…]" strictly. Paddle sends no spaces, one
// ts and well-formed h1s; anything else is refused rather than guessed at,
// because a lenient reader is where a replay hides: with two ts values a
// reader that checks the freshness of one and signs with the other accepts
// an old signature under a new date. Unknown keys are skipped, so a future
// signature scheme sent alongside h1 does not break verification.
func parseHeader(header string) (signature, error) {
	var sig signature
	if i := strings.IndexFunc(header, func(r rune) bool { return r <= ' ' || r > '~' }); i >= 0 {
		return sig, fmt.Errorf("the Paddle-Signature header contains whitespace or a non-ASCII character at byte %d; Paddle sends ts=…;h1=… without any", i)
	}
	timestamps := 0
	for n, pair := range strings.Split(header, ";") {
		key, value, ok := strings.Cut(pair, "=")
		if !ok || key == "" {
			return sig, fmt.Errorf("the Paddle-Signature header's part %d (%q) is not key=value", n+1, clip(pair))
		}
		switch key {
		case "ts":
			timestamps++
			sig.ts = value
		case "h1":
			h, err := hex.DecodeString(value)
			if err != nil || len(h) != sha256.Size {
				return sig, fmt.Errorf("the Paddle-Signature header's h1 number %d is not %d hex digits (an HMAC-SHA256)", len(sig.h1)+1, 2*sha256.Size)
			}
			sig.h1 = append(sig.h1, h)
		}
	}
	switch {
	case timestamps == 0:
		return sig, errors.New("the Paddle-Signature header has no timestamp (ts=)")
	case timestamps > 1:
		return sig, fmt.Errorf("the Paddle-Signature header has %d timestamps (ts=); Paddle sends one", timestamps)
	}
	// Digits only: ParseInt alone would take "+1671552777", and more than 12
	// digits is no date this side of the year 30000 (and would overflow time.Unix).
	if sig.ts == "" || len(sig.ts) > 12 || strings.Trim(sig.ts, "0123456789") != "" {
		return sig, fmt.Errorf("the Paddle-Signature header's timestamp ts=%q is not a Unix time in seconds", clip(sig.ts))
	}
	secs, err := strconv.ParseInt(sig.ts, 10, 64)
	if err != nil {
		return sig, fmt.Errorf("the Paddle-Signature header's timestamp ts=%q is not a Unix time in seconds", clip(sig.ts))
	}
	sig.at = time.Unix(secs, 0)
	if len(sig.h1) == 0 {
		return sig, errors.New("the Paddle-Signature header has no signature (h1=)")
	}
	return sig, nil
}

// matches reports whether any h1 is the HMAC of the body under any key.
func (s signature) matches(payload []byte, keys []string) bool {
	for _, key := range keys {
		want := mac(key, s.ts, payload)
		for _, h := range s.h1 {
			if hmac.Equal(h, want) {
				return true
			}
		}
	}
	return false
}

func mac(secret, ts string, payload []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{':'})
	m.Write(payload)
	return m.Sum(nil)
}

// usable drops blank secrets: an HMAC keyed with "" is one anybody can
// compute, so a stray comma in PADDLE_WEBHOOK_SECRETS must not turn into a
// key that accepts forged notifications.
func usable(secrets []string) []string {
	var keys []string
	for _, s := range secrets {
		if s = strings.TrimSpace(s); s != "" {
			keys = append(keys, s)
		}
	}
	return keys
}

// readEvent decodes a verified body's envelope.
func readEvent(payload []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(payload, &e); err != nil {
		return Event{}, fmt.Errorf("%w: the signed body is not a JSON event envelope: %v", ErrInvalidEvent, err)
	}
	switch {
	case !eventID.MatchString(e.ID):
		return Event{}, fmt.Errorf("%w: event_id %q is not a Paddle event id (evt_ and up to 60 letters or digits)", ErrInvalidEvent, clip(e.ID))
	case e.Type == "":
		return Event{}, fmt.Errorf("%w: event %s has no event_type", ErrInvalidEvent, e.ID)
	case len(e.Type) > maxEventType:
		return Event{}, fmt.Errorf("%w: event %s has an event_type of %d characters (at most %d)", ErrInvalidEvent, e.ID, len(e.Type), maxEventType)
	}
	return e, nil
}

// Decode reads the event's data into v.
func (e Event) Decode(v any) error {
	// json.Unmarshal of null succeeds and leaves v empty; an entity with no
	// ids would then be acted on as if it were real.
	if d := bytes.TrimSpace(e.Data); len(d) == 0 || bytes.Equal(d, []byte("null")) {
		return fmt.Errorf("read %s event %s: it has no data", e.Type, e.ID)
	}
	if err := json.Unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("read %s event %s: %w", e.Type, e.ID, err)
	}
	return nil
}

// CustomData is an entity's custom_data: any JSON object the vendor (or,
// through Paddle.js, the buyer's browser) attached. Numbers are kept as
// json.Number so that large integers survive exactly.
type CustomData map[string]any

// UnmarshalJSON reads custom_data, null included, with numbers kept exact.
func (c *CustomData) UnmarshalJSON(b []byte) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return fmt.Errorf("custom_data: %w", err)
	}
	*c = m
	return nil
}

// value reads key as a string: a string as is, an integer in decimal
// ("12" for 12 or 12.0), anything else (absent, fraction, object, bool) "".
func (c CustomData) value(key string) string {
	switch v := c[key].(type) {
	case string:
		return v
	case json.Number:
		if n, err := strconv.ParseInt(v.String(), 10, 64); err == nil {
			return strconv.FormatInt(n, 10)
		}
		f, err := v.Float64()
		if err != nil {
			return ""
		}
		return integral(f)
	case float64: // a CustomData built in Go rather than decoded
		return integral(v)
	}
	return ""
}

// maxExact is the largest integer a float64 holds exactly (2^53).
const maxExact = 1 << 53

func integral(f float64) string {
	if f != math.Trunc(f) || math.Abs(f) > maxExact {
		return ""
	}
	return strconv.FormatInt(int64(f), 10)
}

// Period is a billing period. Paddle sends RFC 3339 times.
type Period struct {
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
}

// Item is a transaction line: which price, how many.
type Item struct {
	Price struct {
		ID        string `json:"id"`
		ProductID string `json:"product_id"`
	} `json:"price"`
	Quantity int `json:"quantity"`
}

// Transaction is what licenseflow reads from transaction.* events.
type Transaction struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	CustomerID     string `json:"customer_id"`
	SubscriptionID string `json:"subscription_id"`
	Origin         string `json:"origin"`
	InvoiceID      string `json:"invoice_id"`
	InvoiceNumber  string `json:"invoice_number"`
	CurrencyCode   string `json:"currency_code"`
	// CustomData passed to Paddle.js is set in the buyer's browser: read it
	// for references (an order, a license), never for what was paid.
	CustomData CustomData `json:"custom_data"`
	Details    struct {
		// Totals are digit strings in the currency's lowest denomination;
		// read them through Totals.
		Totals struct {
			Subtotal   string `json:"subtotal"`
			Discount   string `json:"discount"`
			Tax        string `json:"tax"`
			Total      string `json:"total"`
			GrandTotal string `json:"grand_total"`
		} `json:"totals"`
	} `json:"details"`
	Items []Item `json:"items"`
	// BillingPeriod is null on one-time purchases.
	BillingPeriod *Period `json:"billing_period"`
}

// Totals are a transaction's totals in the currency's lowest denomination
// (cents for USD, yen for JPY).
type Totals struct {
	// Subtotal is before discount and tax.
	Subtotal int64
	Discount int64
	Tax      int64
	// Total is Subtotal - Discount + Tax.
	Total int64
	// GrandTotal is Total less any credit applied: what the buyer paid.
	GrandTotal int64
}

// Totals reads the transaction's details.totals as numbers.
func (t Transaction) Totals() (Totals, error) {
	raw := t.Details.Totals
	var out Totals
	for _, f := range []struct {
		name string
		raw  string
		to   *int64
	}{
		{"subtotal", raw.Subtotal, &out.Subtotal},
		{"discount", raw.Discount, &out.Discount},
		{"tax", raw.Tax, &out.Tax},
		{"total", raw.Total, &out.Total},
		{"grand_total", raw.GrandTotal, &out.GrandTotal},
	} {
		n, err := amount(f.raw)
		if err != nil {
			return Totals{}, fmt.Errorf("transaction %s details.totals.%s: %w", t.ID, f.name, err)
		}
		*f.to = n
	}
	return out, nil
}

// maxDigits keeps amounts well inside int64 and float64-exact territory:
// 15 digits is a trillion dollars in cents.
const maxDigits = 15

// amount reads a Paddle amount: a string of digits in the lowest
// denomination. Signs, decimals, spaces and exponents are refused rather
// than interpreted, since a misread amount decides a refund or a license.
func amount(s string) (int64, error) {
	switch {
	case s == "":
		return 0, errors.New("the amount is missing")
	case strings.HasPrefix(s, "-"):
		return 0, fmt.Errorf("the amount %q is negative", clip(s))
	case strings.Trim(s, "0123456789") != "":
		return 0, fmt.Errorf("the amount %q is not a whole number in the currency's lowest denomination", clip(s))
	case len(s) > maxDigits:
		return 0, fmt.Errorf("the amount has %d digits (at most %d)", len(s), maxDigits)
	}
	return strconv.ParseInt(s, 10, 64)
}

// Custom reads custom_data[key]: a string as is, an integer in decimal, ""
// for anything else.
func (t Transaction) Custom(key string) string { return t.CustomData.value(key) }

// HasPrice reports whether a line of the transaction bills the Paddle price id.
func (t Transaction) HasPrice(id string) bool {
	for _, it := range t.Items {
		if id != "" && it.Price.ID == id {
			return true
		}
	}
	return false
}

// PeriodEnd is the end of the billing period the transaction pays for;
// false on a one-time purchase.
func (t Transaction) PeriodEnd() (time.Time, bool) {
	if t.BillingPeriod == nil || t.BillingPeriod.EndsAt.IsZero() {
		return time.Time{}, false
	}
	return t.BillingPeriod.EndsAt.UTC(), true
}

// Recurring reports whether the transaction renews a subscription. Of
// Paddle's documented origins ("web" and "api" for checkouts and API-made
// transactions, and for subscriptions "subscription_recurring",
// "subscription_update", "subscription_charge" and
// "subscription_payment_method_change"), only subscription_recurring is a
// renewal: it bills the next period (with any changes scheduled for it).
// subscription_charge is a one-time charge billed now and
// subscription_update a mid-period change billed now; neither extends the
// period, and a payment method change is a zero-value transaction.
func (t Transaction) Recurring() bool { return t.Origin == "subscription_recurring" }

// Subscription is what licenseflow reads from subscription.* events.
type Subscription struct {
	ID         string     `json:"id"`
	Status     string     `json:"status"`
	CustomerID string     `json:"customer_id"`
	CustomData CustomData `json:"custom_data"`
	// CurrentBillingPeriod is null once the subscription is canceled.
	CurrentBillingPeriod *Period    `json:"current_billing_period"`
	CanceledAt           *time.Time `json:"canceled_at"`
}

// Custom reads custom_data[key] like Transaction.Custom.
func (s Subscription) Custom(key string) string { return s.CustomData.value(key) }

// Adjustment is what licenseflow reads from adjustment.* events: a refund,
// credit or chargeback against a billed transaction. A refund is first
// "pending_approval" and only takes effect once adjustment.updated says
// "approved".
type Adjustment struct {
	ID     string `json:"id"`
	Action string `json:"action"`
	// Type is "full" or "partial"; adjustments made before Paddle added it
	// (December 2024) have none, so read it through Full.
	Type           string `json:"type"`
	TransactionID  string `json:"transaction_id"`
	SubscriptionID string `json:"subscription_id"`
	CustomerID     string `json:"customer_id"`
	Reason         string `json:"reason"`
	Status         string `json:"status"`
	CurrencyCode   string `json:"currency_code"`
	// Totals are digit strings in the currency's lowest denomination; read
	// the total through Total.
	Totals struct {
		Subtotal string `json:"subtotal"`
		Tax      string `json:"tax"`
		Total    string `json:"total"`
		Fee      string `json:"fee"`
		Earnings string `json:"earnings"`
	} `json:"totals"`
}

// Total is the adjusted amount, tax included, in the lowest denomination.
func (a Adjustment) Total() (int64, error) {
	n, err := amount(a.Totals.Total)
	if err != nil {
		return 0, fmt.Errorf("adjustment %s totals.total: %w", a.ID, err)
	}
	return n, nil
}

// Full reports whether the adjustment covers the whole transaction, which
// paid the given grand total. Without a type (older adjustments) it is full
// when its total reaches what was paid; an unknown payment (paid ≤ 0) or an
// unreadable total never makes an untyped adjustment full, so a lookup that
// failed cannot turn a partial refund into a revocation.
func (a Adjustment) Full(paid int64) bool {
	switch a.Type {
	case "full":
		return true
	case "":
		total, err := a.Total()
		return err == nil && paid > 0 && total >= paid
	}
	return false
}

// Customer is what licenseflow reads from customer.* events.
type Customer struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Email  string `json:"email"`
	Status string `json:"status"`
}

// clip shortens a value quoted in an error so a hostile one cannot flood logs.
func clip(s string) string {
	const most = 80
	if len(s) <= most {
		return s
	}
	return s[:most] + "…"
}
