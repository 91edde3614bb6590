package siteapi

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/licensetoken"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/sealing"
	"github.com/licenseflow/licenseflow/testsupport"
)

func TestARepeatedAnswerKeepsAValidSignatureAcrossKeyRotations(t *testing.T) {
	st := testsupport.SQLite(t)
	ctx := context.Background()
	keyring := testsupport.SecretKeys(t)
	g := &signer{store: st, keys: keyring}
	rotate := func() models.SigningKey {
		t.Helper()
		k, err := newSigningKey(keyring)
		require.NoError(t, err)
		require.NoError(t, st.AddSigningKey(ctx, k, time.Now()))
		return k
	}
	first, err := g.key(ctx) // the first start makes one
	require.NoError(t, err)
	keys := map[string]ed25519.PublicKey{first.ID: first.PublicKey}
	body := []byte(`{"valid":true,"code":"VALID","ts":"2026-01-01T00:00:00Z","nonce":"n"}`)

	sig, err := g.signAnswer(ctx, body)
	require.NoError(t, err)
	again, err := g.signAnswer(ctx, body)
	require.NoError(t, err)
	assert.Equal(t, sig, again)
	require.NoError(t, licensetoken.VerifyAnswer(body, again, keys))
	other := []byte(strings.Replace(string(body), `"n"`, `"m"`, 1))
	otherSig, err := g.signAnswer(ctx, other)
	require.NoError(t, err)
	require.NoError(t, licensetoken.VerifyAnswer(other, otherSig, keys))
	assert.Error(t, licensetoken.VerifyAnswer(other, sig, keys), "each body has its own signature")

	second := rotate()
	g.set(second)
	rotated, err := g.signAnswer(ctx, body)
	require.NoError(t, err)
	assert.Contains(t, rotated, "kid="+second.ID, "after a rotation the same answer is signed with the new key")
	keys[second.ID] = second.PublicKey
	require.NoError(t, licensetoken.VerifyAnswer(body, rotated, keys))

	// Another instance rotates: the new key is read within a minute.
	third := rotate()
	again, err = g.signAnswer(ctx, body)
	require.NoError(t, err)
	assert.Equal(t, rotated, again, "the key read less than a minute ago still signs")
	g.loaded = g.loaded.Add(-time.Minute)
	again, err = g.signAnswer(ctx, body)
	require.NoError(t, err)
	assert.Contains(t, again, "kid="+third.ID)
}

// A private half an older licenseflow stored in clear still signs, and is
// sealed the first time it is read; under another keyring a sealed key
// does not open, and the signer says which key and why instead of signing.
func TestAClearSigningKeyIsSealedWhenReadAndOpensOnlyUnderItsKeyring(t *testing.T) {
	st := testsupport.SQLite(t)
	ctx := context.Background()
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	require.NoError(t, st.AddSigningKey(ctx, models.SigningKey{ID: "0011223344556677", PublicKey: pub, SealedPrivateKey: priv}, time.Now()))

	keyring := testsupport.SecretKeys(t)
	g := &signer{store: st, keys: keyring}
	body := []byte(`{"valid":true}`)
	sig, err := g.signAnswer(ctx, body)
	require.NoError(t, err)
	require.NoError(t, licensetoken.VerifyAnswer(body, sig, map[string]ed25519.PublicKey{"0011223344556677": pub}))

	stored, err := st.ActiveSigningKey(ctx)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(stored.SealedPrivateKey), "sealed:v1:"), "sealed once read")
	assert.NotContains(t, string(stored.SealedPrivateKey), string(priv))

	other := &signer{store: st, keys: testsupport.SecretKeys(t)}
	_, err = other.signAnswer(ctx, body)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "0011223344556677")
	assert.Contains(t, err.Error(), "LICENSEFLOW_SECRET_KEYS")
}

// After a new key-encryption key is put first in LICENSEFLOW_SECRET_KEYS,
// the signing key is sealed again under it when read, so the old one can
// be dropped.
func TestTheSigningKeyIsSealedAgainUnderANewKeyEncryptionKey(t *testing.T) {
	st := testsupport.SQLite(t)
	ctx := context.Background()
	old, err := sealing.NewKeySpec(time.Now())
	require.NoError(t, err)
	before, err := sealing.Parse(old)
	require.NoError(t, err)
	first, err := (&signer{store: st, keys: before}).key(ctx)
	require.NoError(t, err)

	fresh := make([]byte, 32)
	_, err = rand.Read(fresh)
	require.NoError(t, err)
	after, err := sealing.Parse("k2:" + base64.StdEncoding.EncodeToString(fresh) + "," + old)
	require.NoError(t, err)
	again, err := (&signer{store: st, keys: after}).key(ctx)
	require.NoError(t, err)
	assert.Equal(t, first.ID, again.ID)
	assert.Equal(t, first.PrivateKey, again.PrivateKey)
	stored, err := st.ActiveSigningKey(ctx)
	require.NoError(t, err)
	id, _ := sealing.SealedUnder(string(stored.SealedPrivateKey))
	assert.Equal(t, "k2", id, "sealed again under the key now first")

	onlyNew, err := sealing.Parse("k2:" + base64.StdEncoding.EncodeToString(fresh))
	require.NoError(t, err)
	_, err = (&signer{store: st, keys: onlyNew}).key(ctx)
	require.NoError(t, err, "the old key-encryption key is no longer needed")
}
