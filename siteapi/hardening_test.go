package siteapi_test

import (
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/lifecycle/lifecyclefake"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments"
	"github.com/licenseflow/licenseflow/siteapi"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/usage"
)

// siteTest serves the site-facing API and the JSON API (as licenseflow
// does) on a loopback server whose address is the public URL.
type siteTest struct {
	store *store.Store
	srv   *httptest.Server
}

func newSiteTest(t *testing.T) *siteTest {
	t.Helper()
	gin.SetMode(gin.TestMode)
	st := testsupport.SQLite(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	recorder := usage.NewRecorder(st, quiet, 10*time.Millisecond)
	t.Cleanup(recorder.Close)
	r := httpx.NewRouter(httpx.Options{Logger: quiet, Database: st})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	api.Mount(r, api.Deps{Store: st, Lifecycle: &lifecyclefake.Fake{}, Renewals: &payments.Renewals{Store: st}, ReleasesDir: t.TempDir()})
	siteapi.Mount(r, siteapi.Deps{Store: st, Keys: testsupport.SecretKeys(t), Usage: recorder, PublicURL: srv.URL})
	return &siteTest{store: st, srv: srv}
}

// issued records a minted, entitled license on tier.
func (s *siteTest) issued(t *testing.T, orderID, tier string) models.License {
	t.Helper()
	ctx := context.Background()
	tr, err := s.store.GetTier(ctx, tier)
	require.NoError(t, err)
	_, l, _, err := s.store.RecordPurchase(ctx, models.Purchase{OrderID: orderID, Email: orderID + "@example.com", Tier: tr,
		MaxDomains: 2, Months: 12, Type: models.TypeCommercial, PaidAt: time.Now()})
	require.NoError(t, err)
	expires := models.Instant(time.Now().AddDate(1, 0, 0))
	l, err = s.store.MintLicense(ctx, models.Mint{LicenseID: l.ID, TierKey: tier, MaxDomains: 2, Channels: tr.Channels,
		StartsAt: time.Now(), ExpiresAt: &expires})
	require.NoError(t, err)
	_, _, err = s.store.SetEntitlements(ctx, l.ID, tier)
	require.NoError(t, err)
	return l
}

func (s *siteTest) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(s.srv.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

// Issue 9, item 9: the feed's infourl pointed at the token-protected JSON
// API, so customers clicking it got a 401. It points at a public page
// about the release, which a browser opens without any token.
func TestTheFeedsInfoURLIsAPublicReleasePage(t *testing.T) {
	s := newSiteTest(t)
	l := s.issued(t, "info-1", "pos")
	path := filepath.Join(t.TempDir(), "pkg.zip")
	require.NoError(t, os.WriteFile(path, []byte("zip"), 0o644))
	notes := "Faster checkout.\n<script>alert(1)</script> & ]]> \"quoted\""
	_, err := s.store.CreateRelease(context.Background(), models.Release{ProductCode: "pos", Version: "2.1.0", Channel: "stable",
		Notes: notes, Element: "pkg_pos", ExtensionType: "package", TargetPlatform: "5.*", Filename: "pkg.zip", Path: path,
		Size: 3, SHA256: strings.Repeat("a", 64), PublishedAt: time.Now()})
	require.NoError(t, err)

	_, feed := s.get(t, "/updates/pos.xml?dlid="+l.Key())
	var doc siteapi.JoomlaUpdates
	require.NoError(t, xml.Unmarshal([]byte(feed), &doc), feed)
	require.Len(t, doc.Updates, 1)
	info := doc.Updates[0].InfoURL.URL
	require.True(t, strings.HasPrefix(info, s.srv.URL+"/"), info)
	assert.NotContains(t, info, "dlid", "the page needs no key, so the link carries none")

	resp, page := s.get(t, strings.TrimPrefix(info, s.srv.URL)) // no token, no key
	require.Equal(t, http.StatusOK, resp.StatusCode, page)
	assert.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	assert.Contains(t, page, "MokoSuite POS 2.1.0")
	assert.Contains(t, page, "Faster checkout.")
	assert.Contains(t, page, "&lt;script&gt;alert(1)&lt;/script&gt;", "notes are escaped")
	assert.NotContains(t, page, "<script>alert(1)</script>")

	resp, _ = s.get(t, "/releases/pos/9.9.9")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// Issue 9, item 6: ".." was accepted as a domain and took a slot.
func TestActivatingDomainsThatAreNoDomainsTakesNoSlot(t *testing.T) {
	s := newSiteTest(t)
	l := s.issued(t, "dom-1", "pos")
	for _, domain := range []string{".", "..", "...", "a..b.com", strings.Repeat("x", 64) + ".com"} {
		resp, err := http.Post(s.srv.URL+"/api/v1/licenses/activate", "application/json",
			strings.NewReader(`{"dlid":"`+l.Key()+`","domain":"`+domain+`"}`))
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "%q: %s", domain, body)
		assert.Contains(t, string(body), `"code":"invalid_domain"`, domain)
	}
	n, err := s.store.CountActiveDomains(context.Background(), l.ID)
	require.NoError(t, err)
	assert.Zero(t, n, "no slot is taken")
}
