package siteapi

import (
	"context"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/licensetoken"
	"github.com/licenseflow/licenseflow/testsupport"
)

func TestARepeatedAnswerKeepsAValidSignatureAcrossKeyRotations(t *testing.T) {
	st := testsupport.SQLite(t)
	ctx := context.Background()
	g := &signer{store: st}
	first, err := st.ActiveSigningKey(ctx)
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

	second, err := st.RotateSigningKey(ctx)
	require.NoError(t, err)
	g.set(second)
	rotated, err := g.signAnswer(ctx, body)
	require.NoError(t, err)
	assert.Contains(t, rotated, "kid="+second.ID, "after a rotation the same answer is signed with the new key")
	keys[second.ID] = second.PublicKey
	require.NoError(t, licensetoken.VerifyAnswer(body, rotated, keys))

	// Another instance rotates: the new key is read within a minute.
	third, err := st.RotateSigningKey(ctx)
	require.NoError(t, err)
	again, err = g.signAnswer(ctx, body)
	require.NoError(t, err)
	assert.Equal(t, rotated, again, "the key read less than a minute ago still signs")
	g.loaded = g.loaded.Add(-time.Minute)
	again, err = g.signAnswer(ctx, body)
	require.NoError(t, err)
	assert.Contains(t, again, "kid="+third.ID)
}
