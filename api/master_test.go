package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
)

// withMaster creates the master license as a first start does and returns its key.
func (a *apiTest) withMaster() string {
	a.t.Helper()
	key, err := a.store.EnsureMasterLicense(context.Background(), time.Now())
	require.NoError(a.t, err)
	require.NotEmpty(a.t, key)
	return key
}

func TestMasterLicenseRefusesLifecycleChangesWithoutAskingAWorkflow(t *testing.T) {
	a := newAPITest(t)
	a.withMaster()
	path := "/api/v1/licensing/licenses/" + models.MasterLicenseID
	for _, c := range []struct{ method, path, body string }{
		{http.MethodPost, path + "/suspend", `{"reason":"x"}`},
		{http.MethodPost, path + "/reinstate", ``},
		{http.MethodPost, path + "/renew", `{"months":12}`},
		{http.MethodPatch, path, `{"expires_months":12}`},
		{http.MethodPatch, path, `{"tier":"suite"}`},
		{http.MethodPatch, path, `{"domains":["a.example"]}`},
		{http.MethodPost, path + "/renewal-link", ``},
	} {
		w := a.call(adminToken, c.method, c.path, c.body)
		require.Equal(t, http.StatusConflict, w.Code, "%s %s: %s", c.method, c.path, w.Body.String())
		e := errorOf(t, w)
		assert.Equal(t, models.CodeMasterLicense, e.Code, "%s %s", c.method, c.path)
		assert.Contains(t, e.Message, "rotate-key")
	}
	assert.Empty(t, a.flows.Updates(), "no workflow is asked anything")
	assert.Empty(t, a.flows.Signals())

	w := a.call(adminToken, http.MethodGet, path, "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var v api.LicenseView
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v))
	assert.Equal(t, models.TypeMaster, v.Type)
	assert.True(t, v.Lifetime)
	assert.Empty(t, v.DLID, "the key is shown once, at creation or rotation, never on reading")
	assert.Empty(t, a.flows.Queries(), "no workflow to query")
}

func TestRevokingTheMasterLicenseRotatesItsKey(t *testing.T) {
	for _, route := range []string{"revoke", "rotate-key"} {
		t.Run(route, func(t *testing.T) {
			a := newAPITest(t)
			old := a.withMaster()
			w := a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses/"+models.MasterLicenseID+"/"+route, `{"reason":"laptop lost"}`)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			var v api.LicenseView
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v))
			require.True(t, models.ValidDLID(v.DLID), "the new key is in the answer: %s", w.Body.String())
			assert.NotEqual(t, old, v.DLID)
			assert.Equal(t, models.StatusActive, v.Status, "the master license is never left revoked")
			assert.Empty(t, a.flows.Updates())

			ctx := context.Background()
			_, err := a.store.LookupSiteLicense(ctx, old)
			assert.ErrorIs(t, err, models.ErrNotFound, "the old key is gone at once")
			_, err = a.store.LookupSiteLicense(ctx, v.DLID)
			require.NoError(t, err)

			w = a.call(adminToken, http.MethodGet, "/api/v1/licensing/licenses/"+models.MasterLicenseID+"/events", "")
			require.Equal(t, http.StatusOK, w.Code)
			body := w.Body.String()
			assert.Contains(t, body, models.LedgerRotateKey)
			assert.Contains(t, body, models.MaskDLID(old))
			assert.Contains(t, body, models.MaskDLID(v.DLID))
			assert.Contains(t, body, "token:admin")
			assert.NotContains(t, body, v.DLID, "the ledger shows keys masked")
			assert.NotContains(t, body, old)
		})
	}
}

func TestRotatedKeyIsNotKeptForAnIdempotentReplay(t *testing.T) {
	a := newAPITest(t)
	a.withMaster()
	req := func() (int, string) {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/licensing/licenses/"+models.MasterLicenseID+"/rotate-key", nil)
		r.Header.Set("Authorization", "Bearer "+adminToken)
		r.Header.Set(httpx.IdempotencyHeader, "rotate-1")
		w := httptest.NewRecorder()
		a.router.ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	code, first := req()
	require.Equal(t, http.StatusOK, code, first)
	code, again := req()
	assert.Equal(t, http.StatusConflict, code, "a replay shows no key: %s", again)
	assert.Contains(t, again, models.SecretShownOnceCode)
	var v api.LicenseView
	require.NoError(t, json.Unmarshal([]byte(first), &v))
	var stored []models.IdempotencyRecord
	require.NoError(t, a.store.DB().Find(&stored).Error)
	for _, rec := range stored {
		assert.NotContains(t, rec.ResponseBody, v.DLID, "the new key is not stored with the answer")
	}
}

func TestANormalLicenseKeyCannotBeRotatedOrMadeMaster(t *testing.T) {
	a := newAPITest(t)
	a.withMaster()
	l := a.purchased("crm-normal-1")
	minted, err := a.store.MintLicense(context.Background(), models.Mint{LicenseID: l.ID, TierKey: "pos", MaxDomains: 2, StartsAt: time.Now()})
	require.NoError(t, err)

	w := a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses/"+l.ID+"/rotate-key", "")
	require.Equal(t, http.StatusConflict, w.Code, w.Body.String())
	assert.Equal(t, "not_master_license", errorOf(t, w).Code)
	assert.Contains(t, errorOf(t, w).Message, "keeps its key for life")

	w = a.call(adminToken, http.MethodPatch, "/api/v1/licensing/licenses/"+l.ID, `{"type":"master"}`)
	assert.Equal(t, http.StatusBadRequest, w.Code, "type is no field a PATCH takes: %s", w.Body.String())
	w = a.call(adminToken, http.MethodPatch, "/api/v1/licensing/licenses/"+l.ID, `{"tier":"master"}`)
	assert.Less(t, w.Code, 500)
	assert.NotEqual(t, http.StatusOK, w.Code, "no tier is called master: %s", w.Body.String())

	after, err := a.store.GetLicense(context.Background(), l.ID)
	require.NoError(t, err)
	assert.Equal(t, minted.Key(), after.Key(), "its key is unchanged")
	assert.Equal(t, models.TypeCommercial, after.Type)
}

func TestOnlyAnAdminRotatesTheMasterKey(t *testing.T) {
	a := newAPITest(t)
	old := a.withMaster()
	_, err := a.store.EnsureToken(context.Background(), "crm", writeToken, models.StringList{string(models.ScopeLicensesWrite)})
	require.NoError(t, err)
	for _, route := range []string{"rotate-key", "revoke"} {
		w := a.call(writeToken, http.MethodPost, "/api/v1/licensing/licenses/"+models.MasterLicenseID+"/"+route, "")
		assert.Equal(t, http.StatusForbidden, w.Code, "%s: %s", route, w.Body.String())
		assert.False(t, strings.Contains(w.Body.String(), `"dlid":"`) && !strings.Contains(w.Body.String(), `"dlid":""`))
	}
	_, err = a.store.LookupSiteLicense(context.Background(), old)
	assert.NoError(t, err, "the key did not change")
}
