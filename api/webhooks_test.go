package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/models"
)

// Bad input to the endpoints API is a clear 4xx naming the field, and
// nothing is recorded.
func TestBadWebhookEndpointsAreRefusedAndNothingIsRecorded(t *testing.T) {
	a := newAPITest(t)
	cases := []struct {
		name, body string
		status     int
		code       string
		field      string
	}{
		{"no URL", `{"event_types":["*"]}`, http.StatusUnprocessableEntity, "missing_url", "url"},
		{"no event types", `{"url":"https://crm.example.com/hooks"}`, http.StatusUnprocessableEntity, "missing_event_types", "event_types"},
		{"an empty subscription", `{"url":"https://crm.example.com/hooks","event_types":[]}`, http.StatusUnprocessableEntity, "missing_event_types", "event_types"},
		{"an unknown event type", `{"url":"https://crm.example.com/hooks","event_types":["license.exploded"]}`, http.StatusUnprocessableEntity, "unknown_event_type", "event_types"},
		{"plain http", `{"url":"http://crm.example.com/hooks","event_types":["*"]}`, http.StatusUnprocessableEntity, "invalid_url", "url"},
		{"a private address", `{"url":"https://10.0.0.5/hooks","event_types":["*"]}`, http.StatusUnprocessableEntity, "invalid_url", "url"},
		{"cloud metadata", `{"url":"https://169.254.169.254/latest","event_types":["*"]}`, http.StatusUnprocessableEntity, "invalid_url", "url"},
		{"localhost", `{"url":"https://localhost:9000/hooks","event_types":["*"]}`, http.StatusUnprocessableEntity, "invalid_url", "url"},
		{"not a URL", `{"url":"crm","event_types":["*"]}`, http.StatusUnprocessableEntity, "invalid_url", "url"},
		{"credentials in the URL", `{"url":"https://u:p@crm.example.com/","event_types":["*"]}`, http.StatusUnprocessableEntity, "invalid_url", "url"},
		{"a long description", `{"url":"https://crm.example.com/hooks","event_types":["*"],"description":"` + strings.Repeat("x", 501) + `"}`, http.StatusUnprocessableEntity, "description_too_long", "description"},
		{"a typo", `{"url":"https://crm.example.com/hooks","event_type":["*"]}`, http.StatusBadRequest, "unknown_field", "event_type"},
		{"a wrong type", `{"url":"https://crm.example.com/hooks","event_types":"*"}`, http.StatusBadRequest, "invalid_type", "event_types"},
		{"not JSON", `{"url":`, http.StatusBadRequest, "invalid_json", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := a.call(adminToken, http.MethodPost, "/api/v1/webhook-endpoints", c.body)
			require.Equal(t, c.status, w.Code, w.Body.String())
			e := errorOf(t, w)
			assert.Equal(t, c.code, e.Code)
			assert.Equal(t, c.field, e.Field)
			assert.NotEmpty(t, e.Message)
		})
	}
	endpoints, err := a.store.ListWebhookEndpoints(context.Background())
	require.NoError(t, err)
	assert.Empty(t, endpoints, "nothing was recorded")

	w := a.call(readToken, http.MethodPost, "/api/v1/webhook-endpoints", `{"url":"https://crm.example.com/hooks","event_types":["*"]}`)
	assert.Equal(t, http.StatusForbidden, w.Code, "admin only")
	w = a.call(readToken, http.MethodGet, "/api/v1/webhook-endpoints", "")
	assert.Equal(t, http.StatusForbidden, w.Code, "admin only, reading too")
}

