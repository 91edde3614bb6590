package siteapi

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sync"
	"time"

	"github.com/licenseflow/licenseflow/licensetoken"
	"github.com/licenseflow/licenseflow/models"
)

// signer caches the active signing key, re-reading it every minute so a
// rotation on another instance is picked up, and remembers the signatures
// of recent answers: Ed25519 is deterministic, so the same body signed with
// the same key has the same signature, and a site asking again within the
// same second (answers carry their time to the second) costs no new
// signature, the most expensive step of an answer.
type signer struct {
	store   signingKeys
	mu      sync.Mutex
	current models.SigningKey
	loaded  time.Time
	signed  map[string]string // answer body -> signature header, under current
}

// signingKeys is where the signer finds the active key.
type signingKeys interface {
	ActiveSigningKey(ctx context.Context) (models.SigningKey, error)
}

// maxRememberedSignatures bounds the signatures kept; answers expire with
// their second anyway, so forgetting them all at once costs little.
const maxRememberedSignatures = 4096

// signAnswer returns the SignatureHeader value for an answer's body.
func (g *signer) signAnswer(ctx context.Context, body []byte) (string, error) {
	key, err := g.key(ctx)
	if err != nil {
		return "", err
	}
	g.mu.Lock()
	signature, ok := g.signed[string(body)]
	g.mu.Unlock()
	if ok {
		return signature, nil
	}
	signature = licensetoken.SignAnswer(body, key.ID, key.PrivateKey)
	g.mu.Lock()
	if g.current.ID == key.ID { // not rotated meanwhile
		if len(g.signed) >= maxRememberedSignatures {
			clear(g.signed)
		}
		g.signed[string(body)] = signature
	}
	g.mu.Unlock()
	return signature, nil
}

func (g *signer) key(ctx context.Context) (models.SigningKey, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.current.ID != "" && time.Since(g.loaded) < time.Minute {
		return g.current, nil
	}
	k, err := g.store.ActiveSigningKey(ctx)
	if err != nil {
		if g.current.ID != "" { // keep signing with the key we have
			return g.current, nil
		}
		return k, fmt.Errorf("load signing key: %w", err)
	}
	if len(k.PrivateKey) != ed25519.PrivateKeySize {
		return k, fmt.Errorf("signing key %s is corrupt", k.ID)
	}
	g.use(k)
	return k, nil
}

func (g *signer) set(k models.SigningKey) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.use(k)
}

// use makes k the signing key; signatures made with another are forgotten.
func (g *signer) use(k models.SigningKey) {
	if k.ID != g.current.ID || g.signed == nil {
		g.signed = map[string]string{}
	}
	g.current, g.loaded = k, time.Now()
}
