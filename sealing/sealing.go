// Package sealing encrypts what licenseflow must read back but nobody who
// only inspects may read: webhook signing secrets, site signing keys,
// workflow payloads. One keyring of key-encryption keys
// (LICENSEFLOW_SECRET_KEYS) serves every use; a purpose string bound into
// each ciphertext keeps one use's sealed value from being opened as
// another's.
package sealing

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Keyring holds the key-encryption keys: the first seals, every one opens,
// so a key can be rotated in (put first) and out (dropped once nothing is
// sealed under it).
type Keyring struct {
	current string
	ids     []string
	aeads   map[string]cipher.AEAD
}

var keyID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// ErrNoKeys is returned by Parse for an empty keyring specification.
var ErrNoKeys = errors.New("no key-encryption key is configured")

// Parse reads a keyring specification: comma-separated `id:key` pairs,
// each key the base64 encoding of 32 random bytes (`openssl rand -base64
// 32`), the current key first. A single key without an id gets the id
// "k1".
func Parse(spec string) (*Keyring, error) {
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, encoded, found := strings.Cut(part, ":")
		if !found {
			id, encoded = "k1", part
		}
		if !keyID.MatchString(id) {
			return nil, fmt.Errorf("key id %q: use 1 to 32 lower-case letters, digits and dashes, such as k2 or 2026-12", id)
		}
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("key id %q appears twice", id)
		}
		raw, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("key %q must be 32 bytes, base64-encoded (openssl rand -base64 32)", id)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		k.aeads[id] = aead
		k.ids = append(k.ids, id)
	}
	if len(k.ids) == 0 {
		return nil, ErrNoKeys
	}
	k.current = k.ids[0]
	return k, nil
}

// NewKeySpec returns a fresh single-key specification, `id:key`, with an id
// naming the day it was made.
func NewKeySpec(now time.Time) (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	return "k" + now.UTC().Format("20060102") + ":" + base64.StdEncoding.EncodeToString(raw[:]), nil
}

// CurrentID is the id of the key that seals.
func (k *Keyring) CurrentID() string { return k.current }

// IDs are the ids of every key, the current one first.
func (k *Keyring) IDs() []string { return append([]string(nil), k.ids...) }

// Seal encrypts plaintext for purpose under the current key and returns
// the key's id and nonce || ciphertext.
func (k *Keyring) Seal(purpose string, plaintext []byte) (id string, sealed []byte, err error) {
	aead := k.aeads[k.current]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", nil, err
	}
	return k.current, aead.Seal(nonce, nonce, plaintext, []byte(purpose)), nil
}

// Open decrypts what Seal returned for the same purpose.
func (k *Keyring) Open(purpose, id string, sealed []byte) ([]byte, error) {
	aead, ok := k.aeads[id]
	if !ok {
		return nil, fmt.Errorf("sealed under key %q, which is not in LICENSEFLOW_SECRET_KEYS (known: %s); add it back to open this value", id, strings.Join(k.ids, ", "))
	}
	n := aead.NonceSize()
	if len(sealed) < n+aead.Overhead() {
		return nil, errors.New("sealed value is truncated")
	}
	plain, err := aead.Open(nil, sealed[:n], sealed[n:], []byte(purpose))
	if err != nil {
		return nil, fmt.Errorf("sealed value does not open under key %q for %s (was the key changed?)", id, purpose)
	}
	return plain, nil
}

// textPrefix starts every sealed text: a format version, so the format can
// change without guessing.
const textPrefix = "sealed:v1:"

// SealText seals a string for a text column: `sealed:v1:<key id>:<base64>`.
func (k *Keyring) SealText(purpose, plaintext string) (string, error) {
	id, sealed, err := k.Seal(purpose, []byte(plaintext))
	if err != nil {
		return "", err
	}
	return textPrefix + id + ":" + base64.RawStdEncoding.EncodeToString(sealed), nil
}

// OpenText opens what SealText returned for the same purpose.
func (k *Keyring) OpenText(purpose, text string) (string, error) {
	id, encoded, ok := splitText(text)
	if !ok {
		return "", fmt.Errorf("%s: not a sealed value", purpose)
	}
	raw, err := base64.RawStdEncoding.DecodeString(encoded)
	if err != nil {
		return "", fmt.Errorf("%s: sealed value is corrupt", purpose)
	}
	plain, err := k.Open(purpose, id, raw)
	if err != nil {
		return "", fmt.Errorf("%s: %w", purpose, err)
	}
	return string(plain), nil
}

// SealedUnder returns the id of the key a sealed text was sealed with, so
// a rotation can find what still needs sealing again.
func SealedUnder(text string) (id string, ok bool) {
	id, _, ok = splitText(text)
	return id, ok
}

func splitText(text string) (id, encoded string, ok bool) {
	rest, ok := strings.CutPrefix(text, textPrefix)
	if !ok {
		return "", "", false
	}
	return strings.Cut(rest, ":")
}
