package models_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
)

func TestDecideChecksInTheirFixedOrder(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	at := func(days int) *time.Time { t := now.AddDate(0, 0, days); return &t }
	license := func(status models.LicenseStatus, expires, grace *time.Time) *models.License {
		return &models.License{Status: status, ExpiresAt: expires, GraceUntil: grace, MaxDomains: 2}
	}
	entitled := []string{"MokoSuitePOS", "pos"}
	full := []string{"a.com", "b.com"}
	cases := []struct {
		name    string
		f       models.ValidationFacts
		valid   bool
		code    string
		inGrace bool
	}{
		{"unknown key", models.ValidationFacts{}, false, models.CodeNotFound, false},
		{"not yet issued", models.ValidationFacts{License: license(models.StatusPending, nil, nil)}, false, models.CodeNotFound, false},
		{"revoked beats expired", models.ValidationFacts{License: license(models.StatusRevoked, at(-30), at(-23))}, false, models.CodeRevoked, false},
		{"revoked beats not entitled", models.ValidationFacts{License: license(models.StatusRevoked, at(30), at(37)), Product: "crm"}, false, models.CodeRevoked, false},
		{"suspended beats not entitled", models.ValidationFacts{License: license(models.StatusSuspended, at(30), at(37)), Product: "crm", Entitled: entitled}, false, models.CodeSuspended, false},
		{"not entitled beats domain", models.ValidationFacts{License: license(models.StatusActive, at(30), at(37)), Product: "crm", Entitled: entitled, Domain: "c.com"}, false, models.CodeNotEntitled, false},
		{"entitled by repo", models.ValidationFacts{License: license(models.StatusActive, at(30), at(37)), Product: "MokoSuitePOS", Entitled: entitled}, true, models.CodeValid, false},
		{"domain not activated", models.ValidationFacts{License: license(models.StatusActive, at(30), at(37)), Domain: "c.com", ActiveDomains: []string{"a.com"}}, false, models.CodeDomainNotActivated, false},
		{"too many domains", models.ValidationFacts{License: license(models.StatusActive, at(30), at(37)), Domain: "c.com", ActiveDomains: full}, false, models.CodeTooManyDomains, false},
		{"a staging domain is never over the limit", models.ValidationFacts{License: license(models.StatusActive, at(30), at(37)), Domain: "localhost", DomainIsStaging: true, ActiveDomains: full}, false, models.CodeDomainNotActivated, false},
		{"staging domains take no slot", models.ValidationFacts{License: license(models.StatusActive, at(30), at(37)), Domain: "c.com", ActiveDomains: []string{"a.com", "localhost"}, StagingDomains: []string{"localhost"}}, false, models.CodeDomainNotActivated, false},
		{"an active staging domain validates", models.ValidationFacts{License: license(models.StatusActive, at(30), at(37)), Domain: "localhost", DomainIsStaging: true, ActiveDomains: []string{"a.com", "b.com", "localhost"}, StagingDomains: []string{"localhost"}}, true, models.CodeValid, false},
		{"domain check beats expiry", models.ValidationFacts{License: license(models.StatusExpired, at(-1), at(6)), Domain: "c.com", ActiveDomains: full}, false, models.CodeTooManyDomains, false},
		{"expired in grace", models.ValidationFacts{License: license(models.StatusExpired, at(-1), at(6)), Domain: "a.com", ActiveDomains: full}, true, models.CodeExpired, true},
		{"expired after grace", models.ValidationFacts{License: license(models.StatusExpired, at(-8), at(-1))}, false, models.CodeExpired, false},
		{"expiry passed before the workflow projected it", models.ValidationFacts{License: license(models.StatusActive, at(-10), at(-3))}, false, models.CodeExpired, false},
		{"expiring is valid", models.ValidationFacts{License: license(models.StatusExpiring, at(5), at(12))}, true, models.CodeValid, false},
		{"lifetime", models.ValidationFacts{License: license(models.StatusActive, nil, nil)}, true, models.CodeValid, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.f.Now = now
			d := models.Decide(c.f)
			assert.Equal(t, c.valid, d.Valid)
			assert.Equal(t, c.code, d.Code)
			assert.Equal(t, c.inGrace, d.Detail == models.DetailInGrace)
		})
	}
}

func TestNormalizeDomain(t *testing.T) {
	cases := map[string]string{
		"example.com":                           "example.com",
		"Example.COM":                           "example.com",
		"https://www.example.com/administrator": "example.com",
		"http://shop.example.com:8080/x?y=1#z":  "shop.example.com",
		"www.example.com.":                      "example.com",
		"user:pw@example.com":                   "example.com",
		"müller.de":                             "xn--mller-kva.de",
		"https://www.Müller.de/":                "xn--mller-kva.de",
		"xn--mller-kva.de":                      "xn--mller-kva.de",
		"192.168.1.20:8443":                     "192.168.1.20",
		"localhost":                             "localhost",
		"  staging.example.org  ":               "staging.example.org",
	}
	for in, want := range cases {
		got, err := models.NormalizeDomain(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "   ", "http://", "exa mple.com", "-bad-.com"} {
		_, err := models.NormalizeDomain(bad)
		p, ok := models.AsProblem(err)
		require.True(t, ok, "%q should be rejected", bad)
		assert.Equal(t, "domain", p.Field)
	}
}

func TestCompareVersions(t *testing.T) {
	ordered := []string{"0.9.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.10.0", "2.0.0"}
	for i := range ordered {
		for j := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			assert.Equal(t, want, models.CompareVersions(ordered[i], ordered[j]), "%s vs %s", ordered[i], ordered[j])
		}
	}
	assert.True(t, models.ValidVersion("2.1.0-beta.1+build.5"))
	assert.False(t, models.ValidVersion("2.1"))
	assert.False(t, models.ValidVersion("v2.1.0"))
}
