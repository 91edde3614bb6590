package integration

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
	"github.com/licenseflow/licenseflow/workflows"
)

// A license whose workflow closed after its retention period is renewed on
// the same DLID: the API resumes the workflow from the database.
func TestRenewalAfterTheWorkflowClosedResumesIt(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{
		Policy: workflows.Policy{GracePeriod: time.Second, Retention: time.Second},
	})
	var created api.LicenseView
	s.Call(http.MethodPost, "/api/v1/licensing/licenses", crmOrder).JSON(t, &created)
	issued := s.WaitIssued(created.ID)

	soon := time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339)
	r := s.Call(http.MethodPatch, "/api/v1/licensing/licenses/"+created.ID, `{"expires_at":"`+soon+`"}`)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	s.WaitFor("the workflow to close after retention", 20*time.Second, func() bool {
		d, err := s.Temporal.DescribeWorkflowExecution(ctx, created.WorkflowID, "")
		require.NoError(t, err)
		return d.WorkflowExecutionInfo.Status == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
	})
	assert.Equal(t, models.StatusExpired, s.License(created.ID).Status)

	before := models.Instant(time.Now())
	r = s.Call(http.MethodPatch, "/api/v1/licensing/licenses/"+created.ID, `{"expires_months":12}`)
	after := time.Now()
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var renewed api.LicenseView
	r.JSON(t, &renewed)
	assert.Equal(t, issued.DLID, renewed.DLID)
	assert.Equal(t, models.StatusActive, renewed.Status)
	// It had expired: renewed from the moment the renewal was handled, which
	// lies between the request and its answer; a renewal from the old
	// expiry (seconds earlier) lands before that window.
	require.NotNil(t, renewed.ExpiresAt)
	expires := renewed.ExpiresAt.UTC()
	assert.False(t, expires.Before(models.AddMonths(before, 12)), "renewed from now, not from the old expiry: %s before %s", expires, models.AddMonths(before, 12))
	assert.False(t, expires.After(models.AddMonths(after, 12)), "renewed by 12 months: %s after %s", expires, models.AddMonths(after, 12))
	d, err := s.Temporal.DescribeWorkflowExecution(ctx, created.WorkflowID, "")
	require.NoError(t, err)
	assert.Contains(t, []enumspb.WorkflowExecutionStatus{
		enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW,
	}, d.WorkflowExecutionInfo.Status)
}
