package webhooks

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// SecretPrefix starts every endpoint secret, so a leaked one is easy to spot.
const SecretPrefix = "whsec_"

// NewSecret returns a fresh signing secret: SecretPrefix and 32 random
// bytes, base64url-encoded.
func NewSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return SecretPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Sealed secrets say how they are stored: encrypted with AES-256-GCM, or
// (no key configured) as they are.
const (
	sealedPrefix = "aesgcm:"
	plainPrefix  = "plain:"
)

// SecretBox seals endpoint secrets for the database. Deliveries must be
// signed, so secrets are stored reversibly: encrypted under a key when one
// is configured, otherwise as they are (then the database and its backups
// must be protected like the secrets themselves). A nil *SecretBox stores
// secrets as they are.
type SecretBox struct {
	aead cipher.AEAD
}

// NewSecretBox returns a box sealing with key, the base64 encoding of 32
// random bytes (e.g. `openssl rand -base64 32`); an empty key returns nil.
func NewSecretBox(key string) (*SecretBox, error) {
	if strings.TrimSpace(key) == "" {
		return nil, nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(key))
	if err != nil || len(raw) != 32 {
		return nil, errors.New("the webhook secret key must be 32 bytes, base64-encoded (openssl rand -base64 32)")
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &SecretBox{aead: aead}, nil
}

// Encrypts reports whether secrets are encrypted at rest.
func (b *SecretBox) Encrypts() bool { return b != nil }

// Seal prepares a secret for storage.
func (b *SecretBox) Seal(secret string) (string, error) {
	if b == nil {
		return plainPrefix + secret, nil
	}
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return sealedPrefix + base64.StdEncoding.EncodeToString(b.aead.Seal(nonce, nonce, []byte(secret), nil)), nil
}

// Open returns a stored secret.
func (b *SecretBox) Open(sealed string) (string, error) {
	if secret, ok := strings.CutPrefix(sealed, plainPrefix); ok {
		return secret, nil
	}
	enc, ok := strings.CutPrefix(sealed, sealedPrefix)
	if !ok {
		return "", errors.New("webhooks: a stored secret in an unknown format")
	}
	if b == nil {
		return "", errors.New("webhook secrets are stored encrypted but no key is configured: set LICENSEFLOW_WEBHOOK_KEY to the key they were sealed with")
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", errors.New("webhooks: a stored secret is corrupt")
	}
	n := b.aead.NonceSize()
	secret, err := b.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return "", fmt.Errorf("webhooks: a stored secret does not open with the configured key (was LICENSEFLOW_WEBHOOK_KEY changed?): %w", err)
	}
	return string(secret), nil
}

// New returns a fresh secret, to show once, and its sealed form, to store.
func (b *SecretBox) New() (secret, sealed string, err error) {
	if secret, err = NewSecret(); err != nil {
		return "", "", err
	}
	sealed, err = b.Seal(secret)
	return secret, sealed, err
}
