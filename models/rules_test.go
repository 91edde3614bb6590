package models_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
)

func TestDeriveStatus(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	day := 24 * time.Hour
	cases := []struct {
		name  string
		facts models.StatusFacts
		want  models.LicenseStatus
	}{
		{"not yet minted", models.StatusFacts{}, models.StatusPending},
		{"lifetime", models.StatusFacts{Issued: true}, models.StatusActive},
		{"far from expiry", models.StatusFacts{Issued: true, ExpiresAt: at(31 * day)}, models.StatusActive},
		{"30 days left", models.StatusFacts{Issued: true, ExpiresAt: at(30 * day)}, models.StatusExpiring},
		{"one second left", models.StatusFacts{Issued: true, ExpiresAt: at(time.Second)}, models.StatusExpiring},
		{"expires now", models.StatusFacts{Issued: true, ExpiresAt: at(0)}, models.StatusExpired},
		{"suspended beats expired", models.StatusFacts{Issued: true, Suspended: true, ExpiresAt: at(-day)}, models.StatusSuspended},
		{"revoked beats suspended", models.StatusFacts{Issued: true, Suspended: true, Revoked: true}, models.StatusRevoked},
		{"revoked before minting", models.StatusFacts{Revoked: true}, models.StatusRevoked},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { assert.Equal(t, c.want, models.DeriveStatus(c.facts, now)) })
	}
}

func TestCheckTransition(t *testing.T) {
	cases := []struct {
		status models.LicenseStatus
		action models.Action
		code   string // "" = allowed
	}{
		{models.StatusActive, models.ActionRenew, ""},
		{models.StatusExpired, models.ActionRenew, ""},
		{models.StatusSuspended, models.ActionRenew, ""},
		{models.StatusActive, models.ActionSuspend, ""},
		{models.StatusSuspended, models.ActionSuspend, "already_suspended"},
		{models.StatusSuspended, models.ActionReinstate, ""},
		{models.StatusActive, models.ActionReinstate, "not_suspended"},
		{models.StatusRevoked, models.ActionReinstate, "license_revoked"},
		{models.StatusRevoked, models.ActionRenew, "license_revoked"},
		{models.StatusRevoked, models.ActionRevoke, "license_revoked"},
		{models.StatusExpiring, models.ActionRevoke, ""},
		{models.StatusPending, models.ActionChangeTier, "license_pending"},
	}
	for _, c := range cases {
		t.Run(string(c.status)+"/"+string(c.action), func(t *testing.T) {
			err := models.CheckTransition(c.status, c.action)
			if c.code == "" {
				assert.NoError(t, err)
				return
			}
			p, ok := models.AsProblem(err)
			require.True(t, ok, "want a Problem, got %v", err)
			assert.Equal(t, c.code, p.Code)
			assert.ErrorIs(t, err, models.ErrConflict)
		})
	}
}

func TestAddMonthsClampsToMonthEnd(t *testing.T) {
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 9, 30, 0, 0, time.UTC) }
	cases := []struct {
		from   time.Time
		months int
		want   time.Time
	}{
		{d(2026, 1, 15), 1, d(2026, 2, 15)},
		{d(2026, 1, 31), 1, d(2026, 2, 28)},
		{d(2028, 1, 31), 1, d(2028, 2, 29)},
		{d(2026, 3, 31), 1, d(2026, 4, 30)},
		{d(2026, 11, 30), 3, d(2027, 2, 28)},
		{d(2026, 5, 31), 12, d(2027, 5, 31)},
		{d(2024, 2, 29), 12, d(2025, 2, 28)},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, models.AddMonths(c.from, c.months), "%s + %d months", c.from.Format("2006-01-02"), c.months)
	}
}

