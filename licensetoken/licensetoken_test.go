package licensetoken

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTokenRoundTripAndTampering(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	keys := map[string]ed25519.PublicKey{"k1": pub}
	exp := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	grace := exp.AddDate(0, 0, 7)
	tok, err := Sign(Claims{DLID: "7f21b9ff979fce861bb482a1bc3e753f", Tier: "pos", Entitlements: []string{"MokoSuite"},
		ExpiresAt: &exp, GraceUntil: &grace, MaxDomains: 3, IssuedAt: exp.AddDate(-1, 0, 0), ValidUntil: &grace}, "k1", priv)
	require.NoError(t, err)
	c, err := Verify(tok, keys)
	require.NoError(t, err)
	assert.Equal(t, "pos", c.Tier)
	assert.True(t, c.UsableAt(exp.Add(time.Hour)), "in grace")
	assert.False(t, c.UsableAt(grace))
	early := exp.Add(-time.Hour)
	c.ValidUntil = &early
	assert.False(t, c.UsableAt(exp.Add(-time.Minute)), "the token ended before the license")
	c.ValidUntil = nil
	assert.False(t, c.UsableAt(exp.AddDate(0, -6, 0)), "a token without valid_until is never usable")

	for i := range tok {
		if tok[i] == '.' {
			continue
		}
		flipped := []byte(tok)
		flipped[i] ^= 1
		_, err := Verify(string(flipped), keys)
		require.Error(t, err, "byte %d flipped", i)
	}
	_, err = Verify(tok, map[string]ed25519.PublicKey{"other": pub})
	assert.ErrorIs(t, err, ErrInvalid)
}

func TestAnswerSignature(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	body := []byte(`{"valid":true,"code":"VALID"}`)
	header := SignAnswer(body, "k1", priv)
	keys := map[string]ed25519.PublicKey{"k1": pub}
	require.NoError(t, VerifyAnswer(body, header, keys))
	body[3] ^= 1
	assert.ErrorIs(t, VerifyAnswer(body, header, keys), ErrInvalid)
}
