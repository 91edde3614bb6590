package integration

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
)

// messagesIn counts the updates and signals a workflow's history holds:
// a refused change must add none.
func messagesIn(t *testing.T, s *stack.Stack, workflowID string) int {
	t.Helper()
	n := 0
	it := s.Temporal.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			n++
		}
	}
	return n
}

// The end-to-end subset of the bad-input table (app/badinput_test.go has
// the whole table on the handlers): bad changes to a license with a real
// workflow, refused by the API or by the workflow's update validators,
// leave no trace in the workflow's history, the database or the outbox;
// a purchase the workflow could never carry starts no workflow.
func TestBadInputReachesNoWorkflow(t *testing.T) {
	st := testsupport.SQLite(t)
	s := stack.Start(t, st, stack.Options{})
	v := issue(t, s, crmOrder)
	messages := messagesIn(t, s, v.WorkflowID)
	before := testsupport.RowCounts(t, st)

	lic := "/api/v1/licensing/licenses/" + v.ID
	cases := []struct {
		method, path, body, code string
	}{
		// Refused by the API before the workflow is asked.
		{http.MethodPatch, lic, `{"status":"suspended","reason":"` + strings.Repeat("r", 501) + `"}`, "too_long"},
		{http.MethodPost, lic + "/suspend", `{"reason":"fraud\r\nBcc: all@example.com"}`, "invalid_text"},
		{http.MethodPost, lic + "/renew", `{"months":0}`, "invalid_expires_months"},
		{http.MethodPatch, lic, `{"tier":"gold"}`, "tier_not_found"},
		{http.MethodPatch, lic, `{"expires_at":"soon"}`, "invalid_expires_at"},
		{http.MethodPatch, lic, `{"expire_months":12}`, "unknown_field"},
		{http.MethodPatch, lic, "{\"reason\":\"\xff\"}", "invalid_encoding"},
		// Refused by the workflow's validators: nothing enters its history.
		{http.MethodPatch, lic, `{"status":"bogus"}`, ""},
		{http.MethodPatch, lic, `{"expires_at":"2001-01-01T00:00:00Z"}`, "expires_at_in_past"},
		{http.MethodPatch, lic, `{"max_domains":0}`, "invalid_max_domains"},
		{http.MethodPost, lic + "/reinstate", ``, "not_suspended"},
	}
	for _, c := range cases {
		r := s.Call(c.method, c.path, c.body)
		require.Less(t, r.Status, 500, "%s %s: %s", c.method, c.body, r.Body)
		require.GreaterOrEqual(t, r.Status, 400, "%s %s: %s", c.method, c.body, r.Body)
		e := r.Error(t)
		assert.NotEmpty(t, e.Code, c.body)
		if c.code != "" {
			assert.Equal(t, c.code, e.Code, "%s: %s", c.body, e.Message)
		}
	}

	email := strings.Repeat("a", 64) + "@" + strings.Repeat("abcdefghi.", 993) + "com"
	r := s.Call(http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"`+email+`","tier":"pos","order_id":"crm-huge"}`)
	assert.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
	assert.Equal(t, "invalid_email", r.Error(t).Code)
	_, err := s.Temporal.DescribeWorkflowExecution(ctx, models.LicenseWorkflowID(models.LicenseIDForOrder("crm-huge")), "")
	var notFound *serviceerror.NotFound
	assert.ErrorAs(t, err, &notFound, "no workflow was started")

	assert.Equal(t, messages, messagesIn(t, s, v.WorkflowID), "no update or signal entered the workflow's history")
	assert.Equal(t, before, testsupport.RowCounts(t, st), "no row in any table, no email in the outbox")
}

// A renewal or a correction to a date may move the expiry at most ten
// calendar years ahead; the license's workflow judges it when the change
// arrives (the API judges a purchase's date itself:
// api.TestAPurchasedExpiryDateMayLieAtMostTenYearsAhead).
func TestAnExpiryDateMayLieAtMostTenYearsAhead(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	v := issue(t, s, crmOrder)
	lic := "/api/v1/licensing/licenses/" + v.ID
	expiresIn := func(d time.Duration) (time.Time, string) {
		at := time.Now().AddDate(10, 0, 0).Add(d).UTC().Truncate(time.Second)
		return at, `{"expires_at":"` + at.Format(time.RFC3339) + `"}`
	}
	for _, c := range []struct {
		change, method, path string
		under                time.Duration
	}{
		{"renewal", http.MethodPost, lic + "/renew", -time.Hour},
		{"correction", http.MethodPatch, lic, -2 * time.Hour},
	} {
		_, over := expiresIn(time.Hour)
		r := s.Call(c.method, c.path, over)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s: %s", c.change, r.Body)
		e := r.Error(t)
		assert.Equal(t, "expires_at_too_far", e.Code, "%s: %s", c.change, e.Message)
		assert.Equal(t, "expires_at", e.Field, c.change)

		want, under := expiresIn(c.under)
		r = s.Call(c.method, c.path, under)
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", c.change, r.Body)
		var got api.LicenseView
		r.JSON(t, &got)
		require.NotNil(t, got.ExpiresAt, c.change)
		assert.True(t, want.Equal(*got.ExpiresAt), "%s: expires %s, want %s", c.change, got.ExpiresAt, want)
	}
}
