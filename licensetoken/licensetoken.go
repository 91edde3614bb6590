// Package licensetoken signs and verifies what licenseflow tells installed
// sites: the Ed25519 signature on every validation answer, and offline
// license tokens a site can check with the public key alone. It uses only
// the standard library, so a vendor's own Go code can import it.
package licensetoken

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// SignatureHeader carries the signature of a validation answer:
//
//	X-Licenseflow-Signature: kid=<key id>, alg=ed25519, sig=<base64url(Ed25519(body))>
//
// The signed bytes are the exact response body.
const SignatureHeader = "X-Licenseflow-Signature"

var b64 = base64.RawURLEncoding

// ErrInvalid is any token or signature that does not verify.
var ErrInvalid = errors.New("invalid signature")

// SignAnswer returns the SignatureHeader value for a response body.
func SignAnswer(body []byte, kid string, key ed25519.PrivateKey) string {
	return fmt.Sprintf("kid=%s, alg=ed25519, sig=%s", kid, b64.EncodeToString(ed25519.Sign(key, body)))
}

// VerifyAnswer checks a response body against its SignatureHeader value,
// with the public keys published at /api/v1/keys/public (by key id).
func VerifyAnswer(body []byte, header string, keys map[string]ed25519.PublicKey) error {
	fields := map[string]string{}
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			fields[k] = v
		}
	}
	if fields["alg"] != "ed25519" {
		return fmt.Errorf("%w: unsupported algorithm %q", ErrInvalid, fields["alg"])
	}
	key, ok := keys[fields["kid"]]
	if !ok {
		return fmt.Errorf("%w: unknown key id %q", ErrInvalid, fields["kid"])
	}
	sig, err := b64.DecodeString(fields["sig"])
	if err != nil || !ed25519.Verify(key, body, sig) {
		return ErrInvalid
	}
	return nil
}

// Claims are what an offline license token asserts.
type Claims struct {
	DLID         string     `json:"dlid"`
	Tier         string     `json:"tier"`
	Entitlements []string   `json:"entitlements"`
	ExpiresAt    *time.Time `json:"expires_at"`
	GraceUntil   *time.Time `json:"grace_until"`
	MaxDomains   int        `json:"max_domains"`
	IssuedAt     time.Time  `json:"issued_at"`
	// ValidUntil ends the token itself, whatever the license's term: a
	// site must fetch a fresh one, which a revoked, refunded or expired
	// license no longer gets. A token without it is never usable.
	ValidUntil *time.Time `json:"valid_until"`
	KeyID      string     `json:"kid"`
}

// UsableAt reports whether the token may be used at t: before its
// valid_until, and while the license is (a lifetime license always,
// others until the end of their grace period).
func (c Claims) UsableAt(t time.Time) bool {
	switch {
	case c.ValidUntil == nil || !t.Before(*c.ValidUntil):
		return false
	case c.ExpiresAt == nil:
		return true
	case c.GraceUntil != nil:
		return t.Before(*c.GraceUntil)
	default:
		return t.Before(*c.ExpiresAt)
	}
}

// Sign makes an offline token: base64url(JSON claims) "." base64url(signature).
func Sign(c Claims, kid string, key ed25519.PrivateKey) (string, error) {
	c.KeyID = kid
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	enc := b64.EncodeToString(payload)
	return enc + "." + b64.EncodeToString(ed25519.Sign(key, []byte(enc))), nil
}

// Verify checks an offline token with the published public keys and
// returns its claims.
func Verify(token string, keys map[string]ed25519.PublicKey) (Claims, error) {
	enc, sigText, ok := strings.Cut(token, ".")
	if !ok {
		return Claims{}, fmt.Errorf("%w: not a license token", ErrInvalid)
	}
	payload, err := b64.DecodeString(enc)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: not a license token", ErrInvalid)
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return Claims{}, fmt.Errorf("%w: not a license token", ErrInvalid)
	}
	key, ok := keys[c.KeyID]
	if !ok {
		return Claims{}, fmt.Errorf("%w: unknown key id %q", ErrInvalid, c.KeyID)
	}
	sig, err := b64.DecodeString(sigText)
	if err != nil || !ed25519.Verify(key, []byte(enc), sig) {
		return Claims{}, ErrInvalid
	}
	return c, nil
}
