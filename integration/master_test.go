package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/siteapi"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
)

// lockedBuffer collects log lines written from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// The master license (seed 001): created at first start, entitled to a
// product added after it, never counted as a sale; revoking it rotates its
// key, and the old key stops working at once, a cached validation of it
// included.
func TestMasterLicenseOpensEveryProductAndRotatesOnRevoke(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		logs := &lockedBuffer{}
		defer slog.SetDefault(slog.Default())
		slog.SetDefault(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
		s := stack.Start(t, st, stack.Options{MasterLicense: true})
		key := s.MasterKey

		// A product and a release on a channel no tier grants, created after
		// the master license.
		r := s.Call(http.MethodPost, "/api/v1/products", `{"code":"later","repo":"MokoSuiteLater","name":"Later","platform":"joomla","requires_key":true}`)
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		artifact := bytes.Repeat([]byte("nightly build "), 100)
		r = publish(t, s, "later", "2.0.0-rc.1", "nightly", artifact)
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))

		validate := func(dlid string) siteapi.SiteAnswer {
			t.Helper()
			r := s.CallAs("", http.MethodPost, "/api/v1/licenses/validate", siteapi.SiteRequest{DLID: dlid, Product: "MokoSuiteLater"})
			require.Equal(t, http.StatusOK, r.Status, string(r.Body))
			var a siteapi.SiteAnswer
			r.JSON(t, &a)
			return a
		}
		download := func(dlid string) stack.Response {
			t.Helper()
			return s.CallAs("", http.MethodGet, "/downloads/later/2.0.0-rc.1?dlid="+dlid, nil)
		}
		a := validate(key)
		assert.True(t, a.Valid, "the master key validates a product created after it: %+v", a)
		assert.Equal(t, models.CodeValid, a.Code)
		got := download(key)
		require.Equal(t, http.StatusOK, got.Status, string(got.Body))
		sum := sha256.Sum256(artifact)
		gotSum := sha256.Sum256(got.Body)
		assert.Equal(t, hex.EncodeToString(sum[:]), hex.EncodeToString(gotSum[:]), "on every channel")
		feed := joomlaFeed(t, s, "later", key)
		assert.NotEmpty(t, feed.Updates, "the update feed lists the nightly release")

		// Revoking it issues a new key, shown once; the old one, validated
		// (and cached) a moment ago, is refused at once.
		assert.True(t, validate(key).Valid)
		r = s.Call(http.MethodPost, "/api/v1/licensing/licenses/"+models.MasterLicenseID+"/revoke", `{"reason":"key leaked"}`)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		var v api.LicenseView
		r.JSON(t, &v)
		fresh := v.DLID
		require.True(t, models.ValidDLID(fresh), string(r.Body))
		require.NotEqual(t, key, fresh)
		assert.Equal(t, models.StatusActive, v.Status)

		old := validate(key)
		assert.False(t, old.Valid, "the old key answers invalid at once")
		assert.Equal(t, models.CodeNotFound, old.Code)
		assert.Equal(t, http.StatusForbidden, download(key).Status, "and downloads nothing")
		assert.Empty(t, joomlaFeed(t, s, "later", key).Updates)
		assert.True(t, validate(fresh).Valid, "the new key validates")
		assert.Equal(t, http.StatusOK, download(fresh).Status)

		again := s.Call(http.MethodGet, "/api/v1/licensing/licenses/"+models.MasterLicenseID, nil)
		require.Equal(t, http.StatusOK, again.Status)
		assert.NotContains(t, string(again.Body), fresh, "the key is shown once, in the rotation's answer")

		// The ledger has the rotation, keys masked.
		lines := ledger(t, s, models.MasterLicenseID)
		require.NotEmpty(t, lines)
		assert.Equal(t, models.LedgerRotateKey, lines[0].Action)
		assert.Equal(t, models.MaskDLID(key), lines[0].Old)
		assert.Equal(t, models.MaskDLID(fresh), lines[0].New)
		assert.Equal(t, "key leaked", lines[0].Note)

		// No sale: neither the licenses gauge nor the month's figures count it.
		metrics := s.CallAs("", http.MethodGet, "/metrics", nil)
		require.Equal(t, http.StatusOK, metrics.Status)
		assert.Contains(t, string(metrics.Body), `licenseflow_licenses{status="active"} 0`+"\n", "the active master license is not counted")
		now := time.Now()
		months, tiers, err := st.SalesMetrics(context.Background(), now, now, now)
		require.NoError(t, err)
		assert.Equal(t, models.MonthMetrics{Month: now.UTC().Format("2006-01"), Revenue: map[string]int64{}}, months[0])
		assert.Empty(t, tiers)

		// Neither key is anywhere in clear: not in the database, not in the logs.
		dump := testsupport.DatabaseText(t, st)
		all := logs.String()
		require.NotEmpty(t, all, "the logs were captured")
		for _, k := range []string{key, fresh} {
			assert.False(t, strings.Contains(dump, k), "key %s in clear in the database", models.MaskDLID(k))
			assert.False(t, strings.Contains(all, k), "key %s in clear in the logs", models.MaskDLID(k))
		}
	})
}
