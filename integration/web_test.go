package integration

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
)

// browserless is a cookie-keeping HTTP client, for the security checks
// that need no JavaScript.
type browserless struct {
	t      *testing.T
	s      *stack.Stack
	client *http.Client
}

func newBrowserless(t *testing.T, s *stack.Stack) *browserless {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browserless{t: t, s: s, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browserless) get(path string) (int, string) {
	resp, err := b.client.Get(b.s.API.URL + path)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (b *browserless) post(path string, form url.Values) (int, string) {
	resp, err := b.client.PostForm(b.s.API.URL+path, form)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	require.NotNil(t, m, "the page has a CSRF field")
	return m[1]
}

var magicLink = regexp.MustCompile(`https://licenses\.vendor\.example(/(?:portal|admin)/auth\?token=[A-Za-z0-9_-]+)`)

// signInLink asks for a magic link and reads it from the outbox, the way
// a customer reads it from their mailbox.
func signInLink(t *testing.T, s *stack.Stack, email string) string {
	t.Helper()
	var path string
	s.WaitFor("the sign-in email to "+email, 10*time.Second, func() bool {
		msgs, err := s.Store.ListEmails(ctx, models.EmailFilter{To: email, Template: "magic-link"})
		require.NoError(t, err)
		if len(msgs) == 0 {
			return false
		}
		m := magicLink.FindStringSubmatch(msgs[0].TextBody)
		require.NotNil(t, m, msgs[0].TextBody)
		path = m[1]
		return true
	})
	return path
}

// openSignInLink opens a sign-in link and presses its confirmation page's
// button, returning the status of that press.
func (b *browserless) openSignInLink(link string) int {
	b.t.Helper()
	u, err := url.Parse(link)
	require.NoError(b.t, err)
	status, page := b.get(link)
	require.Equal(b.t, http.StatusOK, status, "the link opens a confirmation page")
	status, _ = b.post(u.Path, url.Values{"csrf": {csrfOf(b.t, page)}, "token": {u.Query().Get("token")}})
	return status
}

// signInAs signs a cookie-keeping client in to the portal by magic link.
func (b *browserless) signInAs(email string) {
	_, page := b.get("/portal")
	status, _ := b.post("/portal/signin", url.Values{"csrf": {csrfOf(b.t, page)}, "email": {email}})
	require.Equal(b.t, http.StatusOK, status)
	require.Equal(b.t, http.StatusSeeOther, b.openSignInLink(signInLink(b.t, b.s, email)))
}

func TestPortalShowsCustomersOnlyTheirOwnRecords(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	mine := issue(t, s, `{"user_email":"mine@example.com","tier":"pos"}`)
	theirs := issue(t, s, `{"user_email":"theirs@example.com","tier":"suite"}`)
	invoices, err := s.Store.ListInvoices(ctx, theirs.ID)
	require.NoError(t, err)

	b := newBrowserless(t, s)
	b.signInAs("mine@example.com")
	status, page := b.get("/portal/licenses/" + mine.ID)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, mine.DLID, "the copy button carries the full key")

	status, page = b.get("/portal/licenses/" + theirs.ID)
	assert.Equal(t, http.StatusNotFound, status, "another customer's license does not exist for me")
	assert.NotContains(t, page, theirs.DLID)
	status, _ = b.get("/portal/invoices/" + invoices[0].Number + ".pdf")
	assert.Equal(t, http.StatusNotFound, status)
	status, _ = b.post("/portal/licenses/"+theirs.ID+"/deactivate", url.Values{"domain": {"x.com"}})
	assert.Equal(t, http.StatusNotFound, status)

	// A form posted without its CSRF token is refused and changes nothing.
	_, _, err = s.Store.Activate(ctx, mine.ID, "kept.example.com", time.Now())
	require.NoError(t, err)
	status, _ = b.post("/portal/licenses/"+mine.ID+"/deactivate", url.Values{"domain": {"kept.example.com"}})
	assert.Equal(t, http.StatusForbidden, status)
	status, _ = b.post("/portal/licenses/"+mine.ID+"/deactivate", url.Values{"domain": {"kept.example.com"}, "csrf": {"forged"}})
	assert.Equal(t, http.StatusForbidden, status)
	n, err := s.Store.CountActiveDomains(ctx, mine.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, _, err = s.Store.ActivateStaging(ctx, mine.ID, "staging.kept.example.com", time.Now())
	require.NoError(t, err)
	_, page = b.get("/portal/licenses/" + mine.ID)
	assert.Contains(t, page, `<p id="domain-use">1 of 3 domain slots in use; 1 of 3 staging copies.</p>`, "the customer sees both limits")

	// A magic link works once.
	fresh := newBrowserless(t, s)
	_, page = fresh.get("/portal")
	fresh.post("/portal/signin", url.Values{"csrf": {csrfOf(t, page)}, "email": {"theirs@example.com"}})
	link := signInLink(t, s, "theirs@example.com")
	assert.Equal(t, http.StatusSeeOther, fresh.openSignInLink(link))
	assert.Equal(t, http.StatusUnauthorized, newBrowserless(t, s).openSignInLink(link), "a used link signs nobody in")

	// Unknown addresses get the same answer and no email.
	_, page = fresh.get("/portal")
	status, _ = newBrowserless(t, s).post("/portal/signin", url.Values{"csrf": {csrfOf(t, page)}, "email": {"nobody@example.com"}})
	assert.Equal(t, http.StatusForbidden, status, "the CSRF cookie belongs to another browser")
	nb := newBrowserless(t, s)
	_, page = nb.get("/portal")
	status, page = nb.post("/portal/signin", url.Values{"csrf": {csrfOf(t, page)}, "email": {"nobody@example.com"}})
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "If that address has licenses with us")
	msgs, err := s.Store.ListEmails(ctx, models.EmailFilter{To: "nobody@example.com"})
	require.NoError(t, err)
	assert.Empty(t, msgs)
}

func TestAdminPagesRequireAnOperator(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	v := issue(t, s, crmOrder)
	b := newBrowserless(t, s)
	for _, path := range []string{"/admin", "/admin/customers?q=a", "/admin/licenses/" + v.ID, "/admin/outbox"} {
		status, page := b.get(path)
		assert.Equal(t, http.StatusUnauthorized, status, path)
		assert.Contains(t, page, "Operator sign-in")
	}
	status, _ := b.post("/admin/licenses/"+v.ID+"/action", url.Values{"action": {"revoke"}})
	assert.Equal(t, http.StatusUnauthorized, status)

	// A customer session is not an operator session.
	b.signInAs("customer@example.com")
	status, _ = b.get("/admin")
	assert.Equal(t, http.StatusUnauthorized, status)

	// Exchanging the admin API token for a session works; a wrong one does not.
	_, page := b.get("/admin")
	status, _ = b.post("/admin/token", url.Values{"csrf": {csrfOf(t, page)}, "token": {"lft_wrong"}})
	assert.Equal(t, http.StatusUnauthorized, status)
	status, _ = b.post("/admin/token", url.Values{"csrf": {csrfOf(t, page)}, "token": {s.Token}})
	assert.Equal(t, http.StatusSeeOther, status)
	status, page = b.get("/admin/licenses/" + v.ID)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "workflow-link")

	// The admin magic link only goes to configured operators.
	ops := newBrowserless(t, s)
	_, page = ops.get("/admin")
	ops.post("/admin/signin", url.Values{"csrf": {csrfOf(t, page)}, "email": {stack.OperatorEmail}})
	assert.Equal(t, http.StatusSeeOther, ops.openSignInLink(signInLink(t, s, stack.OperatorEmail)))
	status, page = ops.get("/admin")
	assert.Equal(t, http.StatusOK, status)
	assert.True(t, strings.Contains(page, "stat-new"))
}

