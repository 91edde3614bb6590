// Package webhooks holds the parts of licenseflow's outbound webhooks that
// need nothing but the standard library: the Stripe-style signature every
// delivery carries (Sign, and Verify for receivers written in Go), endpoint
// secrets (generated, sealed at rest), and the policy and HTTP client that
// keep deliveries away from private networks. A receiver can import it
// without pulling in anything else of licenseflow.
package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Headers of every delivery.
const (
	// SignatureHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256>"; while
	// an endpoint's secret is being rotated it carries one v1 per secret.
	SignatureHeader = "Licenseflow-Signature"
	// EventIDHeader repeats the event id of the body, for deduplication.
	EventIDHeader = "Licenseflow-Event-Id"
	// EventTypeHeader repeats the event type, for routing before parsing.
	EventTypeHeader = "Licenseflow-Event-Type"
)

// DefaultTolerance is how far a signature's timestamp may be from the
// receiver's clock; older deliveries are refused as replays.
const DefaultTolerance = 5 * time.Minute

// Errors of Verify.
var (
	ErrMissingSignature = errors.New("webhooks: no " + SignatureHeader + " header")
	ErrMalformedHeader  = errors.New("webhooks: the " + SignatureHeader + " header is not t=<unix>,v1=<hex>")
	ErrNoMatch          = errors.New("webhooks: no signature matches the endpoint's secret")
	ErrOutsideTolerance = errors.New("webhooks: the signature's timestamp is too far from now (a replay, or a clock off)")
)

// Sign returns the signature header for body sent at t: the HMAC-SHA256 of
// "<unix t>.<body>" under each secret, hex-encoded.
func Sign(body []byte, t time.Time, secrets ...string) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	var b strings.Builder
	b.WriteString("t=" + ts)
	for _, secret := range secrets {
		b.WriteString(",v1=" + hex.EncodeToString(mac(secret, ts, body)))
	}
	return b.String()
}

// Verify checks a delivery: body is the raw request body (not re-encoded
// JSON), header the Licenseflow-Signature value, secret the endpoint's
// signing secret. It fails unless one v1 signature matches and the
// timestamp lies within tolerance of now.
func Verify(body []byte, header, secret string, tolerance time.Duration) error {
	return VerifyAt(body, header, secret, tolerance, time.Now())
}

// VerifyAt is Verify with the receiver's clock given.
func VerifyAt(body []byte, header, secret string, tolerance time.Duration, now time.Time) error {
	if strings.TrimSpace(header) == "" {
		return ErrMissingSignature
	}
	var (
		ts         string
		signatures [][]byte
	)
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrMalformedHeader
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil {
				return ErrMalformedHeader
			}
			signatures = append(signatures, sig)
		}
	}
	sent, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(signatures) == 0 {
		return ErrMalformedHeader
	}
	want := mac(secret, ts, body)
	matched := false
	for _, sig := range signatures {
		matched = matched || hmac.Equal(sig, want)
	}
	if !matched {
		return ErrNoMatch
	}
	if age := now.Sub(time.Unix(sent, 0)); age > tolerance || age < -tolerance {
		return ErrOutsideTolerance
	}
	return nil
}

func mac(secret, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte("."))
	h.Write(body)
	return h.Sum(nil)
}
