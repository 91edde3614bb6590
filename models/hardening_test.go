package models_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
)

// Issue 9, item 6: ".." and "..." were accepted as domains and took a
// slot; 64-character labels were accepted.
func TestDomainsThatAreNoDomainsAreRefused(t *testing.T) {
	label63 := strings.Repeat("a", 63)
	name253 := strings.Join([]string{label63, label63, label63, strings.Repeat("b", 61)}, ".") // 253 characters
	require.Len(t, name253, 253)
	bad := []string{
		".", "..", "...", "....", "http://../", "https://.../x",
		"a..b.com", ".example.com", "example..com", "example.com..",
		strings.Repeat("a", 64) + ".com", "https://" + strings.Repeat("x", 64) + ".example.com/",
		name253 + "c", name253 + ".com",
		"www..example.com",
	}
	for _, in := range bad {
		_, err := models.NormalizeDomain(in)
		p, ok := models.AsProblem(err)
		require.True(t, ok, "%q should be refused", in)
		assert.Equal(t, "invalid_domain", p.Code, in)
		assert.Equal(t, "domain", p.Field, in)
	}
	for in, want := range map[string]string{
		label63 + ".com":             label63 + ".com",
		name253:                      name253,
		name253 + ".":                name253,
		"www.www.example.com":        "example.com",
		"www.com":                    "www.com",
		"[::1]":                      "::1",
		"::1":                        "::1",
		"http://[2001:db8::1]:8080/": "2001:db8::1",
	} {
		got, err := models.NormalizeDomain(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
		again, err := models.NormalizeDomain(got)
		require.NoError(t, err, got)
		assert.Equal(t, got, again, "normalizing is idempotent")
	}
}

// Currencies are ISO 4217 codes, not any three bytes: "€" is three bytes.
func TestCurrenciesAreISO4217Codes(t *testing.T) {
	valid := models.Tier{Key: "pos", Name: "POS", Products: models.StringList{"base"}, MaxDomains: 3,
		Term: models.TermAnnual, PriceCents: 100, Currency: "EUR", Channels: models.StringList{"stable"}}
	for _, code := range []string{"EUR", "USD", "CHF", "GBP", "JPY", "SEK"} {
		tier := valid
		tier.Currency = code
		assert.NoError(t, tier.Validate(), code)
	}
	for _, code := range []string{"€", "ABC", "EU", "EURO", "eur", "E\x00R", "ÉUR"} {
		tier := valid
		tier.Currency = code
		p, ok := models.AsProblem(tier.Validate())
		require.True(t, ok, "%q should be refused", code)
		assert.Equal(t, "invalid_currency", p.Code, code)
	}
}

func TestEmailsLongerThanRFC5321AllowsAreRefused(t *testing.T) {
	local := strings.Repeat("a", 64)
	ok := local + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 57) + ".com"
	require.Len(t, ok, 254)
	got, err := models.NormalizeEmail(ok, "user_email")
	require.NoError(t, err)
	assert.Equal(t, ok, got)
	for _, bad := range []string{ok + "x", strings.Repeat("a", 65) + "@example.com", "a@" + strings.Repeat("b.", 1100) + "com",
		"ada@example.com\r\nBcc: x@example.com", "ada\x00@example.com"} {
		_, err := models.NormalizeEmail(bad, "user_email")
		p, isProblem := models.AsProblem(err)
		require.True(t, isProblem, "%q should be refused", models.Clip(bad, 40))
		assert.Equal(t, "invalid_email", p.Code)
		assert.Less(t, len(p.Message), 400, "the message quotes the input cut short")
	}
}
