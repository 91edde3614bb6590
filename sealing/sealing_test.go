package sealing_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/sealing"
)

const (
	keyA = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	keyB = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="
)

func TestASealedTextOpensOnlyForItsPurposeUnderItsKey(t *testing.T) {
	keys, err := sealing.Parse("a:" + keyA)
	require.NoError(t, err)
	sealed, err := keys.SealText("webhook endpoint secret", "whsec_top")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(sealed, "sealed:v1:a:"), sealed)
	assert.NotContains(t, sealed, "whsec_top")

	opened, err := keys.OpenText("webhook endpoint secret", sealed)
	require.NoError(t, err)
	assert.Equal(t, "whsec_top", opened)

	_, err = keys.OpenText("signing key", sealed)
	assert.ErrorContains(t, err, "does not open", "a value sealed for one use is not opened as another")

	other, err := sealing.Parse("a:" + keyB)
	require.NoError(t, err)
	_, err = other.OpenText("webhook endpoint secret", sealed)
	assert.ErrorContains(t, err, "does not open")

	tampered := sealed[:len(sealed)-2] + "AA"
	if tampered == sealed {
		tampered = sealed[:len(sealed)-2] + "BB"
	}
	_, err = keys.OpenText("webhook endpoint secret", tampered)
	assert.Error(t, err, "a changed ciphertext does not open")
}

func TestRotationSealsUnderTheNewKeyAndStillOpensTheOld(t *testing.T) {
	old, err := sealing.Parse("k1:" + keyA)
	require.NoError(t, err)
	sealedOld, err := old.SealText("p", "secret")
	require.NoError(t, err)

	rotated, err := sealing.Parse("k2:" + keyB + ", k1:" + keyA)
	require.NoError(t, err)
	assert.Equal(t, "k2", rotated.CurrentID())
	assert.Equal(t, []string{"k2", "k1"}, rotated.IDs())
	opened, err := rotated.OpenText("p", sealedOld)
	require.NoError(t, err)
	assert.Equal(t, "secret", opened)

	sealedNew, err := rotated.SealText("p", "secret")
	require.NoError(t, err)
	id, ok := sealing.SealedUnder(sealedNew)
	assert.True(t, ok)
	assert.Equal(t, "k2", id)

	_, err = old.OpenText("p", sealedNew)
	assert.ErrorContains(t, err, `key "k2", which is not in LICENSEFLOW_SECRET_KEYS`)
}

func TestKeyringSpecificationsAreChecked(t *testing.T) {
	cases := map[string]string{
		"":                              "no key-encryption key",
		" , ":                           "no key-encryption key",
		"short":                         "32 bytes",
		"k1:" + keyA + ",k1:" + keyB:    "appears twice",
		"Bad Id:" + keyA:                `key id "Bad Id"`,
		"k1:" + keyA[:len(keyA)-4]:      "32 bytes",
		"k1:" + keyA + ",k2:not-base64": `key "k2"`,
	}
	for spec, want := range cases {
		_, err := sealing.Parse(spec)
		assert.ErrorContains(t, err, want, "spec %q", spec)
	}
	bare, err := sealing.Parse(keyA)
	require.NoError(t, err)
	assert.Equal(t, "k1", bare.CurrentID(), "a key without an id is k1")
}

func TestANewKeySpecificationParses(t *testing.T) {
	spec, err := sealing.NewKeySpec(time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	keys, err := sealing.Parse(spec)
	require.NoError(t, err)
	assert.Equal(t, "k20261204", keys.CurrentID())
	again, err := sealing.NewKeySpec(time.Now())
	require.NoError(t, err)
	assert.NotEqual(t, spec[10:], again[10:], "every new key is random")
}
