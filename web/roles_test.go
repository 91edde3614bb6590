package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
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
	"github.com/licenseflow/licenseflow/webhooks"
)

const (
	ownerEmail   = "owner@example.com"
	supportEmail = "help@example.com"
)

// rolesDashboard serves the dashboard on st with one owner and one support
// operator (or the lists given), as one start of licenseflow would.
func rolesDashboard(t *testing.T, st *store.Store, flows *lifecyclefake.Fake, owners, support []string) string {
	t.Helper()
	gin.SetMode(gin.TestMode)
	r := httpx.NewRouter(httpx.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Database: st})
	web.Mount(r, web.Deps{Store: st, Lifecycle: flows, PublicURL: "http://localhost", AdminEmails: owners, SupportEmails: support,
		ReleasesDir: t.TempDir(), WebhookSecrets: webhooks.NewSecretBox(testsupport.SecretKeys(t))})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv.URL
}

// browserOn is a browser with no cookies yet on the site at url.
func browserOn(t *testing.T, site string) *operatorBrowser {
	jar, _ := cookiejar.New(nil)
	return &operatorBrowser{t: t, url: site, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// upload posts the release form with a file, as a browser does.
func (b *operatorBrowser) upload(path string, fields url.Values, filename, content string) *http.Response {
	b.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			require.NoError(b.t, w.WriteField(k, v))
		}
	}
	f, err := w.CreateFormFile("file", filename)
	require.NoError(b.t, err)
	_, _ = f.Write([]byte(content))
	require.NoError(b.t, w.Close())
	resp, err := b.client.Post(b.url+path, w.FormDataContentType(), &body)
	require.NoError(b.t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestEachRoleReachesOnlyItsPagesAndActions: every dashboard page and
// form, for an owner, a support operator and a visitor who is not signed
// in. Support gets 403 on what only owners may do, posted directly with a
// valid CSRF token (no button needed), and nothing changes; a visitor gets
// the sign-in page.
func TestEachRoleReachesOnlyItsPagesAndActions(t *testing.T) {
	st := testsupport.SQLite(t)
	ctx := context.Background()
	tier, err := st.GetTier(ctx, "pos")
	require.NoError(t, err)
	_, l, _, err := st.RecordPurchase(ctx, models.Purchase{OrderID: "roles-1", Email: "buyer@example.com", Tier: tier,
		MaxDomains: 3, Months: 12, Type: models.TypeCommercial, PaidAt: time.Now(), Domains: []string{"shop.example.com"}})
	require.NoError(t, err)
	flows := &lifecyclefake.Fake{}
	site := rolesDashboard(t, st, flows, []string{ownerEmail}, []string{supportEmail})

	const (
		ok      = http.StatusOK
		done    = http.StatusSeeOther
		refused = http.StatusForbidden
	)
	type step struct {
		name            string
		method, path    string
		form            url.Values // posted with the session's CSRF token
		owner, support  int
		releaseUploaded bool
	}
	lic := "/admin/licenses/" + l.ID
	steps := []step{
		{name: "dashboard", method: "GET", path: "/admin", owner: ok, support: ok},
		{name: "customers", method: "GET", path: "/admin/customers?q=buyer", owner: ok, support: ok},
		{name: "customer", method: "GET", path: "/admin/customers/" + l.CustomerID, owner: ok, support: ok},
		{name: "license", method: "GET", path: lic, owner: ok, support: ok},
		{name: "outbox", method: "GET", path: "/admin/outbox", owner: ok, support: ok},
		{name: "catalog", method: "GET", path: "/admin/catalog", owner: ok, support: ok},
		{name: "new license form", method: "GET", path: "/admin/licenses/new", owner: ok, support: refused},
		{name: "tier editor", method: "GET", path: "/admin/catalog/tier?key=pos", owner: ok, support: refused},
		{name: "product editor", method: "GET", path: "/admin/catalog/product?code=pos", owner: ok, support: refused},
		{name: "release form", method: "GET", path: "/admin/catalog/products/pos/release", owner: ok, support: refused},
		{name: "webhooks", method: "GET", path: "/admin/webhooks", owner: ok, support: refused},
		{name: "suspend", method: "POST", path: lic + "/action", form: url.Values{"action": {"suspend"}}, owner: done, support: done},
		{name: "reinstate", method: "POST", path: lic + "/action", form: url.Values{"action": {"reinstate"}}, owner: done, support: done},
		{name: "set domains", method: "POST", path: lic + "/domains", form: url.Values{"action": {"set"}, "domains": {"shop.example.com, www.example.com"}}, owner: done, support: done},
		{name: "deactivate a domain", method: "POST", path: lic + "/domains", form: url.Values{"action": {"deactivate"}, "domain": {"www.example.com"}}, owner: done, support: done},
		{name: "revoke", method: "POST", path: lic + "/action", form: url.Values{"action": {"revoke"}, "reason": {"x"}}, owner: done, support: refused},
		{name: "extend", method: "POST", path: lic + "/action", form: url.Values{"action": {"extend"}, "months": {"12"}}, owner: done, support: refused},
		{name: "change tier", method: "POST", path: lic + "/action", form: url.Values{"action": {"change-tier"}, "tier": {"suite"}}, owner: done, support: refused},
		{name: "create license", method: "POST", path: "/admin/licenses", form: url.Values{"user_email": {"new@example.com"}, "tier": {"pos"}}, owner: done, support: refused},
		{name: "create tier", method: "POST", path: "/admin/catalog/tiers", form: url.Values{"key": {"gold"}, "name": {"Gold"}, "products": {"base"},
			"max_domains": {"1"}, "term": {"annual"}, "price": {"10"}, "currency": {"EUR"}, "channels": {"stable"}, "active": {"on"}}, owner: done, support: refused},
		{name: "retire tier", method: "POST", path: "/admin/catalog/tiers/crm/retire", form: url.Values{}, owner: done, support: refused},
		{name: "edit product", method: "POST", path: "/admin/catalog/products", form: url.Values{"existing": {"pos"}, "code": {"pos"}, "repo": {"MokoPOS"},
			"name": {"Renamed POS"}, "platform": {"joomla"}, "requires_key": {"on"}}, owner: done, support: refused},
		{name: "publish release", method: "POST", path: "/admin/catalog/products/pos/releases", form: url.Values{"version": {"9.0.0"}}, owner: done, support: refused, releaseUploaded: true},
		{name: "add webhook", method: "POST", path: "/admin/webhooks", form: url.Values{"url": {"https://crm.example.com/hook"}, "event_types": {"*"}}, owner: ok, support: refused},
	}

	browsers := map[string]*operatorBrowser{}
	for _, email := range []string{supportEmail, ownerEmail} { // support first: what it may not do must still be possible for the owner after
		b := browserOn(t, site)
		signInByLink(b, st, email)
		browsers[email] = b
	}
	visitor := browserOn(t, site)
	for _, who := range []string{supportEmail, ownerEmail} {
		b := browsers[who]
		for _, s := range steps {
			t.Run(who+"/"+s.name, func(t *testing.T) {
				want := s.owner
				if who == supportEmail {
					want = s.support
				}
				var status int
				var page string
				switch {
				case s.method == "GET":
					status, page = b.get(s.path)
				case s.releaseUploaded:
					form := url.Values{"csrf": {b.csrf("/admin")}}
					for k, v := range s.form {
						form[k] = v
					}
					status = b.upload(s.path, form, "pos-9.0.0.zip", "PK artifact").StatusCode
				default:
					form := url.Values{"csrf": {b.csrf("/admin")}}
					for k, v := range s.form {
						form[k] = v
					}
					var resp *http.Response
					resp, page = b.post(s.path, form)
					status = resp.StatusCode
				}
				require.Equal(t, want, status, page)
				if status == refused && page != "" {
					assert.Contains(t, page, "Only an owner of this dashboard may do this")
				}
			})
		}
	}
	for _, s := range steps {
		t.Run("visitor/"+s.name, func(t *testing.T) {
			var status int
			if s.method == "GET" {
				status, _ = visitor.get(s.path)
			} else if s.releaseUploaded {
				status = visitor.upload(s.path, s.form, "pos-9.0.1.zip", "PK").StatusCode
			} else {
				resp, _ := visitor.post(s.path, s.form)
				status = resp.StatusCode
			}
			assert.Equal(t, http.StatusUnauthorized, status, "a visitor gets the sign-in page")
		})
	}

	// What support was refused was done once, by the owner, and only then.
	var names []string
	for _, u := range flows.Updates() {
		var msg struct{ Actor string }
		raw, err := json.Marshal(u.Msg)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, &msg))
		names = append(names, u.Name+" by "+msg.Actor)
	}
	assert.Equal(t, []string{"suspend by admin:" + supportEmail, "reinstate by admin:" + supportEmail,
		"suspend by admin:" + ownerEmail, "reinstate by admin:" + ownerEmail,
		"revoke by admin:" + ownerEmail, "renew by admin:" + ownerEmail, "change-tier by admin:" + ownerEmail}, names)
	licenses, err := st.ListLicenses(ctx, models.LicenseFilter{Limit: 10})
	require.NoError(t, err)
	assert.Len(t, licenses.Licenses, 2, "one license sold by hand, by the owner")
	releases, err := st.ListReleases(ctx, "pos")
	require.NoError(t, err)
	assert.Len(t, releases, 1, "one release, the owner's")
	endpoints, err := st.ListWebhookEndpoints(ctx)
	require.NoError(t, err)
	assert.Len(t, endpoints, 1, "one webhook endpoint, the owner's")
}

