package integration

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
)

// TestTemporalHistoryHoldsOnlyCiphertext reads every history of the
// namespace as someone with read access to Temporal does (no codec) after a
// purchase and a renewal: no payload holds the customer's address or the
// key. Search attributes are left out: they are indexed in clear on purpose
// (README, Security).
func TestTemporalHistoryHoldsOnlyCiphertext(t *testing.T) {
	store := testsupport.SQLite(t)
	s := stack.Start(t, store, stack.Options{})
	const email = "inspected-customer@example.com"
	var created api.LicenseView
	r := s.Call(http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"`+email+`","tier":"pos","max_domains":5,"expires_months":12}`)
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
	r.JSON(t, &created)
	issued := s.WaitIssued(created.ID)
	r = s.Call(http.MethodPatch, "/api/v1/licensing/licenses/"+created.ID, `{"expires_months":12,"order_id":"inspect-renewal-1"}`)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	s.WaitFor("renewal email", 10*time.Second, func() bool {
		renewed, _ := store.ListEmails(ctx, models.EmailFilter{LicenseID: created.ID, Template: "renewed"})
		return len(renewed) == 1
	})

	secrets := [][]byte{[]byte(email), []byte(issued.DLID)}
	svc := s.Temporal.WorkflowService()
	ns := s.Server.GetDefaultNamespace()
	list, err := svc.ListWorkflowExecutions(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: ns, PageSize: 1000})
	require.NoError(t, err)
	require.NotEmpty(t, list.Executions)
	events, encrypted := 0, 0
	for _, ex := range list.Executions {
		var token []byte
		for {
			h, err := svc.GetWorkflowExecutionHistory(ctx, &workflowservice.GetWorkflowExecutionHistoryRequest{
				Namespace: ns, Execution: ex.Execution, NextPageToken: token})
			require.NoError(t, err)
			for _, e := range h.History.Events {
				events++
				raw, err := proto.Marshal(withoutSearchAttributes(e))
				require.NoError(t, err)
				for _, secret := range secrets {
					assert.False(t, bytes.Contains(raw, secret), "%s event %d (%s) holds %q in clear",
						ex.Execution.WorkflowId, e.EventId, e.EventType, secret)
				}
				encrypted += bytes.Count(raw, []byte("binary/encrypted"))
			}
			if token = h.NextPageToken; len(token) == 0 {
				break
			}
		}
	}
	t.Logf("%d workflows, %d events, %d encrypted payloads", len(list.Executions), events, encrypted)
	assert.Positive(t, encrypted)
}

// withoutSearchAttributes is a copy of e without its search attributes.
func withoutSearchAttributes(e *historypb.HistoryEvent) *historypb.HistoryEvent {
	e = proto.Clone(e).(*historypb.HistoryEvent)
	if a := e.GetWorkflowExecutionStartedEventAttributes(); a != nil {
		a.SearchAttributes = nil
	}
	if a := e.GetUpsertWorkflowSearchAttributesEventAttributes(); a != nil {
		a.SearchAttributes = nil
	}
	if a := e.GetStartChildWorkflowExecutionInitiatedEventAttributes(); a != nil {
		a.SearchAttributes = nil
	}
	if a := e.GetWorkflowExecutionContinuedAsNewEventAttributes(); a != nil {
		a.SearchAttributes = nil
	}
	return e
}
