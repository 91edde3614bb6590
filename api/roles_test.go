package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/models"
)

// TestATokenCreatedForARoleGetsTheRolesScopes: role "owner" is admin,
// "support" is licenses:read + licenses:support; a role and scopes together,
// or an unknown role, are refused; scopes alone work as before.
func TestATokenCreatedForARoleGetsTheRolesScopes(t *testing.T) {
	a := newAPITest(t)
	for _, c := range []struct {
		body, code string
		scopes     []string
	}{
		{body: `{"name":"boss","role":"owner"}`, scopes: []string{"admin"}},
		{body: `{"name":"desk","role":"Support"}`, scopes: []string{"licenses:read", "licenses:support"}},
		{body: `{"name":"crm","scopes":["licenses:write","orders:write"]}`, scopes: []string{"licenses:write", "orders:write"}},
		{body: `{"name":"both","role":"support","scopes":["admin"]}`, code: "role_and_scopes"},
		{body: `{"name":"x","role":"root"}`, code: "invalid_role"},
	} {
		w := a.call(adminToken, http.MethodPost, "/api/v1/tokens", c.body)
		if c.code != "" {
			require.Equal(t, http.StatusUnprocessableEntity, w.Code, c.body)
			assert.Contains(t, w.Body.String(), `"code":"`+c.code+`"`)
			continue
		}
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		assert.ElementsMatch(t, c.scopes, decodeAs[api.TokenCreated](t, w.Body.Bytes()).Detail.Scopes, c.body)
	}
}

// TestASupportTokenDoesSupportWorkOnly: licenses:support suspends,
// reinstates, sets domains; it neither revokes, creates licenses, changes
// other fields, edits the catalog nor makes tokens (403, nothing sent to
// the workflow).
func TestASupportTokenDoesSupportWorkOnly(t *testing.T) {
	a := newAPITest(t)
	w := a.call(adminToken, http.MethodPost, "/api/v1/tokens", `{"name":"desk","role":"support"}`)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	support := decodeAs[api.TokenCreated](t, w.Body.Bytes()).Token
	l := a.issued("support-token-1", "pos")
	lic := "/api/v1/licensing/licenses/" + l.ID

	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{http.MethodGet, lic, "", http.StatusOK},
		{http.MethodPost, lic + "/suspend", `{"reason":"chargeback"}`, http.StatusOK},
		{http.MethodPost, lic + "/reinstate", "", http.StatusOK},
		{http.MethodPatch, lic, `{"domains":["shop.example.com"]}`, http.StatusOK},
		{http.MethodPost, lic + "/revoke", `{"reason":"x"}`, http.StatusForbidden},
		{http.MethodPatch, lic, `{"tier":"suite"}`, http.StatusForbidden},
		{http.MethodPatch, lic, `{"max_domains":50}`, http.StatusForbidden},
		{http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"x@example.com","tier":"pos"}`, http.StatusForbidden},
		{http.MethodPost, "/api/v1/tiers", `{"key":"gold","name":"Gold"}`, http.StatusForbidden},
		{http.MethodPost, "/api/v1/tokens", `{"name":"escalate","role":"owner"}`, http.StatusForbidden},
	} {
		w := a.call(support, c.method, c.path, c.body)
		assert.Equal(t, c.want, w.Code, "%s %s %s: %s", c.method, c.path, c.body, w.Body.String())
		if c.want == http.StatusForbidden {
			assert.Contains(t, w.Body.String(), "insufficient_scope")
		}
	}
	var names []string
	for _, u := range a.flows.Updates() {
		names = append(names, u.Name)
	}
	assert.Equal(t, []string{string(models.ActionSuspend), string(models.ActionReinstate)}, names, "what was refused reached no workflow")
	assert.Empty(t, a.flows.Starts(), "no license was created")
}
