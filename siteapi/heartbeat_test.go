package siteapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/siteapi"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/usage"
)

// silence is the domain silence the heartbeat tests run with.
const silence = 30 * 24 * time.Hour

// heartbeatSite serves the site-facing API as production wires it (key
// cache, batched last-seen writes) at a fixed time, and counts the
// statements its database runs.
type heartbeatSite struct {
	store      *store.Store
	router     http.Handler
	lastSeen   *usage.LastSeen
	now        time.Time
	statements atomic.Int64
}

func newHeartbeatSite(t *testing.T, st *store.Store) *heartbeatSite {
	t.Helper()
	gin.SetMode(gin.TestMode)
	s := &heartbeatSite{store: st, now: models.Instant(time.Now())}
	count := func(*gorm.DB) { s.statements.Add(1) }
	cb := st.DB().Callback()
	require.NoError(t, cb.Query().After("*").Register("test:count_query", count))
	require.NoError(t, cb.Row().After("*").Register("test:count_row", count))
	require.NoError(t, cb.Raw().After("*").Register("test:count_raw", count))
	require.NoError(t, cb.Create().After("*").Register("test:count_create", count))
	require.NoError(t, cb.Update().After("*").Register("test:count_update", count))
	require.NoError(t, cb.Delete().After("*").Register("test:count_delete", count))

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	recorder := usage.NewRecorder(st, quiet, time.Hour) // written on close, not while the test counts
	s.lastSeen = usage.NewLastSeen(st, quiet, usage.LastSeenOptions{Interval: time.Hour})
	t.Cleanup(recorder.Close)
	t.Cleanup(s.lastSeen.Close)
	r := httpx.NewRouter(httpx.Options{Logger: quiet, Database: st})
	siteapi.Mount(r, siteapi.Deps{Store: st, Keys: testsupport.SecretKeys(t), Usage: recorder, SiteCacheTTL: time.Minute, Now: func() time.Time { return s.now },
		LastSeen: s.lastSeen, DomainSilence: silence})
	s.router = r
	return s
}

// license issues an active license with domains activated at the given times.
func (s *heartbeatSite) license(t *testing.T, order string, activated map[string]time.Time) models.License {
	t.Helper()
	ctx := context.Background()
	tier, err := s.store.GetTier(ctx, "pos")
	require.NoError(t, err)
	_, l, _, err := s.store.RecordPurchase(ctx, models.Purchase{OrderID: order, Email: order + "@example.com", Tier: tier,
		MaxDomains: len(activated), Months: 12, Type: models.TypeCommercial, PaidAt: s.now})
	require.NoError(t, err)
	expires := s.now.AddDate(1, 0, 0)
	l, err = s.store.MintLicense(ctx, models.Mint{LicenseID: l.ID, TierKey: "pos", MaxDomains: len(activated), StartsAt: s.now, ExpiresAt: &expires})
	require.NoError(t, err)
	_, _, err = s.store.SetEntitlements(ctx, l.ID, "pos")
	require.NoError(t, err)
	for domain, at := range activated {
		_, _, err := s.store.Activate(ctx, l.ID, domain, at)
		require.NoError(t, err)
	}
	return l
}

func (s *heartbeatSite) call(t *testing.T, path string, req siteapi.SiteRequest) siteapi.SiteAnswer {
	t.Helper()
	body, err := json.Marshal(req)
	require.NoError(t, err)
	w := httptest.NewRecorder()
	s.router.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/api/v1/licenses/"+path, strings.NewReader(string(body))))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var a siteapi.SiteAnswer
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &a))
	return a
}

// storedLastSeen reads when each active domain of l was last seen.
func (s *heartbeatSite) storedLastSeen(t *testing.T, l models.License) map[string]time.Time {
	t.Helper()
	sl, err := s.store.LookupSiteLicense(context.Background(), l.Key())
	require.NoError(t, err)
	out := map[string]time.Time{}
	for d, at := range sl.LastSeen {
		out[d] = at.UTC()
	}
	return out
}

func TestHeartbeatsAndValidationsOfACachedLicenseRunNoQuery(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		s := newHeartbeatSite(t, st)
		earlier := s.now.Add(-time.Hour)
		l := s.license(t, "cached", map[string]time.Time{"shop.example.com": earlier})
		beat := siteapi.SiteRequest{DLID: l.Key(), Domain: "shop.example.com"}
		check := siteapi.SiteRequest{DLID: l.Key(), Domain: "shop.example.com", Product: "MokoSuitePOS", Nonce: "n"}
		s.call(t, "heartbeat", beat) // loads the signing key and the license
		s.call(t, "validate", check) // reads which products need a domain (once a minute)
		s.statements.Store(0)

		for range 10 {
			assert.Equal(t, models.CodeValid, s.call(t, "heartbeat", beat).Code)
			assert.Equal(t, models.CodeValid, s.call(t, "validate", check).Code)
		}
		assert.Zero(t, s.statements.Load(), "a cached license is answered without the database")
		assert.Equal(t, map[string]time.Time{"shop.example.com": earlier}, s.storedLastSeen(t, l), "the heartbeat waits for its batch")
		s.lastSeen.Close()
		assert.Equal(t, map[string]time.Time{"shop.example.com": s.now}, s.storedLastSeen(t, l))
	})
}

