package integration

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
	"github.com/licenseflow/licenseflow/worker"
)

// RecordHistoriesEnv=1 makes TestHistoriesReplayDeterministically write the
// histories it produces to workflows/testdata/histories, where the
// workflows package's replay test keeps checking every later change of the
// workflow code against them.
const RecordHistoriesEnv = "LICENSEFLOW_RECORD_HISTORIES"

// TestHistoriesReplayDeterministically drives a license through every kind
// of message on a real server, then replays each run's history.
func TestHistoriesReplayDeterministically(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	var created api.LicenseView
	s.Call(http.MethodPost, "/api/v1/licensing/licenses", crmOrder).JSON(t, &created)
	s.WaitIssued(created.ID)
	path := "/api/v1/licensing/licenses/" + created.ID
	for _, step := range []struct{ method, path, body string }{
		{http.MethodPost, path + "/suspend", `{"reason":"payment review"}`},
		{http.MethodPost, path + "/reinstate", ``},
		{http.MethodPatch, path, `{"tier":"suite","max_domains":8}`},
		{http.MethodPost, path + "/renew", `{"months":12,"order_id":"replay-renewal"}`},
		{http.MethodPatch, path, `{"status":"revoked","reason":"end of scenario"}`},
	} {
		r := s.Call(step.method, step.path, step.body)
		require.Equal(t, http.StatusOK, r.Status, "%s %s: %s", step.method, step.path, r.Body)
	}
	s.WaitFor("the revoked license's workflow to close", 10*time.Second, func() bool {
		d, err := s.Temporal.DescribeWorkflowExecution(ctx, created.WorkflowID, "")
		require.NoError(t, err)
		return d.WorkflowExecutionInfo.Status == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
	})
	histories := runHistories(t, s.Temporal, created.WorkflowID)
	for i, h := range histories {
		t.Logf("run %d: %d events, first %s last %s", i, len(h.Events), h.Events[0].GetEventType(), h.Events[len(h.Events)-1].GetEventType())
	}
	require.Len(t, histories, 2, "the renewal continued as new")

	replayer := sdkworker.NewWorkflowReplayer()
	worker.RegisterWorkflows(replayer)
	for i, h := range histories {
		require.NoError(t, replayer.ReplayWorkflowHistory(nil, h), "run %d", i)
	}
	if os.Getenv(RecordHistoriesEnv) == "1" {
		dir := filepath.Join("..", "workflows", "testdata", "histories")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for i, h := range histories {
			raw, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(h)
			require.NoError(t, err)
			name := filepath.Join(dir, "license-lifecycle-run"+string(rune('1'+i))+".json")
			require.NoError(t, os.WriteFile(name, raw, 0o644))
			t.Logf("recorded %s (%d events)", name, len(h.Events))
		}
	}
}

// runHistories returns the history of every run of a workflow, oldest
// first, following continue-as-new links back from the latest run.
func runHistories(t *testing.T, c client.Client, workflowID string) []*historypb.History {
	t.Helper()
	var out []*historypb.History
	for runID := firstRun(t, c, workflowID); runID != ""; {
		h := &historypb.History{}
		it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		next := ""
		for it.HasNext() {
			e, err := it.Next()
			require.NoError(t, err)
			h.Events = append(h.Events, e)
			if a := e.GetWorkflowExecutionContinuedAsNewEventAttributes(); a != nil {
				next = a.GetNewExecutionRunId()
			}
		}
		out = append(out, h)
		runID = next
	}
	return out
}

func firstRun(t *testing.T, c client.Client, workflowID string) string {
	t.Helper()
	d, err := c.DescribeWorkflowExecution(ctx, workflowID, "")
	require.NoError(t, err)
	return d.WorkflowExecutionInfo.GetFirstRunId()
}
