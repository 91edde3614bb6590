package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/lifecycle/lifecyclefake"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/web"
)

// dashboard serves the portal and dashboard on st for the given operators,
// as one start of licenseflow would.
func dashboard(t *testing.T, st *store.Store, operators ...string) string {
	t.Helper()
	gin.SetMode(gin.TestMode)
	r := httpx.NewRouter(httpx.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Database: st})
	web.Mount(r, web.Deps{Store: st, Lifecycle: &lifecyclefake.Fake{}, PublicURL: "http://localhost", AdminEmails: operators})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestRevokingATokenSignsItsDashboardSessionOut: the session opened with
// an admin token answers 401 as soon as the token is revoked, on the
// dashboard and on the codec endpoint's session check alike.
func TestRevokingATokenSignsItsDashboardSessionOut(t *testing.T) {
	st := testsupport.SQLite(t)
	b := signedInOperator(t, st, &lifecyclefake.Fake{})
	status, _ := b.get("/admin/webhooks")
	require.Equal(t, http.StatusOK, status)
	tokens, err := st.ListTokens(context.Background())
	require.NoError(t, err)
	require.Len(t, tokens, 1)
	require.NoError(t, st.RevokeToken(context.Background(), tokens[0].ID, time.Now()))
	status, _ = b.get("/admin/webhooks")
	assert.Equal(t, http.StatusUnauthorized, status)
}

