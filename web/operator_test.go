package web_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/lifecycle/lifecyclefake"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/web"
	"github.com/licenseflow/licenseflow/webhooks"
)

const adminToken = "lft_web-test-admin-token"

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// operatorBrowser is an operator's browser on the portal and dashboard,
// served on a real store with the workflows faked by flows, signed in with
// an admin API token through the sign-in form. It follows no redirects, so
// tests see where a form sends them.
type operatorBrowser struct {
	t      *testing.T
	url    string
	client *http.Client
}

func signedInOperator(t *testing.T, st *store.Store, flows *lifecyclefake.Fake) *operatorBrowser {
	t.Helper()
	gin.SetMode(gin.TestMode)
	_, err := st.EnsureToken(context.Background(), "admin", adminToken, models.StringList{string(models.ScopeAdmin)})
	require.NoError(t, err)
	r := httpx.NewRouter(httpx.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Database: st})
	web.Mount(r, web.Deps{Store: st, Lifecycle: flows, Renewals: &payments.Renewals{Store: st}, PublicURL: "http://localhost",
		WebhookSecrets: webhooks.NewSecretBox(testsupport.SecretKeys(t))})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	b := &operatorBrowser{t: t, url: srv.URL, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	resp, _ := b.post("/admin/token", url.Values{"csrf": {b.csrf("/admin")}, "token": {adminToken}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "signed in")
	return b
}

// get returns a page's status and body.
func (b *operatorBrowser) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.client.Get(b.url + path)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(page)
}

// post sends a form and returns the answer (its body read and closed) and
// the body.
func (b *operatorBrowser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.client.PostForm(b.url+path, form)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	return resp, string(page)
}

// notice follows a form's redirect and returns what the page says of it.
func (b *operatorBrowser) notice(resp *http.Response) string {
	b.t.Helper()
	require.Equal(b.t, http.StatusSeeOther, resp.StatusCode)
	_, page := b.get(resp.Header.Get("Location"))
	m := noticeText.FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

var noticeText = regexp.MustCompile(`<p class="notice"[^>]*>(.*?)</p>`)

// csrf is the CSRF token a page's forms carry.
func (b *operatorBrowser) csrf(path string) string {
	b.t.Helper()
	_, page := b.get(path)
	m := csrfField.FindStringSubmatch(page)
	require.NotNil(b.t, m, "%s carries a CSRF token", path)
	return m[1]
}

// TestPagesAreNeverCached: the portal's license page shows the full key,
// the outbox the emails, a new webhook its secret; none may stay in a
// browser's or proxy's cache.
func TestPagesAreNeverCached(t *testing.T) {
	st := testsupport.SQLite(t)
	b := signedInOperator(t, st, &lifecyclefake.Fake{})
	for _, path := range []string{"/admin", "/admin/outbox", "/admin/webhooks", "/portal", "/portal/licenses/lic_x", "/portal/invoices/INV-2026-000001"} {
		resp, err := b.client.Get(b.url + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"), "%s answered %d", path, resp.StatusCode)
	}
}

// TestTokenSignInIsRateLimited: guessing admin tokens through the sign-in
// form stops after 10 tries a minute from one address, and the limit is
// charged before the lookup, so even the right token is then refused.
func TestTokenSignInIsRateLimited(t *testing.T) {
	st := testsupport.SQLite(t)
	signedIn := signedInOperator(t, st, &lifecyclefake.Fake{}) // one try, the right token
	jar, _ := cookiejar.New(nil)
	b := &operatorBrowser{t: t, url: signedIn.url, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	csrf := b.csrf("/admin")
	limited := 0
	for i := 0; i < 12; i++ {
		resp, _ := b.post("/admin/token", url.Values{"csrf": {csrf}, "token": {"lft_guess-" + strconv.Itoa(i)}})
		if resp.StatusCode == http.StatusTooManyRequests {
			limited++
		} else {
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		}
	}
	require.Equal(t, 3, limited, "10 tries a minute, the sign-in being the first")
	resp, _ := b.post("/admin/token", url.Values{"csrf": {csrf}, "token": {adminToken}})
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
}