// A batch lost in a crash must never release a domain that is still in
// use: only domains seen within half the silence window are batched, and
// the first heartbeat after a longer silence is written before the answer.
func TestNoDomainHeardWithinHalfTheSilenceIsReleasedEvenIfItsBatchIsLost(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		s := newHeartbeatSite(t, st)
		recent, long := s.now.Add(-silence/2+time.Hour), s.now.Add(-silence/2-time.Hour)
		l := s.license(t, "silence", map[string]time.Time{"recent.example.com": recent, "long.example.com": long})
		for _, d := range []string{"recent.example.com", "long.example.com"} {
			assert.Equal(t, models.CodeValid, s.call(t, "heartbeat", siteapi.SiteRequest{DLID: l.Key(), Domain: d}).Code)
		}
		assert.Equal(t, map[string]time.Time{"recent.example.com": recent, "long.example.com": s.now}, s.storedLastSeen(t, l),
			"only the heartbeat after a long silence is written at once")

		// The pending batch is never written (a crash); the daily release
		// runs as late as it can without the recent domain's heartbeat
		// being older than half the window.
		release := s.now.Add(silence/2 - time.Minute)
		n, err := st.ReleaseSilentDomains(context.Background(), release.Add(-silence), release)
		require.NoError(t, err)
		assert.Zero(t, n)
		assert.Len(t, s.storedLastSeen(t, l), 2)
	})
}

func TestHeartbeatAnswersFollowTheLicense(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		s := newHeartbeatSite(t, st)
		earlier := s.now.Add(-time.Hour)
		l := s.license(t, "changes", map[string]time.Time{"shop.example.com": earlier, "other.example.com": earlier})
		beat := siteapi.SiteRequest{DLID: l.Key(), Domain: "shop.example.com"}
		assert.Equal(t, models.CodeValid, s.call(t, "heartbeat", beat).Code)

		unknown := s.call(t, "heartbeat", siteapi.SiteRequest{DLID: strings.Repeat("0", 32), Domain: "shop.example.com"})
		assert.Equal(t, models.CodeNotFound, unknown.Code)
		assert.False(t, unknown.Valid)

		// Deactivating invalidates the cached license: the next heartbeat is
		// told, and keeps nothing.
		require.NoError(t, st.Deactivate(context.Background(), l.ID, "other.example.com", s.now))
		a := s.call(t, "heartbeat", siteapi.SiteRequest{DLID: l.Key(), Domain: "other.example.com"})
		assert.Equal(t, models.CodeDomainNotActivated, a.Code)
		assert.Equal(t, []string{"shop.example.com"}, a.License.ActiveDomains)

		require.NoError(t, st.ProjectLicense(context.Background(), models.Projection{LicenseID: l.ID, Revision: 1 << 30,
			Status: models.StatusRevoked, TierKey: "pos", StartsAt: &s.now, ExpiresAt: l.ExpiresAt, MaxDomains: 2}))
		a = s.call(t, "heartbeat", beat)
		assert.Equal(t, models.CodeRevoked, a.Code)
		assert.False(t, a.Valid)

		s.lastSeen.Close()
		acts, err := st.ListActivations(context.Background(), l.ID)
		require.NoError(t, err)
		for _, act := range acts {
			if act.Domain == "other.example.com" {
				assert.True(t, act.LastSeen.Equal(earlier), "a deactivated domain's heartbeat is not recorded")
			}
		}
	})
}

// A site that only validates is in use too: a valid validation keeps its
// domain from being released as silent, as a heartbeat does; an answer that
// is not valid keeps nothing.
func TestAValidValidationKeepsItsDomainLikeAHeartbeat(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		s := newHeartbeatSite(t, st)
		long := s.now.Add(-silence/2 - time.Hour)
		l := s.license(t, "validates", map[string]time.Time{"shop.example.com": long, "other.example.com": long})

		a := s.call(t, "validate", siteapi.SiteRequest{DLID: l.Key(), Domain: "shop.example.com", Product: "MokoSuitePOS"})
		require.Equal(t, models.CodeValid, a.Code)
		refused := s.call(t, "validate", siteapi.SiteRequest{DLID: l.Key(), Domain: "other.example.com", Product: "NoSuchProduct"})
		require.False(t, refused.Valid)

		assert.Equal(t, map[string]time.Time{"shop.example.com": s.now, "other.example.com": long}, s.storedLastSeen(t, l),
			"after a long silence the validating domain is written at once; a refused validation keeps nothing")
		n, err := st.ReleaseSilentDomains(context.Background(), s.now.Add(silence/2).Add(-silence), s.now.Add(silence/2))
		require.NoError(t, err)
		assert.Equal(t, 1, n, "only the domain that did not validate is released")
	})
}