// The secret is shown at creation and at rotation, never again; updates
// change only what they name; unknown endpoints and deliveries are 404s.
func TestWebhookEndpointsAreManagedAndTheirSecretIsShownOnce(t *testing.T) {
	a := newAPITest(t)
	w := a.call(adminToken, http.MethodPost, "/api/v1/webhook-endpoints",
		`{"url":"https://crm.example.com/hooks","event_types":["license.issued","LICENSE.REVOKED"," license.issued "],"description":" CRM "}`)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	var created api.WebhookSecretShown
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &created))
	assert.Regexp(t, `^whsec_[A-Za-z0-9_-]{43}$`, created.Secret)
	e := created.Endpoint
	assert.Equal(t, []string{"license.issued", "license.revoked"}, e.EventTypes, "normalized")
	assert.Equal(t, "CRM", e.Description)
	assert.True(t, e.Enabled)
	assert.False(t, e.IncludeDLID, "the full key is opt-in")
	assert.Equal(t, "/api/v1/webhook-endpoints/"+e.ID, w.Header().Get("Location"))

	stored, err := a.store.GetWebhookEndpoint(context.Background(), e.ID)
	require.NoError(t, err)

	// A retry with the same Idempotency-Key creates nothing and cannot replay the secret.
	req := `{"url":"https://crm.example.com/other","event_types":["*"]}`
	first := a.callWith(adminToken, http.MethodPost, "/api/v1/webhook-endpoints", req, "Idempotency-Key", "hook-key-1")
	require.Equal(t, http.StatusCreated, first.Code, first.Body.String())
	again := a.callWith(adminToken, http.MethodPost, "/api/v1/webhook-endpoints", req, "Idempotency-Key", "hook-key-1")
	require.Equal(t, http.StatusConflict, again.Code, again.Body.String())
	assert.Equal(t, models.SecretShownOnceCode, errorOf(t, again).Code)
	assert.NotContains(t, again.Body.String(), "whsec_")
	var idem []models.IdempotencyRecord
	require.NoError(t, a.store.DB().Find(&idem).Error)
	for _, r := range idem {
		assert.NotContains(t, r.ResponseBody, "whsec_", "no stored answer holds a secret")
	}

	for _, path := range []string{"/api/v1/webhook-endpoints", "/api/v1/webhook-endpoints/" + e.ID} {
		w = a.call(adminToken, http.MethodGet, path, "")
		require.Equal(t, http.StatusOK, w.Code)
		assert.NotContains(t, w.Body.String(), created.Secret, "%s never shows the secret", path)
		assert.NotContains(t, w.Body.String(), "secret")
	}
	w = a.call(adminToken, http.MethodPatch, "/api/v1/webhook-endpoints/"+e.ID, `{"include_dlid":true,"enabled":false}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var updated api.WebhookEndpointView
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &updated))
	assert.True(t, updated.IncludeDLID)
	assert.False(t, updated.Enabled)
	assert.Equal(t, e.URL, updated.URL, "fields not named stay")
	assert.Equal(t, e.EventTypes, updated.EventTypes)

	w = a.call(adminToken, http.MethodPatch, "/api/v1/webhook-endpoints/"+e.ID, `{"include_dlid":false,"url":"http://crm.example.com"}`)
	assert.Equal(t, http.StatusUnprocessableEntity, w.Code)
	after, err := a.store.GetWebhookEndpoint(context.Background(), e.ID)
	require.NoError(t, err)
	assert.True(t, after.IncludeDLID, "a refused update changes nothing")

	w = a.call(adminToken, http.MethodPost, "/api/v1/webhook-endpoints/"+e.ID+"/rotate-secret", "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var rotated api.WebhookSecretShown
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &rotated))
	assert.NotEqual(t, created.Secret, rotated.Secret)
	require.NotNil(t, rotated.PreviousSecretValidUntil, "the old secret keeps signing for a while")
	after, err = a.store.GetWebhookEndpoint(context.Background(), e.ID)
	require.NoError(t, err)
	assert.Equal(t, stored.Secret, after.PreviousSecret)

	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/webhook-endpoints/we_missing"},
		{http.MethodGet, "/api/v1/webhook-endpoints/we_missing/deliveries"},
		{http.MethodGet, "/api/v1/webhook-endpoints/" + e.ID + "/deliveries/999"},
		{http.MethodPost, "/api/v1/webhook-endpoints/" + e.ID + "/deliveries/abc/redeliver"},
		{http.MethodPost, "/api/v1/webhook-endpoints/" + e.ID + "/deliveries/999/redeliver"},
	} {
		w = a.call(adminToken, c.method, c.path, "")
		assert.Equal(t, http.StatusNotFound, w.Code, "%s %s: %s", c.method, c.path, w.Body.String())
	}
	for query, field := range map[string]string{"status=lost": "status", "event_type=nope": "event_type", "limit=0": "limit", "before=x": "before"} {
		w = a.call(adminToken, http.MethodGet, "/api/v1/webhook-endpoints/"+e.ID+"/deliveries?"+query, "")
		require.Equal(t, http.StatusUnprocessableEntity, w.Code, query)
		assert.Equal(t, field, errorOf(t, w).Field)
	}

	w = a.call(adminToken, http.MethodDelete, "/api/v1/webhook-endpoints/"+e.ID, "")
	assert.Equal(t, http.StatusNoContent, w.Code)
	w = a.call(adminToken, http.MethodDelete, "/api/v1/webhook-endpoints/"+e.ID, "")
	assert.Equal(t, http.StatusNotFound, w.Code)
	assert.Equal(t, "webhook_endpoint_not_found", errorOf(t, w).Code)
}

// A pending delivery cannot be queued twice.
func TestRedeliveringAPendingDeliveryIsAConflict(t *testing.T) {
	a := newAPITest(t)
	ctx := context.Background()
	e, err := a.store.CreateWebhookEndpoint(ctx, models.WebhookEndpoint{URL: "https://crm.example.com/hooks",
		EventTypes: models.StringList{"*"}, Enabled: true, Secret: "plain:whsec_x"})
	require.NoError(t, err)
	a.purchased("crm-redeliver")
	pending, err := a.store.PendingWebhookDeliveries(ctx, e.ID, nil, 10)
	require.NoError(t, err)
	require.Len(t, pending, 1, "the purchase's order.paid")
	w := a.call(adminToken, http.MethodPost, "/api/v1/webhook-endpoints/"+e.ID+"/deliveries/"+strconv.FormatUint(pending[0].ID, 10)+"/redeliver", "")
	require.Equal(t, http.StatusConflict, w.Code, w.Body.String())
	assert.Equal(t, "delivery_pending", errorOf(t, w).Code)
}
