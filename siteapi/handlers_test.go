package siteapi_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/licensetoken"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/siteapi"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/usage"
)

// Sites are answered from the database alone: activation and validation
// need no workflow service, and every answer is signed.
func TestASiteActivatesAndValidatesWithSignedAnswers(t *testing.T) {
	gin.SetMode(gin.TestMode)
	st := testsupport.SQLite(t)
	ctx := context.Background()
	tier, err := st.GetTier(ctx, "pos")
	require.NoError(t, err)
	_, l, _, err := st.RecordPurchase(ctx, models.Purchase{OrderID: "site-1", Email: "site@example.com", Tier: tier,
		MaxDomains: 1, Months: 12, Type: models.TypeCommercial, PaidAt: time.Now()})
	require.NoError(t, err)
	expires := models.Instant(time.Now().AddDate(1, 0, 0))
	l, err = st.MintLicense(ctx, models.Mint{LicenseID: l.ID, TierKey: "pos", MaxDomains: 1, StartsAt: time.Now(), ExpiresAt: &expires})
	require.NoError(t, err)
	_, _, err = st.SetEntitlements(ctx, l.ID, "pos")
	require.NoError(t, err)

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	recorder := usage.NewRecorder(st, quiet, 10*time.Millisecond)
	t.Cleanup(recorder.Close)
	r := httpx.NewRouter(httpx.Options{Logger: quiet, Database: st})
	siteapi.Mount(r, siteapi.Deps{Store: st, Keys: testsupport.SecretKeys(t), Usage: recorder, SiteCacheTTL: time.Minute})
	call := func(method, path, body string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(method, path, strings.NewReader(body)))
		return w
	}

	var published struct {
		Keys []siteapi.PublicKey `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(call(http.MethodGet, "/api/v1/keys/public", "").Body.Bytes(), &published))
	keys := map[string]ed25519.PublicKey{}
	for _, k := range published.Keys {
		keys[k.KeyID], err = base64.StdEncoding.DecodeString(k.PublicKey)
		require.NoError(t, err)
	}
	answer := func(path string, req siteapi.SiteRequest) siteapi.SiteAnswer {
		t.Helper()
		body, _ := json.Marshal(req)
		w := call(http.MethodPost, "/api/v1/licenses/"+path, string(body))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.NoError(t, licensetoken.VerifyAnswer(w.Body.Bytes(), w.Header().Get(licensetoken.SignatureHeader), keys))
		var a siteapi.SiteAnswer
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &a))
		return a
	}

	a := answer("activate", siteapi.SiteRequest{DLID: l.Key(), Domain: "https://www.Shop.example.com/admin"})
	require.NotNil(t, a.Activated)
	assert.True(t, *a.Activated)
	assert.Equal(t, 1, a.ActivationUsage)

	a = answer("validate", siteapi.SiteRequest{DLID: l.Key(), Domain: "shop.example.com", Product: "MokoSuitePOS", Nonce: "n-1"})
	assert.True(t, a.Valid)
	assert.Equal(t, models.CodeValid, a.Code)
	assert.Equal(t, "n-1", a.Nonce)
	assert.Equal(t, []string{"shop.example.com"}, a.License.ActiveDomains)

	a = answer("activate", siteapi.SiteRequest{DLID: l.Key(), Domain: "other.example.com"})
	assert.False(t, *a.Activated)
	assert.Equal(t, models.CodeTooManyDomains, a.Code)

	a = answer("validate", siteapi.SiteRequest{DLID: strings.Repeat("0", 32)})
	assert.False(t, a.Valid)
	assert.Equal(t, models.CodeNotFound, a.Code)
	assert.Nil(t, a.License)
}