// TestADemotedOwnerLosesOwnerRightsAtOnce: the same session, after its
// address moved from LICENSEFLOW_ADMIN_EMAILS to LICENSEFLOW_SUPPORT_EMAILS
// (a restart on the same database), is a support session on its next
// request: owner-only forms are refused and hidden, support work goes on.
func TestADemotedOwnerLosesOwnerRightsAtOnce(t *testing.T) {
	st := testsupport.SQLite(t)
	flows := &lifecyclefake.Fake{}
	before := rolesDashboard(t, st, flows, []string{ownerEmail}, nil)
	b := browserOn(t, before)
	signInByLink(b, st, ownerEmail)
	csrf := b.csrf("/admin")
	status, page := b.get("/admin/catalog")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, page, `id="new-tier"`)

	b.url = rolesDashboard(t, st, flows, nil, []string{ownerEmail}) // cookies are per host, not per port
	resp, page := b.post("/admin/catalog/tiers", url.Values{"csrf": {csrf}, "key": {"gold"}, "name": {"Gold"}, "products": {"base"},
		"max_domains": {"1"}, "term": {"annual"}, "currency": {"EUR"}, "channels": {"stable"}})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, page)
	_, err := st.GetTier(context.Background(), "gold")
	assert.ErrorIs(t, err, models.ErrNotFound, "the demoted operator created nothing")
	status, page = b.get("/admin/catalog")
	require.Equal(t, http.StatusOK, status, "still signed in, as support")
	assert.NotContains(t, page, `id="new-tier"`, "the editor's links are hidden")
	assert.Contains(t, page, `<span class="pill" id="operator-role">support</span>`)
}

