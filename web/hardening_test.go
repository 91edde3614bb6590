package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
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

// An operator's reason becomes a ledger note and a workflow's suspend
// reason: one line of at most 500 characters, refused on the page with
// its reason otherwise; a form holding control characters or invalid
// UTF-8 anywhere is refused before any handler reads it.
func TestFormsRefuseTextTheyCannotKeep(t *testing.T) {
	gin.SetMode(gin.TestMode)
	st := testsupport.SQLite(t)
	ctx := context.Background()
	_, err := st.EnsureToken(ctx, "admin", adminToken, models.StringList{string(models.ScopeAdmin)})
	require.NoError(t, err)
	tier, err := st.GetTier(ctx, "pos")
	require.NoError(t, err)
	_, l, _, err := st.RecordPurchase(ctx, models.Purchase{OrderID: "web-2", Email: "buyer@example.com", Tier: tier,
		MaxDomains: 2, Months: 12, Type: models.TypeCommercial, WorkflowID: workflows.WorkflowID, PaidAt: time.Now()})
	require.NoError(t, err)
	flows := &lifecyclefake.Fake{}
	r := httpx.NewRouter(httpx.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Database: st})
	web.Mount(r, web.Deps{Store: st, Lifecycle: flows, Renewals: &payments.Renewals{Store: st}, PublicURL: "http://localhost"})
	srv := httptest.NewServer(r)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	csrf := func(path string) string {
		t.Helper()
		resp, err := browser.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		page, _ := io.ReadAll(resp.Body)
		m := csrfField.FindStringSubmatch(string(page))
		require.NotNil(t, m, path)
		return m[1]
	}
	post := func(path string, form url.Values) (*http.Response, string) {
		t.Helper()
		resp, err := browser.PostForm(srv.URL+path, form)
		require.NoError(t, err)
		defer resp.Body.Close()
		page, _ := io.ReadAll(resp.Body)
		return resp, string(page)
	}
	resp, _ := post("/admin/token", url.Values{"csrf": {csrf("/admin")}, "token": {adminToken}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)

	action := "/admin/licenses/" + l.ID + "/action"
	resp, _ = post(action, url.Values{"csrf": {csrf("/admin/licenses/" + l.ID)}, "action": {"suspend"}, "reason": {strings.Repeat("r", 501)}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Location"), url.QueryEscape("Not done: reason must be at most 500 characters"))

	resp, page := post(action, url.Values{"csrf": {csrf("/admin/licenses/" + l.ID)}, "action": {"suspend"}, "reason": {"fraud\r\nBcc: x@example.com"}})
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, page)
	resp, page = post("/portal/signin", url.Values{"csrf": {csrf("/portal")}, "email": {"buyer@example.com\x00"}})
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, page)
	assert.Contains(t, resp.Header.Get("Content-Type"), "text/html")

	assert.Empty(t, flows.Updates(), "nothing reached the workflow")
	assert.Empty(t, flows.SignIns(), "no sign-in email")
}
