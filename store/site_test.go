package store_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
)

func issuedLicense(t *testing.T, store *store.Store, order string, maxDomains int) models.License {
	t.Helper()
	_, l := purchase(t, store, order, order+"@example.com", "pos")
	exp := models.Instant(time.Now().AddDate(1, 0, 0))
	l, err := store.MintLicense(ctx, models.Mint{LicenseID: l.ID, TierKey: "pos", MaxDomains: maxDomains, StartsAt: time.Now(), ExpiresAt: &exp})
	require.NoError(t, err)
	return l
}

func TestConcurrentActivationsNeverExceedTheLimit(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
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
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
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

func TestBatchedHeartbeatsMoveLastSeenForwardOnly(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		l := issuedLicense(t, store, "beats-1", 3)
		then := models.Instant(time.Now().AddDate(0, 0, -5))
		for _, d := range []string{"a.example.com", "b.example.com", "gone.example.com"} {
			_, _, err := store.Activate(ctx, l.ID, d, then)
			require.NoError(t, err)
		}
		require.NoError(t, store.Deactivate(ctx, l.ID, "gone.example.com", then))
		sl, err := store.LookupSiteLicense(ctx, l.Key())
		require.NoError(t, err)
		assert.Equal(t, map[string]time.Time{"a.example.com": then, "b.example.com": then}, utcTimes(sl.LastSeen),
			"a site license knows when each active domain was last seen")

		now := models.Instant(time.Now())
		require.NoError(t, store.RecordHeartbeats(ctx, []models.Heartbeat{
			{LicenseID: l.ID, Domain: "a.example.com", At: now},
			{LicenseID: l.ID, Domain: "b.example.com", At: then.Add(-time.Hour)}, // an older batch arriving late
			{LicenseID: l.ID, Domain: "gone.example.com", At: now},
			{LicenseID: l.ID, Domain: "never.example.com", At: now},
		}))
		sl, err = store.LookupSiteLicense(ctx, l.Key())
		require.NoError(t, err)
		assert.Equal(t, map[string]time.Time{"a.example.com": now, "b.example.com": then}, utcTimes(sl.LastSeen))
		acts, err := store.ListActivations(ctx, l.ID)
		require.NoError(t, err)
		for _, a := range acts {
			if a.Domain == "gone.example.com" {
				assert.Equal(t, models.ActivationDeactivated, a.Status, "a heartbeat does not bring a deactivated domain back")
				assert.True(t, a.LastSeen.Equal(then))
			}
		}
	})
}

func utcTimes(m map[string]time.Time) map[string]time.Time {
	out := make(map[string]time.Time, len(m))
	for k, v := range m {
		out[k] = v.UTC()
	}
	return out
}