// TestFormsWithoutTheSessionsCSRFTokenAreRefused: a form posted from
// another site (no token, or another session's) changes nothing, whatever
// the operator's role.
func TestFormsWithoutTheSessionsCSRFTokenAreRefused(t *testing.T) {
	st := testsupport.SQLite(t)
	ctx := context.Background()
	tier, err := st.GetTier(ctx, "pos")
	require.NoError(t, err)
	_, l, _, err := st.RecordPurchase(ctx, models.Purchase{OrderID: "csrf-1", Email: "buyer@example.com", Tier: tier,
		MaxDomains: 3, Months: 12, Type: models.TypeCommercial, PaidAt: time.Now(), Domains: []string{"shop.example.com"}})
	require.NoError(t, err)
	site := rolesDashboard(t, st, &lifecyclefake.Fake{}, []string{ownerEmail}, []string{supportEmail})
	owner, support := browserOn(t, site), browserOn(t, site)
	signInByLink(owner, st, ownerEmail)
	signInByLink(support, st, supportEmail)
	supportCSRF := support.csrf("/admin")
	for _, csrf := range []string{"", supportCSRF} {
		resp, _ := owner.post("/admin/licenses", url.Values{"csrf": {csrf}, "user_email": {"new@example.com"}, "tier": {"pos"}})
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		resp, _ = owner.post("/admin/licenses/"+l.ID+"/domains", url.Values{"csrf": {csrf}, "action": {"set"}, "domains": {"evil.example"}})
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		assert.Equal(t, http.StatusForbidden, owner.upload("/admin/catalog/products/pos/releases",
			url.Values{"csrf": {csrf}, "version": {"9.0.0"}}, "pos.zip", "PK").StatusCode)
	}
	resp, _ := support.post("/admin/licenses/"+l.ID+"/domains", url.Values{"action": {"deactivate"}, "domain": {"shop.example.com"}})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)

	licenses, err := st.ListLicenses(ctx, models.LicenseFilter{Limit: 10})
	require.NoError(t, err)
	assert.Len(t, licenses.Licenses, 1)
	n, err := st.CountActiveDomains(ctx, l.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "shop.example.com is still the one active domain")
	releases, err := st.ListReleases(ctx, "pos")
	require.NoError(t, err)
	assert.Empty(t, releases)
}

