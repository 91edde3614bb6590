package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/lifecycle/lifecyclefake"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/testsupport"
)

var secretShown = regexp.MustCompile(`id="webhook-secret">(whsec_[A-Za-z0-9_-]+)<`)

// An operator adds an endpoint in the dashboard and sees its secret once,
// reads its delivery log and redelivers a delivery.
func TestOperatorsManageWebhooksInTheDashboard(t *testing.T) {
	st := testsupport.SQLite(t)
	ctx := context.Background()
	b := signedInOperator(t, st, &lifecyclefake.Fake{})
	send := func(method, path string, form url.Values) (int, string, string) {
		t.Helper()
		if method == http.MethodGet {
			status, page := b.get(path)
			return status, page, ""
		}
		resp, page := b.post(path, form)
		return resp.StatusCode, page, resp.Header.Get("Location")
	}
	var page string
	_, page, _ = send(http.MethodGet, "/admin/webhooks", nil)
	assert.Contains(t, page, "No endpoints yet.")
	csrf := b.csrf("/admin/webhooks")

	status, page, _ := send(http.MethodPost, "/admin/webhooks", url.Values{"csrf": {csrf}, "url": {"http://10.0.0.1/hooks"}, "event_types": {"*"}})
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, page, "private, loopback or reserved address", "a refused URL says why")

	status, page, _ = send(http.MethodPost, "/admin/webhooks", url.Values{"csrf": {csrf}, "url": {"https://crm.example.com/hooks"},
		"event_types": {"order.paid", "license.issued"}, "include_dlid": {"on"}, "description": {"Our CRM"}})
	require.Equal(t, http.StatusOK, status, page)
	m := secretShown.FindStringSubmatch(page)
	require.NotNil(t, m, "the new endpoint's secret is on the page")
	endpoints, err := st.ListWebhookEndpoints(ctx)
	require.NoError(t, err)
	require.Len(t, endpoints, 1)
	e := endpoints[0]
	assert.True(t, e.IncludeDLID)
	assert.Equal(t, models.StringList{"license.issued", "order.paid"}, e.EventTypes)

	_, page, _ = send(http.MethodGet, "/admin/webhooks/"+e.ID, nil)
	assert.NotContains(t, page, m[1], "the secret is not shown again")
	assert.Contains(t, page, "No deliveries")

	tier, err := st.GetTier(ctx, "pos")
	require.NoError(t, err)
	_, _, _, err = st.RecordPurchase(ctx, models.Purchase{OrderID: "web-wh-1", Email: "buyer@example.com", Tier: tier,
		MaxDomains: 2, Months: 12, Type: models.TypeCommercial, PaidAt: time.Now()})
	require.NoError(t, err)
	pending, err := st.PendingWebhookDeliveries(ctx, e.ID, nil, 10)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	d := pending[0]
	_, err = st.ClaimWebhookDelivery(ctx, d.ID, time.Now(), time.Minute)
	require.NoError(t, err)
	require.NoError(t, st.RecordWebhookAttempt(ctx, d.ID, models.DeliveryAttempt{At: time.Now(), StatusCode: 410,
		Response: "gone for good", Error: "HTTP 410: the receiver refused the event", Outcome: models.DeliveryFailed}))

	_, page, _ = send(http.MethodGet, "/admin/webhooks/"+e.ID+"?status=failed", nil)
	assert.Contains(t, page, "order.paid")
	assert.Contains(t, page, "HTTP 410")
	assert.Contains(t, page, "gone for good")
	csrf = csrfField.FindStringSubmatch(page)[1]
	redeliver := "/admin/webhooks/" + e.ID + "/deliveries/" + strconv.FormatUint(d.ID, 10) + "/redeliver"
	resp, _ := b.post(redeliver, url.Values{"csrf": {csrf}})
	assert.Contains(t, b.notice(resp), "Queued again")
	again, err := st.PendingWebhookDeliveries(ctx, e.ID, nil, 10)
	require.NoError(t, err)
	assert.Len(t, again, 1, "pending once more")
	resp, _ = b.post(redeliver, url.Values{"csrf": {csrf}})
	assert.Contains(t, b.notice(resp), "Not done: ", "a pending delivery is not queued twice")
	status, _, _ = send(http.MethodPost, redeliver, url.Values{"csrf": {"forged"}})
	assert.Equal(t, http.StatusForbidden, status, "forms need the CSRF token")

	status, page, _ = send(http.MethodPost, "/admin/webhooks/"+e.ID+"/action", url.Values{"csrf": {csrf}, "action": {"rotate"}})
	require.Equal(t, http.StatusOK, status)
	rotated := secretShown.FindStringSubmatch(page)
	require.NotNil(t, rotated, "a rotated secret is shown once too")
	assert.NotEqual(t, m[1], rotated[1])
	status, _, _ = send(http.MethodPost, "/admin/webhooks/"+e.ID+"/action", url.Values{"csrf": {csrf}, "action": {"disable"}})
	require.Equal(t, http.StatusSeeOther, status)
	disabled, err := st.GetWebhookEndpoint(ctx, e.ID)
	require.NoError(t, err)
	assert.False(t, disabled.Enabled)
	resp, _ = b.post("/admin/webhooks/"+e.ID+"/action", url.Values{"csrf": {csrf}, "action": {"delete"}})
	assert.Equal(t, "/admin/webhooks", resp.Header.Get("Location"))
	assert.Equal(t, "Endpoint deleted.", b.notice(resp))
	status, _, _ = send(http.MethodGet, "/admin/webhooks/"+e.ID, nil)
	assert.Equal(t, http.StatusNotFound, status)
}
