package webhooks

import (
	"crypto/rand"
	"encoding/base64"

	"github.com/licenseflow/licenseflow/sealing"
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

// secretPurpose binds sealed endpoint secrets to their use.
const secretPurpose = "webhook endpoint secret"

// SecretBox seals endpoint secrets for the database. Deliveries must be
// signed, so secrets are stored reversibly, sealed under the keyring's
// current key (LICENSEFLOW_SECRET_KEYS).
type SecretBox struct {
	keys *sealing.Keyring
}

// NewSecretBox returns a box sealing under keys.
func NewSecretBox(keys *sealing.Keyring) *SecretBox { return &SecretBox{keys: keys} }

// Seal prepares a secret for storage.
func (b *SecretBox) Seal(secret string) (string, error) {
	return b.keys.SealText(secretPurpose, secret)
}

// Open returns a stored secret.
func (b *SecretBox) Open(sealed string) (string, error) {
	return b.keys.OpenText(secretPurpose, sealed)
}

// New returns a fresh secret, to show once, and its sealed form, to store.
func (b *SecretBox) New() (secret, sealed string, err error) {
	if secret, err = NewSecret(); err != nil {
		return "", "", err
	}
	sealed, err = b.Seal(secret)
	return secret, sealed, err
}