// TestATokenSignsInWithTheRoleItsScopesAmountTo: admin is an owner;
// licenses:read with licenses:support (or write) is support; a read-only
// or catalog token opens no dashboard.
func TestATokenSignsInWithTheRoleItsScopesAmountTo(t *testing.T) {
	st := testsupport.SQLite(t)
	site := rolesDashboard(t, st, &lifecyclefake.Fake{}, nil, nil)
	for _, c := range []struct {
		scopes []string
		role   string
	}{
		{[]string{"admin"}, "owner"},
		{[]string{"licenses:read", "licenses:support"}, "support"},
		{[]string{"licenses:read", "licenses:write"}, "support"},
		{[]string{"licenses:read"}, ""},
		{[]string{"catalog:write", "releases:write"}, ""},
	} {
		t.Run(strings.Join(c.scopes, "+"), func(t *testing.T) {
			secret := "lft_role-test-" + strings.Join(c.scopes, "-")
			_, err := st.EnsureToken(context.Background(), strings.Join(c.scopes, " "), secret, c.scopes)
			require.NoError(t, err)
			b := browserOn(t, site)
			resp, _ := b.post("/admin/token", url.Values{"csrf": {b.csrf("/admin")}, "token": {secret}})
			if c.role == "" {
				assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
				return
			}
			require.Equal(t, http.StatusSeeOther, resp.StatusCode)
			_, page := b.get("/admin")
			assert.Contains(t, page, `id="operator-role">`+c.role+`<`)
			status, _ := b.get("/admin/webhooks")
			assert.Equal(t, map[string]int{"owner": http.StatusOK, "support": http.StatusForbidden}[c.role], status)
		})
	}
}

// TestSupportSeesNoOwnerButtons: the license page shows support its own
// actions and hides the owner's (the handlers refuse them anyway).
func TestSupportSeesNoOwnerButtons(t *testing.T) {
	st := testsupport.SQLite(t)
	ctx := context.Background()
	tier, err := st.GetTier(ctx, "pos")
	require.NoError(t, err)
	_, l, _, err := st.RecordPurchase(ctx, models.Purchase{OrderID: "buttons-1", Email: "buyer@example.com", Tier: tier,
		MaxDomains: 3, Months: 12, Type: models.TypeCommercial, PaidAt: time.Now(), Domains: []string{"shop.example.com"}})
	require.NoError(t, err)
	site := rolesDashboard(t, st, &lifecyclefake.Fake{}, []string{ownerEmail}, []string{supportEmail})
	for email, want := range map[string]bool{ownerEmail: true, supportEmail: false} {
		b := browserOn(t, site)
		signInByLink(b, st, email)
		_, page := b.get("/admin/licenses/" + l.ID)
		assert.Contains(t, page, `value="suspend"`, email)
		assert.Contains(t, page, `id="set-domains-form"`, email)
		assert.Contains(t, page, `value="deactivate"`, email)
		for _, owners := range []string{`value="revoke"`, `id="extend-form"`, `value="change-tier"`, `href="/admin/licenses/new"`, `href="/admin/webhooks"`} {
			assert.Equal(t, want, strings.Contains(page, owners), "%s sees %s: %v", email, owners, want)
		}
	}
}

// TestOnlyTheReleaseFormTakesAMultipartBody: the form checks (one line of
// text, 64 KiB) read urlencoded bodies; a multipart body posted to any
// other form is refused before its handler reads it.
func TestOnlyTheReleaseFormTakesAMultipartBody(t *testing.T) {
	st := testsupport.SQLite(t)
	flows := &lifecyclefake.Fake{}
	site := rolesDashboard(t, st, flows, []string{ownerEmail}, nil)
	b := browserOn(t, site)
	signInByLink(b, st, ownerEmail)
	resp := b.upload("/admin/licenses/lic_x/action", url.Values{"csrf": {b.csrf("/admin")}, "action": {"suspend"}, "reason": {"a\x00b"}}, "x.zip", "PK")
	assert.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode)
	assert.Empty(t, flows.Updates())
}

// TestSupportCannotReadSignInLinksInTheOutbox: without SMTP the outbox is
// the mailbox, and an owner's sign-in email there holds a live link; a
// support operator who opened it would sign in as the owner.
func TestSupportCannotReadSignInLinksInTheOutbox(t *testing.T) {
	st := testsupport.SQLite(t)
	msg, err := st.EnqueueEmail(context.Background(), models.EmailMessage{IdempotencyKey: "signin/owner", To: ownerEmail,
		Template: models.SignInTemplate, Subject: "Sign in", TextBody: "https://licenses.example/admin/auth?token=secret-link"})
	require.NoError(t, err)
	site := rolesDashboard(t, st, &lifecyclefake.Fake{}, []string{ownerEmail}, []string{supportEmail})
	support, owner := browserOn(t, site), browserOn(t, site)
	signInByLink(support, st, supportEmail)
	signInByLink(owner, st, ownerEmail)
	path := "/admin/outbox/" + strconv.FormatUint(uint64(msg.ID), 10)
	status, page := support.get(path)
	assert.Equal(t, http.StatusForbidden, status)
	assert.NotContains(t, page, "secret-link")
	status, page = owner.get(path)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "secret-link")
}
