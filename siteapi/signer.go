package siteapi

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/licenseflow/licenseflow/licensetoken"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/sealing"
	"github.com/licenseflow/licenseflow/store"
)

// signer caches the active signing key, re-reading it every minute so a
// rotation on another instance is picked up, and remembers the signatures
// of recent answers: Ed25519 is deterministic, so the same body signed with
// the same key has the same signature, and a site asking again within the
// same second (answers carry their time to the second) costs no new
// signature, the most expensive step of an answer.
type signer struct {
	store     *store.Store
	keys      *sealing.Keyring // opens and seals private halves
	mu        sync.Mutex
	current   models.SigningKey
	loaded    time.Time
	reloading bool
	signed    map[string]string // answer body -> signature header, under current
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

// key returns the active key. The first one is loaded under the lock (it
// may have to be created); later re-reads are made by one request while
// the others go on signing with the key they have.
func (g *signer) key(ctx context.Context) (models.SigningKey, error) {
	g.mu.Lock()
	if g.current.ID == "" {
		defer g.mu.Unlock()
		return g.load(ctx)
	}
	if current := g.current; time.Since(g.loaded) < time.Minute || g.reloading {
		g.mu.Unlock()
		return current, nil
	}
	g.reloading = true
	since := g.loaded
	g.mu.Unlock()
	k, err := g.read(ctx)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.reloading = false
	// Keep the key we have when the database fails us, or when a rotation
	// here set a newer one meanwhile.
	if err != nil || g.loaded != since {
		return g.current, nil
	}
	g.use(k)
	return k, nil
}

// load reads the active key; g.mu is held.
func (g *signer) load(ctx context.Context) (models.SigningKey, error) {
	k, err := g.read(ctx)
	if err != nil {
		return k, fmt.Errorf("load signing key: %w", err)
	}
	g.use(k)
	return k, nil
}

// read returns the active key with its private half opened: the first
// start makes one, and a private half stored in clear (by an older
// licenseflow) or under a key no longer first in LICENSEFLOW_SECRET_KEYS
// is sealed again under the current key.
func (g *signer) read(ctx context.Context) (models.SigningKey, error) {
	k, err := g.store.ActiveSigningKey(ctx)
	if errors.Is(err, models.ErrNotFound) {
		if k, err = newSigningKey(g.keys); err != nil {
			return k, err
		}
		return k, g.store.AddSigningKey(ctx, k, time.Now())
	}
	if err != nil {
		return k, err
	}
	k, reseal, err := openSigningKey(g.keys, k)
	if err != nil || !reseal {
		return k, err
	}
	// The key signs either way; sealing it again is tried at every read
	// until it is stored.
	if sealed, err := g.keys.SealText(signingKeyPurpose, string(k.PrivateKey)); err == nil {
		_ = g.store.SealSigningKey(ctx, k.ID, []byte(sealed))
	}
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

// forget drops the key id if it is the one signing, so the next answer
// reads the active key from the database.
func (g *signer) forget(id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.current.ID == id {
		g.current, g.signed = models.SigningKey{}, nil
	}
}
