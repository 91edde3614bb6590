package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/lifecycle/lifecyclefake"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/testsupport"
)

// An operator's reason becomes a ledger note and a workflow's suspend
// reason: one line of at most 500 characters, refused on the page with
// its reason otherwise; a form holding control characters or invalid
// UTF-8 anywhere is refused before any handler reads it.
func TestFormsRefuseTextTheyCannotKeep(t *testing.T) {
	st := testsupport.SQLite(t)
	ctx := context.Background()
	tier, err := st.GetTier(ctx, "pos")
	require.NoError(t, err)
	_, l, _, err := st.RecordPurchase(ctx, models.Purchase{OrderID: "web-2", Email: "buyer@example.com", Tier: tier,
		MaxDomains: 2, Months: 12, Type: models.TypeCommercial, PaidAt: time.Now()})
	require.NoError(t, err)
	flows := &lifecyclefake.Fake{}
	b := signedInOperator(t, st, flows)
	csrf, post := b.csrf, b.post

	action := "/admin/licenses/" + l.ID + "/action"
	resp, _ := post(action, url.Values{"csrf": {csrf("/admin/licenses/" + l.ID)}, "action": {"suspend"}, "reason": {strings.Repeat("r", 501)}})
	assert.Equal(t, "Not done: reason must be at most 500 characters (it has 501)", b.notice(resp))

	resp, page := post(action, url.Values{"csrf": {csrf("/admin/licenses/" + l.ID)}, "action": {"suspend"}, "reason": {"fraud\r\nBcc: x@example.com"}})
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, page)
	resp, page = post("/portal/signin", url.Values{"csrf": {csrf("/portal")}, "email": {"buyer@example.com\x00"}})
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, page)
	assert.Contains(t, resp.Header.Get("Content-Type"), "text/html")

	assert.Empty(t, flows.Updates(), "nothing reached the workflow")
	assert.Empty(t, flows.SignIns(), "no sign-in email")
}

// ?notice= put any text on a trusted page: a phisher's link made the
// dashboard say "Your session expired, call +1 555…". Notices now come only
// from the form the operator just sent, once.
func TestALinkCannotPutTextOnATrustedPage(t *testing.T) {
	st := testsupport.SQLite(t)
	b := signedInOperator(t, st, &lifecyclefake.Fake{})
	for _, path := range []string{"/admin", "/admin/webhooks", "/admin/outbox"} {
		status, page := b.get(path + "?notice=" + url.QueryEscape("Session expired, call support at once"))
		require.Equal(t, http.StatusOK, status, path)
		assert.NotContains(t, page, "call support at once", path)
	}
}
