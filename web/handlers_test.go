package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/lifecycle/lifecyclefake"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/web"
	"github.com/licenseflow/licenseflow/workflows"
)

const adminToken = "lft_web-test-admin-token"

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// An operator's manual action goes to the license's workflow as an
// update; when the workflow refuses it, the page says why and nothing else
// happens.
func TestAnActionTheWorkflowRefusesIsShownWithItsReason(t *testing.T) {
	gin.SetMode(gin.TestMode)
	st := testsupport.SQLite(t)
	ctx := context.Background()
	_, err := st.EnsureToken(ctx, "admin", adminToken, models.StringList{string(models.ScopeAdmin)})
	require.NoError(t, err)
	tier, err := st.GetTier(ctx, "pos")
	require.NoError(t, err)
	_, l, _, err := st.RecordPurchase(ctx, models.Purchase{OrderID: "web-1", Email: "buyer@example.com", Tier: tier,
		MaxDomains: 2, Months: 12, Type: models.TypeCommercial, WorkflowID: workflows.WorkflowID, PaidAt: time.Now()})
	require.NoError(t, err)

	flows := &lifecyclefake.Fake{WebUIURL: "http://temporal.example"}
	flows.UpdateErr = lifecyclefake.Rejection(workflows.RejectConflict, "not_suspended", "",
		"the license is pending, not suspended; only a suspended license can be reinstated")
	r := httpx.NewRouter(httpx.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Database: st})
	web.Mount(r, web.Deps{Store: st, Lifecycle: flows, Renewals: &payments.Renewals{Store: st}, PublicURL: "http://localhost"})
	srv := httptest.NewServer(r)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := func(path string) string {
		t.Helper()
		resp, err := browser.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	post := func(path string, form url.Values) *http.Response {
		t.Helper()
		resp, err := browser.PostForm(srv.URL+path, form)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}

	// Sign in with the admin token, through the sign-in form.
	m := csrfField.FindStringSubmatch(page("/admin"))
	require.NotNil(t, m, "the sign-in page carries a CSRF token")
	resp := post("/admin/token", url.Values{"csrf": {m[1]}, "token": {adminToken}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)

	licensePage := page("/admin/licenses/" + l.ID)
	assert.Contains(t, licensePage, "http://temporal.example/"+l.WorkflowID, "the license links to its workflow")
	m = csrfField.FindStringSubmatch(licensePage)
	require.NotNil(t, m)
	resp = post("/admin/licenses/"+l.ID+"/action", url.Values{"csrf": {m[1]}, "action": {"reinstate"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/admin/licenses/"+l.ID+"?notice="+url.QueryEscape("Not done: the license is pending, not suspended; only a suspended license can be reinstated"),
		resp.Header.Get("Location"))

	updates := flows.Updates()
	require.Len(t, updates, 1)
	assert.Equal(t, workflows.Reinstate, updates[0].Name)
	assert.Equal(t, l.ID, updates[0].License.ID)
	assert.Equal(t, "token:admin", updates[0].Arg.(workflows.ReinstateRequest).Actor, "the ledger names the operator")

	// Correcting the expiry sends a correction, not a renewal.
	flows.UpdateErr = nil
	resp = post("/admin/licenses/"+l.ID+"/action", url.Values{"csrf": {m[1]}, "action": {"correct-expiry"},
		"expires_at": {"2027-03-01T12:30"}, "reason": {"goodwill"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	updates = flows.Updates()
	require.Len(t, updates, 2)
	assert.Equal(t, workflows.CorrectExpiry, updates[1].Name)
	assert.Equal(t, workflows.CorrectExpiryRequest{ExpiresAt: time.Date(2027, 3, 1, 12, 30, 0, 0, time.UTC), Reason: "goodwill", Actor: "token:admin"},
		updates[1].Arg)
	resp = post("/admin/licenses/"+l.ID+"/action", url.Values{"csrf": {m[1]}, "action": {"correct-expiry"}, "expires_at": {"next week"}})
	assert.Contains(t, resp.Header.Get("Location"), url.QueryEscape("Give the new expiry as a date and time (UTC)."))
	assert.Len(t, flows.Updates(), 2, "an unreadable date sends nothing")
	assert.Contains(t, page("/admin/licenses/"+l.ID), `id="ledger"`, "the license page shows its ledger")
}