func TestUsageIsCountedByKindAndDay(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
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

// A replaced key signs no more (its private half is gone) and stays
// published for the overlap; a retired one is published no more, and
// retiring the active key puts its replacement in its place.
func TestSigningKeysRotateAndRetire(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		_, err := st.ActiveSigningKey(ctx)
		require.ErrorIs(t, err, models.ErrNotFound, "no key before the first one is added")
		key := func(id string) models.SigningKey {
			return models.SigningKey{ID: id, PublicKey: []byte("public " + id), SealedPrivateKey: []byte("sealed:v1:k1:" + id)}
		}
		published := func(since time.Time) []string {
			t.Helper()
			keys, err := st.PublishedSigningKeys(ctx, since)
			require.NoError(t, err)
			var ids []string
			for _, k := range keys {
				ids = append(ids, k.ID)
			}
			return ids
		}
		t0 := time.Now().UTC().Truncate(time.Second)
		require.NoError(t, st.AddSigningKey(ctx, key("first"), t0))
		require.NoError(t, st.AddSigningKey(ctx, key("second"), t0.Add(time.Hour)))
		active, err := st.ActiveSigningKey(ctx)
		require.NoError(t, err)
		assert.Equal(t, "second", active.ID)
		assert.Equal(t, []byte("sealed:v1:k1:second"), active.SealedPrivateKey)

		assert.Equal(t, []string{"second", "first"}, published(t0), "replaced within the overlap: still published")
		assert.Equal(t, []string{"second"}, published(t0.Add(2*time.Hour)), "replaced before the overlap: not published")
		var first models.SigningKey
		require.NoError(t, st.DB().First(&first, "id = ?", "first").Error)
		assert.Equal(t, models.PrivateKeyDeleted, first.SealedPrivateKey, "a replaced key's private half is deleted")
		require.NotNil(t, first.ReplacedAt)
		assert.True(t, first.ReplacedAt.Equal(t0.Add(time.Hour)))

		retired, err := st.RetireSigningKey(ctx, "first", key("unused"), t0.Add(2*time.Hour))
		require.NoError(t, err)
		require.NotNil(t, retired.RetiredAt)
		assert.Equal(t, []string{"second"}, published(t0), "a retired key is not published, overlap or not")

		retired, err = st.RetireSigningKey(ctx, "second", key("third"), t0.Add(3*time.Hour))
		require.NoError(t, err)
		assert.False(t, retired.Active)
		active, err = st.ActiveSigningKey(ctx)
		require.NoError(t, err)
		assert.Equal(t, "third", active.ID, "retiring the active key makes its replacement active")
		assert.Equal(t, []string{"third"}, published(t0))
		var second models.SigningKey
		require.NoError(t, st.DB().First(&second, "id = ?", "second").Error)
		assert.Equal(t, models.PrivateKeyDeleted, second.SealedPrivateKey)

		again, err := st.RetireSigningKey(ctx, "second", key("fourth"), t0.Add(4*time.Hour))
		require.NoError(t, err, "retiring twice changes nothing")
		assert.True(t, again.RetiredAt.Equal(*retired.RetiredAt))
		active, err = st.ActiveSigningKey(ctx)
		require.NoError(t, err)
		assert.Equal(t, "third", active.ID)

		_, err = st.RetireSigningKey(ctx, "nope", key("fifth"), t0)
		require.ErrorIs(t, err, models.ErrNotFound)
	})
}

// Domains set as a list (seed 001: at purchase and by PATCH): the others
// are deactivated, the new ones activated, a staging copy named becomes a
// production domain, other staging copies stay; too many changes nothing.
func TestSetDomainsReplacesTheProductionDomains(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		l := issuedLicense(t, st, "set-domains", 3)
		now := time.Now()
		_, _, err := st.Activate(ctx, l.ID, "old.example.com", now)
		require.NoError(t, err)
		_, _, err = st.Activate(ctx, l.ID, "kept.example.com", now)
		require.NoError(t, err)
		_, _, err = st.ActivateStaging(ctx, l.ID, "staging.kept.example.com", now)
		require.NoError(t, err)
		_, _, err = st.ActivateStaging(ctx, l.ID, "dev.kept.example.com", now)
		require.NoError(t, err)
		active := func() map[string]bool {
			t.Helper()
			acts, err := st.ListActivations(ctx, l.ID)
			require.NoError(t, err)
			out := map[string]bool{}
			for _, a := range acts {
				if a.Status == models.ActivationActive {
					out[a.Domain] = a.Staging
				}
			}
			return out
		}

		require.NoError(t, st.SetDomains(ctx, l.ID, []string{"dev.kept.example.com", "kept.example.com", "new.example.com"}, now))
		assert.Equal(t, map[string]bool{"kept.example.com": false, "new.example.com": false, "dev.kept.example.com": false,
			"staging.kept.example.com": true}, active(), "old deactivated, new activated, a named staging copy now takes a slot")

		before := active()
		err = st.SetDomains(ctx, l.ID, []string{"a.example.com", "b.example.com", "c.example.com", "d.example.com"}, now)
		p, ok := models.AsProblem(err)
		require.True(t, ok, "%v", err)
		assert.Equal(t, models.CodeTooManyDomains, p.Code)
		assert.Equal(t, before, active(), "nothing changed")

		require.NoError(t, st.SetDomains(ctx, l.ID, nil, now))
		assert.Equal(t, map[string]bool{"staging.kept.example.com": true}, active(), "an empty list deactivates every production domain")
	})
}