// TestAnOperatorRemovedFromAdminEmailsIsSignedOut: after a restart without
// the operator's address, their cookie no longer opens the dashboard (and
// their session is gone, so adding them back needs a new sign-in).
func TestAnOperatorRemovedFromAdminEmailsIsSignedOut(t *testing.T) {
	st := testsupport.SQLite(t)
	before := dashboard(t, st, "ops@example.com", "other@example.com")
	jar, _ := cookiejar.New(nil)
	b := &operatorBrowser{t: t, url: before, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	signInByLink(b, st, "ops@example.com")
	status, _ := b.get("/admin/webhooks")
	require.Equal(t, http.StatusOK, status)

	b.url = dashboard(t, st, "other@example.com") // cookies are per host, not per port
	status, _ = b.get("/admin/webhooks")
	assert.Equal(t, http.StatusUnauthorized, status)
	b.url = before
	status, _ = b.get("/admin/webhooks")
	assert.Equal(t, http.StatusUnauthorized, status, "the session was ended, not just refused")
}

// signInByLink signs b in with a fresh magic link for email, as if read
// from the mailbox.
func signInByLink(b *operatorBrowser, st *store.Store, email string) {
	b.t.Helper()
	token, err := st.CreateMagicLink(context.Background(), email, models.AudienceAdmin, time.Now())
	require.NoError(b.t, err)
	resp, _ := b.post("/admin/auth", url.Values{"csrf": {b.csrf("/admin/auth?token=" + token)}, "token": {token}})
	require.Equal(b.t, http.StatusSeeOther, resp.StatusCode)
}

// TestASignInLinkIsUsedOnlyByItsConfirmationButton: a mail scanner or link
// preview fetching the link (any number of times, with or without cookies)
// uses up nothing; the link's page posts it back with a CSRF token, and
// only that post signs in, once. A post from elsewhere (no CSRF token) is
// refused and leaves the link usable.
func TestASignInLinkIsUsedOnlyByItsConfirmationButton(t *testing.T) {
	st := testsupport.SQLite(t)
	for _, area := range []struct {
		path     string
		audience models.Audience
		email    string
	}{{"/admin", models.AudienceAdmin, "ops@example.com"}, {"/portal", models.AudienceCustomer, "buyer@example.com"}} {
		t.Run(area.path, func(t *testing.T) {
			site := dashboard(t, st, "ops@example.com")
			if area.audience == models.AudienceCustomer {
				_, err := st.UpsertCustomer(context.Background(), area.email, "Buyer", "")
				require.NoError(t, err)
			}
			token, err := st.CreateMagicLink(context.Background(), area.email, area.audience, time.Now())
			require.NoError(t, err)
			link := site + area.path + "/auth?token=" + url.QueryEscape(token)
			for range 3 { // the scanner, the preview, the scanner again
				resp, err := http.Get(link)
				require.NoError(t, err)
				page, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				require.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Contains(t, string(page), `id="confirm-signin"`)
				for _, cookie := range resp.Cookies() {
					assert.Equal(t, "lf_csrf", cookie.Name, "no session, only the form's CSRF cookie")
				}
			}
			forged, err := http.PostForm(site+area.path+"/auth", url.Values{"token": {token}})
			require.NoError(t, err)
			forged.Body.Close()
			assert.Equal(t, http.StatusForbidden, forged.StatusCode, "a post without the page's CSRF token")

			jar, _ := cookiejar.New(nil)
			b := &operatorBrowser{t: t, url: site, client: &http.Client{Jar: jar,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
			csrf := b.csrf(area.path + "/auth?token=" + url.QueryEscape(token))
			resp, _ := b.post(area.path+"/auth", url.Values{"csrf": {csrf}, "token": {token}})
			require.Equal(t, http.StatusSeeOther, resp.StatusCode, "the button signs in")
			status, _ := b.get(area.path)
			assert.Equal(t, http.StatusOK, status, "signed in")
			resp, _ = b.post(area.path+"/auth", url.Values{"csrf": {csrf}, "token": {token}})
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the link works once")
		})
	}
}

// TestSigningOutEndsTheSessionNotOnlyTheCookie: in both areas a sign-out
// without the page's CSRF token (a forged form) changes nothing; with it the
// cookie is cleared and the session is gone, so a copy of the old cookie
// (a stolen one, a shared machine's backup) opens nothing.
func TestSigningOutEndsTheSessionNotOnlyTheCookie(t *testing.T) {
	st := testsupport.SQLite(t)
	for _, area := range []struct {
		path, cookie, page string
		audience           models.Audience
		email              string
	}{
		{"/admin", "lf_admin", "/admin/webhooks", models.AudienceAdmin, "ops@example.com"},
		{"/portal", "lf_portal", "/portal/invoices/INV-2026-000001", models.AudienceCustomer, "buyer@example.com"},
	} {
		t.Run(area.path, func(t *testing.T) {
			site := dashboard(t, st, "ops@example.com")
			_, err := st.UpsertCustomer(context.Background(), area.email, "Buyer", "")
			require.NoError(t, err)
			jar, _ := cookiejar.New(nil)
			b := &operatorBrowser{t: t, url: site, client: &http.Client{Jar: jar,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
			token, err := st.CreateMagicLink(context.Background(), area.email, area.audience, time.Now())
			require.NoError(t, err)
			resp, _ := b.post(area.path+"/auth", url.Values{"csrf": {b.csrf(area.path + "/auth?token=" + url.QueryEscape(token))}, "token": {token}})
			require.Equal(t, http.StatusSeeOther, resp.StatusCode)
			signedIn := func(cookie *http.Cookie) bool {
				req, _ := http.NewRequest(http.MethodGet, site+area.page, nil)
				req.AddCookie(cookie)
				resp, err := http.DefaultTransport.RoundTrip(req)
				require.NoError(t, err)
				resp.Body.Close()
				return resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusSeeOther
			}
			var session *http.Cookie
			for _, c := range jar.Cookies(mustURL(t, site+area.path)) {
				if c.Name == area.cookie {
					session = c
				}
			}
			require.NotNil(t, session, "signed in with a %s cookie", area.cookie)
			require.True(t, signedIn(session))

			resp, _ = b.post(area.path+"/signout", url.Values{})
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, "a sign-out without the page's CSRF token")
			assert.True(t, signedIn(session), "the forged sign-out ended nothing")

			resp, _ = b.post(area.path+"/signout", url.Values{"csrf": {b.csrf(area.path)}})
			require.Equal(t, http.StatusSeeOther, resp.StatusCode)
			assert.Equal(t, area.path, resp.Header.Get("Location"))
			for _, c := range jar.Cookies(mustURL(t, site+area.path)) {
				assert.NotEqual(t, area.cookie, c.Name, "the cookie is cleared")
			}
			assert.False(t, signedIn(session), "the old cookie opens nothing: the session is gone")
		})
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u
}
