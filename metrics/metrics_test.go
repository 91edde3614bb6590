package metrics_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/metrics"
	"github.com/licenseflow/licenseflow/models"
)

// scrape reads the exposition as Prometheus would.
func scrape(t *testing.T, h http.Handler, token string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	return rec.Code, string(body)
}

func TestRequestsAreCountedByRouteTemplateNotPath(t *testing.T) {
	gin.SetMode(gin.TestMode)
	m := metrics.New()
	r := httpx.NewRouter(httpx.Options{Requests: m})
	r.GET("/api/v1/things/:id", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	for _, path := range []string{"/api/v1/things/42", "/api/v1/things/43", "/no/such/thing"} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	_, body := scrape(t, m.Handler(""), "")
	assert.Contains(t, body, `licenseflow_http_requests_total{code="204",method="GET",route="/api/v1/things/:id"} 2`)
	assert.Contains(t, body, `licenseflow_http_requests_total{code="404",method="GET",route="unmatched"} 1`)
	assert.Contains(t, body, `licenseflow_http_request_duration_seconds_count{method="GET",route="/api/v1/things/:id"} 2`)
	assert.NotContains(t, body, "things/42")
}

func TestDomainEventsAreCountedByOutcome(t *testing.T) {
	m := metrics.New()
	m.Validation(models.CodeValid)
	m.Validation(models.CodeValid)
	m.Validation("SOMETHING_NEW")
	m.Activation("ACTIVATED", true)
	m.WebhookIn("stripe", "processed")
	m.WebhookOut("delivered")
	m.Email("delivery", models.EmailSent)
	_, body := scrape(t, m.Handler(""), "")
	for _, line := range []string{
		`licenseflow_validations_total{code="VALID"} 2`,
		`licenseflow_validations_total{code="SOMETHING_NEW"} 1`,
		`licenseflow_validations_total{code="NOT_FOUND"} 0`,
		`licenseflow_activations_total{result="ACTIVATED",staging="true"} 1`,
		`licenseflow_webhooks_received_total{outcome="processed",source="stripe"} 1`,
		`licenseflow_webhooks_delivered_total{outcome="delivered"} 1`,
		`licenseflow_emails_total{status="sent",template="delivery"} 1`,
		`go_goroutines `,
	} {
		assert.Contains(t, body, line)
	}
}

func TestNilMetricsCountNothing(t *testing.T) {
	var m *metrics.Metrics
	assert.NotPanics(t, func() {
		m.Validation(models.CodeValid)
		m.Activation("ACTIVATED", false)
		m.WebhookIn("stripe", "failed")
		m.WebhookOut("failed")
		m.Email("delivery", models.EmailHeld)
		m.ObserveRequest("/x", "GET", 200, time.Millisecond)
		m.WatchLicenses(nil)
		m.TemporalHandler().WithTags(map[string]string{"a": "b"}).Counter("c").Inc(1)
	})
}

func TestLicensesByStatusAreReadAtScrapeTimeAndReused(t *testing.T) {
	m := metrics.New()
	reads := 0
	m.WatchLicenses(func(context.Context) (map[models.LicenseStatus]int, error) {
		reads++
		return map[models.LicenseStatus]int{models.StatusActive: 3, models.StatusExpired: 1}, nil
	})
	_, body := scrape(t, m.Handler(""), "")
	assert.Contains(t, body, `licenseflow_licenses{status="active"} 3`)
	assert.Contains(t, body, `licenseflow_licenses{status="expired"} 1`)
	assert.Contains(t, body, `licenseflow_licenses{status="revoked"} 0`, "every status is reported, so the series are stable")
	scrape(t, m.Handler(""), "")
	assert.Equal(t, 1, reads, "a second scrape within the interval reuses the reading")
}

func TestTemporalSDKMetricsKeepEachTagSetApart(t *testing.T) {
	m := metrics.New()
	h := m.TemporalHandler().WithTags(map[string]string{"namespace": "default", "client_name": "temporal_go"})
	// The SDK emits one name with different tag sets (here a poll and a task).
	h.WithTags(map[string]string{"poller_type": "workflow_task"}).Counter("temporal_request").Inc(2)
	h.WithTags(map[string]string{"operation": "RespondWorkflowTaskCompleted"}).Counter("temporal_request").Inc(1)
	h.WithTags(map[string]string{"operation": "RespondWorkflowTaskCompleted"}).Counter("temporal_request").Inc(1)
	h.Timer("temporal_workflow_task_execution_latency").Record(30 * time.Millisecond)
	h.Gauge("temporal_worker_task_slots_available").Update(7)
	_, body := scrape(t, m.Handler(""), "")
	assert.Contains(t, body, `temporal_request_total{client_name="temporal_go",namespace="default",poller_type="workflow_task"} 2`)
	assert.Contains(t, body, `temporal_request_total{client_name="temporal_go",namespace="default",operation="RespondWorkflowTaskCompleted"} 2`)
	assert.Contains(t, body, `temporal_workflow_task_execution_latency_seconds_count{client_name="temporal_go",namespace="default"} 1`)
	assert.Contains(t, body, `temporal_worker_task_slots_available{client_name="temporal_go",namespace="default"} 7`)
}

func TestTheMetricsTokenIsRequiredWhenSet(t *testing.T) {
	m := metrics.New()
	code, _ := scrape(t, m.Handler("s3cret-scrape-token"), "")
	assert.Equal(t, http.StatusUnauthorized, code)
	code, _ = scrape(t, m.Handler("s3cret-scrape-token"), "wrong")
	assert.Equal(t, http.StatusUnauthorized, code)
	code, body := scrape(t, m.Handler("s3cret-scrape-token"), "s3cret-scrape-token")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "licenseflow_validations_total")
}