// A day of a key used from more addresses than its slots explain, or by
// more unactivated domains, makes its license a suspect; heartbeats, other
// days and revoked licenses do not count.
func TestKeySharingSuspectsAreLicensesUsedBeyondTheRule(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		day := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
		rule := models.DefaultKeySharingRule() // one slot: more than 8 addresses, or more than 3 unactivated domains
		var events []models.UsageEvent
		use := func(l models.License, kind models.UsageKind, ip, domain, result string, at time.Time) {
			events = append(events, models.UsageEvent{LicenseID: l.ID, Kind: kind, IP: ip, Domain: domain, Result: result, At: at})
		}
		crowd := issuedLicense(t, st, "ks-crowd", 1)
		for i := range 9 {
			use(crowd, models.UsageFeed, fmt.Sprintf("203.0.113.%d", i), "", models.CodeValid, day.Add(time.Duration(i)*time.Hour))
		}
		eight := issuedLicense(t, st, "ks-eight", 1)
		for i := range 8 {
			use(eight, models.UsageValidate, fmt.Sprintf("203.0.113.%d", i), "", models.CodeValid, day.Add(time.Hour))
		}
		use(eight, models.UsageValidate, "203.0.113.99", "", models.CodeValid, day.Add(-time.Second)) // the day before
		use(eight, models.UsageHeartbeat, "203.0.113.98", "shop.example.com", models.CodeValid, day.Add(time.Hour))
		farm := issuedLicense(t, st, "ks-farm", 1)
		for i := range 4 {
			use(farm, models.UsageDownload, "198.51.100.1", fmt.Sprintf("site%d.example.org", i), models.CodeDomainNotActivated, day.Add(time.Hour))
		}
		three := issuedLicense(t, st, "ks-three", 1)
		for i := range 3 {
			use(three, models.UsageValidate, "198.51.100.2", fmt.Sprintf("site%d.example.org", i), models.CodeTooManyDomains, day.Add(time.Hour))
		}
		revoked := issuedLicense(t, st, "ks-revoked", 1)
		for i := range 20 {
			use(revoked, models.UsageFeed, fmt.Sprintf("192.0.2.%d", i), "", models.CodeRevoked, day.Add(time.Hour))
		}
		require.NoError(t, st.DB().Model(&models.License{}).Where("id = ?", revoked.ID).Update("status", models.StatusRevoked).Error)
		require.NoError(t, st.RecordUsage(ctx, events))

		suspects, err := st.KeySharingSuspects(ctx, day, day.AddDate(0, 0, 1), rule)
		require.NoError(t, err)
		got := map[string]models.KeyUsage{}
		for _, s := range suspects {
			got[s.LicenseID] = s
		}
		assert.Len(t, got, 2, "%+v", suspects)
		assert.Equal(t, 9, got[crowd.ID].Addresses)
		assert.Equal(t, 1, got[crowd.ID].MaxDomains)
		assert.Equal(t, 4, got[farm.ID].Unactivated)
		assert.Equal(t, []string{"site0.example.org", "site1.example.org", "site2.example.org", "site3.example.org"}, got[farm.ID].UnactivatedDomains)
		assert.NotContains(t, got, eight.ID, "8 addresses on the day, the ninth the day before, the tenth a heartbeat")
		assert.NotContains(t, got, three.ID)
		assert.NotContains(t, got, revoked.ID)
	})
}

