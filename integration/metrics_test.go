package integration

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/siteapi"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
)

func TestPrometheusScrapesWhatLicenseflowDid(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	v := issue(t, s, `{"user_email":"metrics@example.com","tier":"pos","max_domains":1}`)
	siteCall(t, s, "validate", siteapi.SiteRequest{DLID: v.DLID})
	siteCall(t, s, "activate", siteapi.SiteRequest{DLID: v.DLID, Domain: "localhost"})
	siteCall(t, s, "validate", siteapi.SiteRequest{DLID: "00000000000000000000000000000000"})
	s.CallAs("", http.MethodPost, "/api/v1/webhooks/stripe", `{}`) // not configured: no outcome to count

	r := s.CallAs("", http.MethodGet, "/metrics", nil)
	require.Equal(t, http.StatusOK, r.Status)
	body := string(r.Body)
	for _, line := range []string{
		`licenseflow_validations_total{code="VALID"} 1`,
		`licenseflow_validations_total{code="NOT_FOUND"} 1`,
		`licenseflow_activations_total{result="ACTIVATED",staging="true"} 1`,
		`licenseflow_licenses{status="active"} 1`,
		`licenseflow_emails_total{status="held",template="delivery"} 1`,
		`licenseflow_http_requests_total{code="202",method="POST",route="/api/v1/licensing/licenses"} 1`,
		`licenseflow_http_requests_total{code="200",method="GET",route="/api/v1/licensing/licenses/:id"}`,
		`licenseflow_http_request_duration_seconds_bucket{method="POST",route="/api/v1/licenses/validate",le="+Inf"} 2`,
	} {
		assert.Contains(t, body, line)
	}
}
