package models_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/testsupport"
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

func issuedLicense(t *testing.T, store *models.Store, order string, maxDomains int) models.License {
	t.Helper()
	_, l := purchase(t, store, order, order+"@example.com", "pos")
	exp := models.Instant(time.Now().AddDate(1, 0, 0))
	l, err := store.MintLicense(ctx, models.Mint{LicenseID: l.ID, TierKey: "pos", MaxDomains: maxDomains, StartsAt: time.Now(), ExpiresAt: &exp})
	require.NoError(t, err)
	return l
}

func TestConcurrentActivationsNeverExceedTheLimit(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *models.Store) {
		l := issuedLicense(t, store, "act-1", 5)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, full := 0, 0
		for i := range 10 {
			wg.Go(func() {
				_, _, err := store.Activate(ctx, l.ID, fmt.Sprintf("site%d.example.com", i), time.Now())
				mu.Lock()
				defer mu.Unlock()
				if p, isProblem := models.AsProblem(err); isProblem && p.Code == models.CodeTooManyDomains {
					full++
					return
				}
				require.NoError(t, err)
				ok++
			})
		}
		wg.Wait()
		assert.Equal(t, 5, ok)
		assert.Equal(t, 5, full)
		n, err := store.CountActiveDomains(ctx, l.ID)
		require.NoError(t, err)
		assert.Equal(t, 5, n)

		// Re-activating an active domain takes no new slot; deactivating frees one.
		sites, err := store.ListActivations(ctx, l.ID)
		require.NoError(t, err)
		_, active, err := store.Activate(ctx, l.ID, sites[0].Domain, time.Now())
		require.NoError(t, err)
		assert.Len(t, active, 5)
		require.NoError(t, store.Deactivate(ctx, l.ID, sites[0].Domain, time.Now()))
		_, active, err = store.Activate(ctx, l.ID, "new.example.com", time.Now())
		require.NoError(t, err)
		assert.Len(t, active, 5)
	})
}

func TestSilentDomainsAreReleased(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *models.Store) {
		l := issuedLicense(t, store, "silent-1", 3)
		now := time.Now()
		_, _, err := store.Activate(ctx, l.ID, "old.example.com", now.AddDate(0, 0, -40))
		require.NoError(t, err)
		_, _, err = store.Activate(ctx, l.ID, "fresh.example.com", now.AddDate(0, 0, -40))
		require.NoError(t, err)
		require.NoError(t, store.Heartbeat(ctx, l.ID, "fresh.example.com", now))
		n, err := store.ReleaseSilentDomains(ctx, now.AddDate(0, 0, -30), now)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		sl, err := store.LookupSiteLicense(ctx, l.Key())
		require.NoError(t, err)
		assert.Equal(t, []string{"fresh.example.com"}, sl.ActiveDomains)
		err = store.Heartbeat(ctx, l.ID, "old.example.com", now)
		assert.ErrorIs(t, err, models.ErrNotFound)
	})
}

func TestUsageIsCountedByKindAndDay(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *models.Store) {
		day1 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
		day2 := day1.AddDate(0, 0, 1)
		require.NoError(t, store.RecordUsage(ctx, []models.UsageEvent{
			{LicenseID: "lic_u", Kind: models.UsageValidate, Domain: "a.com", Result: "VALID", At: day1},
			{LicenseID: "lic_u", Kind: models.UsageValidate, Domain: "b.com", Result: "VALID", At: day1.Add(time.Hour)},
			{LicenseID: "lic_u", Kind: models.UsageDownload, Result: "OK", At: day2},
			{LicenseID: "lic_u", Kind: models.UsageHeartbeat, Domain: "a.com", Result: "OK", At: day2.Add(time.Hour)},
			{LicenseID: "lic_other", Kind: models.UsageValidate, At: day2},
		}))
		u, err := store.UsageSince(ctx, "lic_u", day1.Add(-time.Hour))
		require.NoError(t, err)
		assert.Equal(t, map[models.UsageKind]int{"validate": 2, "download": 1, "heartbeat": 1}, u.Totals)
		require.Len(t, u.Days, 2)
		assert.Equal(t, "2026-05-01", u.Days[0].Day)
		assert.Equal(t, 2, u.Days[0].Counts[models.UsageValidate])
		require.Len(t, u.Domains, 2)
		assert.Equal(t, "a.com", u.Domains[0].Domain)
		assert.True(t, u.Domains[0].LastSeen.Equal(day2.Add(time.Hour)))
	})
}

func TestSigningKeysRotate(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *models.Store) {
		first, err := store.ActiveSigningKey(ctx)
		require.NoError(t, err)
		again, err := store.ActiveSigningKey(ctx)
		require.NoError(t, err)
		assert.Equal(t, first.ID, again.ID)
		second, err := store.RotateSigningKey(ctx)
		require.NoError(t, err)
		active, err := store.ActiveSigningKey(ctx)
		require.NoError(t, err)
		assert.Equal(t, second.ID, active.ID)
		keys, err := store.SigningKeys(ctx)
		require.NoError(t, err)
		assert.Len(t, keys, 2, "the retired key stays for verification")
	})
}