// A site's view of a license is read in one statement; it holds exactly
// what the license's rows say: the license, its entitlements by repo (a
// custom add-on too) and its active domains by domain (staging copies
// marked, deactivated ones left out, last-seen times as stored).
func TestSiteLicenseIsReadInOneStatementAsItsRowsSay(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		l := issuedLicense(t, st, "site-read-1", 3)
		issuedLicense(t, st, "site-read-other", 3) // another license's rows stay out
		_, _, err := st.SetEntitlements(ctx, l.ID, "pos")
		require.NoError(t, err)
		_, err = st.AddCustomEntitlement(ctx, l.ID, "crm")
		require.NoError(t, err)
		seen := time.Now().Add(-26 * time.Hour).Truncate(time.Millisecond)
		for _, d := range []string{"b.example.com", "a.example.com", "gone.example.com"} {
			_, _, err = st.Activate(ctx, l.ID, d, seen)
			require.NoError(t, err)
		}
		_, _, err = st.ActivateStaging(ctx, l.ID, "staging.a.example.com", seen.Add(time.Hour))
		require.NoError(t, err)
		require.NoError(t, st.Deactivate(ctx, l.ID, "gone.example.com", time.Now()))

		statements := 0
		count := func(*gorm.DB) { statements++ }
		handles := []*gorm.DB{st.DB()}
		if st.Reader() != st.DB() {
			handles = append(handles, st.Reader())
		}
		for _, h := range handles {
			require.NoError(t, h.Callback().Query().After("gorm:query").Register("test:count-queries", count))
			require.NoError(t, h.Callback().Row().After("gorm:row").Register("test:count-rows", count))
		}
		sl, err := st.LookupSiteLicense(ctx, l.Key())
		require.NoError(t, err)
		assert.Equal(t, 1, statements, "one statement per key")
		for _, h := range handles {
			require.NoError(t, h.Callback().Query().Remove("test:count-queries"))
			require.NoError(t, h.Callback().Row().Remove("test:count-rows"))
		}

		want, err := st.GetLicense(ctx, l.ID)
		require.NoError(t, err)
		want.Customer = models.Customer{}
		want.ProcessedRefs = nil // the workflow's memory of payments, no site's business
		assert.Equal(t, utcLicense(want), utcLicense(sl.License))
		ents, err := st.GetEntitlements(ctx, l.ID)
		require.NoError(t, err)
		require.Len(t, ents, 3, "the tier's two products and the add-on")
		assert.Equal(t, ents, sl.Entitlements)
		var entitled []string
		for _, e := range ents {
			entitled = append(entitled, e.Repo, e.ProductCode)
		}
		assert.Equal(t, entitled, sl.Entitled)
		assert.Equal(t, []string{"a.example.com", "b.example.com", "staging.a.example.com"}, sl.ActiveDomains)
		assert.Equal(t, []string{"staging.a.example.com"}, sl.StagingDomains)
		rows, err := st.ListActivations(ctx, l.ID)
		require.NoError(t, err)
		stored := map[string]time.Time{}
		for _, a := range rows {
			if a.Status == models.ActivationActive {
				stored[a.Domain] = a.LastSeen
			}
		}
		assert.Equal(t, utcTimes(stored), utcTimes(sl.LastSeen))
		assert.WithinDuration(t, seen.Add(time.Hour), sl.LastSeen["staging.a.example.com"], time.Second)

		_, err = st.LookupSiteLicense(ctx, "0123456789abcdef0123456789abcdef")
		assert.ErrorIs(t, err, models.ErrNotFound)
	})
}

// utcLicense puts a license's times in UTC, as the two databases return
// them in different zones.
func utcLicense(l models.License) models.License {
	for _, p := range []**time.Time{&l.StartsAt, &l.ExpiresAt, &l.GraceUntil} {
		if *p != nil {
			u := (*p).UTC()
			*p = &u
		}
	}
	l.CreatedAt, l.UpdatedAt = l.CreatedAt.UTC(), l.UpdatedAt.UTC()
	return l
}