// The portal's Renew while no payment provider is configured: the plan's
// description on the page, one pending renewal order the CRM can list, and
// the CRM asked by renewal.requested to collect it; the page says so.
func TestPortalRenewalWithoutStripeAsksTheCRMToCollect(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	crm := testsupport.StartWebhookReceiver(t)
	register(t, s, crm, false, models.EventRenewalRequested)
	r := s.Call(http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"renewer@example.com","tier":"pos"}`)
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
	var created struct {
		ID string `json:"id"`
	}
	r.JSON(t, &created)
	s.WaitIssued(created.ID)

	b := newBrowserless(t, s)
	b.signInAs("renewer@example.com")
	status, page := b.get("/portal/licenses/" + created.ID + "/renew")
	require.Equal(t, http.StatusOK, status, page)
	assert.Contains(t, page, "Sell over the counter", "the plan's description")
	status, page = b.post("/portal/licenses/"+created.ID+"/renew", url.Values{"csrf": {csrfOf(t, page)}})
	require.Equal(t, http.StatusOK, status, page)
	assert.Contains(t, page, "Renewal ordered")

	var pending struct {
		Data []struct {
			ID     string             `json:"id"`
			Kind   models.OrderKind   `json:"kind"`
			Status models.OrderStatus `json:"status"`
		} `json:"data"`
	}
	s.Call(http.MethodGet, "/api/v1/orders?status=pending&license_id="+created.ID, nil).JSON(t, &pending)
	require.Len(t, pending.Data, 1, "one pending renewal order")
	assert.Equal(t, models.OrderRenewal, pending.Data[0].Kind)
	assert.Contains(t, page, pending.Data[0].ID, "the page names the order")

	crm.WaitUntil("renewal.requested", time.Minute, received(models.EventRenewalRequested, ""))
	got := crm.Requests()
	require.Len(t, got, 1)
	assert.Equal(t, pending.Data[0].ID, got[0].Payload.Data.Order.ID)
	assert.Equal(t, created.ID, got[0].Payload.Data.License.ID)
}
