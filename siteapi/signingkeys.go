package siteapi

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/sealing"
)

// signingKeyPurpose binds sealed signing keys to their use.
const signingKeyPurpose = "site signing key"

// sealedPrefix starts every sealed value (sealing.SealText); a private half
// without it was stored in clear by an older licenseflow.
var sealedPrefix = []byte("sealed:")

// newSigningKey makes an Ed25519 key pair with its private half sealed
// under keys for storage and open in memory.
func newSigningKey(keys *sealing.Keyring) (models.SigningKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return models.SigningKey{}, err
	}
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return models.SigningKey{}, err
	}
	sealed, err := keys.SealText(signingKeyPurpose, string(priv))
	if err != nil {
		return models.SigningKey{}, err
	}
	return models.SigningKey{ID: hex.EncodeToString(id[:]), PublicKey: pub, SealedPrivateKey: []byte(sealed), PrivateKey: priv, Active: true}, nil
}

// openSigningKey opens k's private half. reseal reports one to seal again
// under the keyring's current key: stored in clear by an older
// licenseflow, or sealed under a key rotated out of first place.
func openSigningKey(keys *sealing.Keyring, k models.SigningKey) (opened models.SigningKey, reseal bool, err error) {
	raw := k.SealedPrivateKey
	if !bytes.HasPrefix(raw, sealedPrefix) {
		reseal = true
	} else {
		id, _ := sealing.SealedUnder(string(raw))
		reseal = id != keys.CurrentID()
		text, err := keys.OpenText(signingKeyPurpose, string(raw))
		if err != nil {
			return k, false, fmt.Errorf("signing key %s does not open (LICENSEFLOW_SECRET_KEYS must hold the key it was sealed under): %w", k.ID, err)
		}
		raw = []byte(text)
	}
	if len(raw) != ed25519.PrivateKeySize || !bytes.Equal(ed25519.PrivateKey(raw).Public().(ed25519.PublicKey), k.PublicKey) {
		return k, false, fmt.Errorf("signing key %s is corrupt: its private half does not match its public half", k.ID)
	}
	k.PrivateKey = ed25519.PrivateKey(raw)
	return k, reseal, nil
}

// keyOverlap is how long a replaced key stays published: every offline
// token it signed runs out within the token validity, and the PHP client
// keeps signed answers for its offline grace (7 days) at most.
func keyOverlap(tokenValidity time.Duration) time.Duration {
	return max(tokenValidity, 7*24*time.Hour)
}