func TestNormalizeEmail(t *testing.T) {
	ok := map[string]string{
		"customer@example.com":     "customer@example.com",
		"  Customer@Example.COM  ": "customer@example.com",
		"a.b+tag@sub.example.org":  "a.b+tag@sub.example.org",
	}
	for in, want := range ok {
		got, err := models.NormalizeEmail(in, "user_email")
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	for _, bad := range []string{"", "customer", "customer@", "@example.com", "Jo <jo@example.com>", "jo@localhost", "a@b@c.com"} {
		_, err := models.NormalizeEmail(bad, "user_email")
		p, isProblem := models.AsProblem(err)
		require.True(t, isProblem, "%q should be rejected", bad)
		assert.Equal(t, "user_email", p.Field)
	}
}

func TestDLIDShapeAndMasking(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		dlid, err := models.NewDLID()
		require.NoError(t, err)
		require.True(t, models.ValidDLID(dlid), dlid)
		require.False(t, seen[dlid], "duplicate DLID")
		seen[dlid] = true
	}
	assert.Equal(t, "a1b2…9f0e", models.MaskDLID("a1b2c3d4e5f60718293a4b5c6d7e9f0e"))
	assert.False(t, models.ValidDLID("A1B2C3D4E5F60718293A4B5C6D7E9F0E"), "upper case is not a DLID")
}

func TestTierValidation(t *testing.T) {
	valid := models.Tier{Key: "pos", Name: "POS", Products: models.StringList{"base"}, MaxDomains: 3,
		Term: models.TermAnnual, PriceCents: 100, Currency: "EUR", Channels: models.StringList{"stable"}}
	require.NoError(t, valid.Validate())
	cases := map[string]func(*models.Tier){
		"key":         func(t *models.Tier) { t.Key = "Bad Key" },
		"products":    func(t *models.Tier) { t.Products = nil },
		"max_domains": func(t *models.Tier) { t.MaxDomains = 0 },
		"term":        func(t *models.Tier) { t.Term = "weekly" },
		"term_months": func(t *models.Tier) { t.Term = models.TermCustom },
		"price_cents": func(t *models.Tier) { t.PriceCents = -1 },
		"currency":    func(t *models.Tier) { t.Currency = "euro" },
		"channels":    func(t *models.Tier) { t.Channels = nil },
	}
	for field, breakIt := range cases {
		tier := valid
		breakIt(&tier)
		p, ok := models.AsProblem(tier.Validate())
		require.True(t, ok, field)
		assert.Equal(t, field, p.Field)
	}
}

func TestTierPricing(t *testing.T) {
	annual := models.Tier{Term: models.TermAnnual, PriceCents: 12000}
	assert.Equal(t, int64(12000), annual.PriceFor(12))
	assert.Equal(t, int64(24000), annual.PriceFor(24))
	assert.Equal(t, int64(1000), annual.PriceFor(1))
	lifetime := models.Tier{Term: models.TermLifetime, PriceCents: 99900}
	assert.Equal(t, int64(99900), lifetime.PriceFor(0))
	assert.Equal(t, "149.00 EUR", models.FormatMoney(14900, "EUR"))
	assert.Equal(t, "-0.05 USD", models.FormatMoney(-5, "USD"))
}

// An expiry given as a date must lie ahead, and at most ten calendar years
// (as far as the longest term, 120 months, reaches): the limit is written
// out here so that moving it is a decision a test has to be told about.
func TestAnExpiryDateLiesAheadAndAtMostTenYearsAway(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		at   time.Time
		code string // "" = accepted
	}{
		{"a second ago", now.Add(-time.Second), "expires_at_in_past"},
		{"now", now, "expires_at_in_past"},
		{"a second ahead", now.Add(time.Second), ""},
		{"3,650 days ahead (ten years are longer)", now.Add(3650 * 24 * time.Hour), ""},
		{"ten calendar years ahead to the second", time.Date(2036, 6, 1, 12, 0, 0, 0, time.UTC), ""},
		{"a second more than ten calendar years ahead", time.Date(2036, 6, 1, 12, 0, 1, 0, time.UTC), "expires_at_too_far"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := models.CheckExplicitExpiry(c.at, now)
			if c.code == "" {
				assert.NoError(t, err)
				return
			}
			p, ok := models.AsProblem(err)
			require.True(t, ok, "want a Problem, got %v", err)
			assert.Equal(t, c.code, p.Code)
			assert.Equal(t, "expires_at", p.Field)
			assert.ErrorIs(t, err, models.ErrInvalid)
		})
	}
}
