package integration

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payloadcodec"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
	"github.com/licenseflow/licenseflow/worker"
	"github.com/licenseflow/licenseflow/workflows"
)

// RecordHistoriesEnv=1 makes TestHistoriesReplayDeterministically write the
// histories it produces to workflows/testdata/histories, where the
// workflows package's replay test keeps checking every later change of the
// workflow code against them (beside the histories recorded before).
const RecordHistoriesEnv = "LICENSEFLOW_RECORD_HISTORIES"

// TestHistoriesReplayDeterministically drives licenses through every kind of
// event a workflow sees on a real server — updates, signals (renewal,
// payment failed), deadline timers that fire, a continue-as-new, a workflow
// closed by retention and resumed by a renewal — plus the release
// notification, silent-domain and webhook dispatch workflows, then replays
// each run's history.
func TestHistoriesReplayDeterministically(t *testing.T) {
	// Short windows so the expiry, the end of grace and the end of retention
	// pass within the test.
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{Policy: workflows.Policy{GracePeriod: time.Second, Retention: time.Second}})
	crm := testsupport.StartWebhookReceiver(t) // its dispatcher's history is recorded too
	endpoint := register(t, s, crm, false, models.AllWebhookEvents)
	var created api.LicenseView
	s.Call(http.MethodPost, "/api/v1/licensing/licenses", crmOrder).JSON(t, &created)
	s.WaitIssued(created.ID)
	path := "/api/v1/licensing/licenses/" + created.ID
	call := func(method, path, body string) {
		t.Helper()
		r := s.Call(method, path, body)
		require.Equal(t, http.StatusOK, r.Status, "%s %s: %s", method, path, r.Body)
	}
	// moveExpiryAndWaitFor corrects the expiry to fire the deadline `step`
	// in a moment, and waits for its email.
	moveExpiryAndWaitFor := func(step string, before time.Duration) {
		t.Helper()
		to := time.Now().Add(before + 2*time.Second).UTC().Format(time.RFC3339)
		call(http.MethodPatch, path, `{"expires_at":"`+to+`"}`)
		s.WaitFor(step+" email", 20*time.Second, func() bool { return emailCount(t, s, created.ID, step) == 1 })
	}

	call(http.MethodPost, path+"/suspend", `{"reason":"payment review"}`)
	call(http.MethodPost, path+"/reinstate", ``)
	call(http.MethodPatch, path, `{"tier":"suite","max_domains":8}`)
	h, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: created.WorkflowID, UpdateName: models.AddEntitlementRequest{}.MessageName(),
		Args: []any{models.AddEntitlementRequest{Product: "restaurant", RequestID: "replay-addon"}}, WaitForStage: client.WorkflowUpdateStageCompleted})
	require.NoError(t, err)
	require.NoError(t, h.Get(ctx, nil))
	require.NoError(t, s.Temporal.SignalWorkflow(ctx, created.WorkflowID, "", models.PaymentFailedRequest{}.MessageName(),
		models.PaymentFailedRequest{EventID: "evt_replay_failed", AmountDue: "49.00 EUR"}))
	s.WaitFor("the dunning email", 10*time.Second, func() bool { return emailCount(t, s, created.ID, "payment-failed") == 1 })
	moveExpiryAndWaitFor(workflows.StepReminder30, 30*24*time.Hour)
	moveExpiryAndWaitFor(workflows.StepReminder7, 7*24*time.Hour)
	// A renewal by signal, as payment webhooks send it: the run continues as new.
	require.NoError(t, s.Temporal.SignalWorkflow(ctx, created.WorkflowID, "", string(models.ActionRenew),
		models.RenewRequest{Months: 1, PaymentRef: "pay_replay_1"}))
	s.WaitFor("the renewal", 10*time.Second, func() bool { return emailCount(t, s, created.ID, "renewed") == 1 })
	// In the next run: expiry, grace and retention pass, and the workflow closes.
	moveExpiryAndWaitFor(workflows.StepExpired, 0)
	waitClosed(t, s, created.WorkflowID)
	// A renewal resumes the closed license (a new run, loaded from the database).
	call(http.MethodPost, path+"/renew", `{"months":12,"order_id":"replay-renewal"}`)
	// The renewal ends the resumed run (continue-as-new, once its emails are
	// out); the revocation goes to the run after it.
	s.WaitFor("the resumed run continues as new", 20*time.Second, func() bool {
		resp, err := s.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: fmt.Sprintf("WorkflowId = %q", created.WorkflowID)})
		return err == nil && len(resp.GetExecutions()) == 4
	})
	call(http.MethodPatch, path, `{"status":"revoked","reason":"end of scenario"}`)
	waitClosed(t, s, created.WorkflowID)

	// A trial (the trial rules' side of the "trials" fork): its ending
	// notice, then paid for by a CRM renewal, which converts it and
	// continues as new, then a bought add-on.
	var trial api.LicenseView
	s.Call(http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"replay-trial@example.com","tier":"suite","type":"trial"}`).JSON(t, &trial)
	s.WaitIssued(trial.ID)
	trialPath := "/api/v1/licensing/licenses/" + trial.ID
	endsSoon := time.Now().Add(models.TrialEndingNotice + 2*time.Second).UTC().Format(time.RFC3339)
	call(http.MethodPatch, trialPath, `{"expires_at":"`+endsSoon+`"}`)
	s.WaitFor("the trial-ending email", 20*time.Second, func() bool { return emailCount(t, s, trial.ID, workflows.StepTrialEnding) == 1 })
	call(http.MethodPost, trialPath+"/renew", `{"months":12,"order_id":"replay-trial-paid"}`)
	s.WaitFor("the paid trial continues as new", 20*time.Second, func() bool {
		resp, err := s.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: fmt.Sprintf("WorkflowId = %q", trial.WorkflowID)})
		return err == nil && len(resp.GetExecutions()) == 2
	})
	// The paid license buys an add-on through a CRM order: granted and
	// invoiced in the run after the conversion; then it is taken back.
	require.Equal(t, http.StatusCreated, s.Call(http.MethodPost, "/api/v1/products",
		`{"code":"replay-extra","repo":"ReplayExtra","name":"Replay Extra","platform":"joomla","addon_price_cents":1900,"addon_currency":"EUR"}`).Status)
	require.Equal(t, http.StatusCreated, s.Call(http.MethodPost, "/api/v1/orders",
		`{"id":"replay-addon-order","kind":"addon","license_id":"`+trial.ID+`","product":"replay-extra"}`).Status)
	call(http.MethodPost, "/api/v1/orders/replay-addon-order/paid", `{"payment_ref":"pay_replay_addon"}`)
	// Refunded: the add-on is taken back.
	removal, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: trial.WorkflowID, UpdateName: models.RemoveEntitlementRequest{}.MessageName(),
		Args: []any{models.RemoveEntitlementRequest{Product: "replay-extra", Reason: "refunded", RequestID: "replay-remove"}}, WaitForStage: client.WorkflowUpdateStageCompleted})
	require.NoError(t, err)
	require.NoError(t, removal.Get(ctx, nil))
	call(http.MethodPatch, trialPath, `{"status":"revoked","reason":"end of scenario"}`)
	waitClosed(t, s, trial.WorkflowID)

	// A release announcement (to another license's holder) and a
	// silent-domain sweep.
	issue(t, s, `{"user_email":"replay-release@example.com","tier":"pos"}`)
	require.Equal(t, http.StatusCreated, publish(t, s, "pos", "9.0.0", "stable", []byte("replay")).Status)
	var sent workflows.ReleaseResult
	require.NoError(t, s.Temporal.GetWorkflow(ctx, workflows.ReleaseWorkflowID("pos", "9.0.0"), "").Get(ctx, &sent))
	sweep, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "replay-silent-domains", TaskQueue: workflows.TaskQueue},
		workflows.ReleaseSilentDomainsWorkflow, workflows.SilentDomainsInput{Silence: time.Hour})
	require.NoError(t, err)
	require.NoError(t, sweep.Get(ctx, nil))
	settled(t, s, endpoint.ID)

	recorded := map[string][]*historypb.History{
		"license-lifecycle":    allRunHistories(t, s.Temporal, created.WorkflowID),
		"trial-lifecycle":      allRunHistories(t, s.Temporal, trial.WorkflowID),
		"release-notification": {runHistory(t, s.Temporal, workflows.ReleaseWorkflowID("pos", "9.0.0"), "")},
		"silent-domains":       {runHistory(t, s.Temporal, "replay-silent-domains", "")},
		"webhook-dispatch":     {runHistory(t, s.Temporal, workflows.WebhookDispatcherID(endpoint.ID), "")},
	}
	// The purchase's run, the run after the signalled renewal (closed by
	// retention), the run resumed by the API renewal, the run after it.
	require.Len(t, recorded["license-lifecycle"], 4)
	require.Len(t, recorded["trial-lifecycle"], 2, "the trial's run and the run after it was paid for")
	// The histories hold encrypted payloads: the replayer reads them as the
	// worker does, with the stack's keys.
	replayer, err := sdkworker.NewWorkflowReplayerWithOptions(sdkworker.WorkflowReplayerOptions{
		DataConverter: payloadcodec.DataConverter(s.Keys), FailureConverter: payloadcodec.FailureConverter(s.Keys)})
	require.NoError(t, err)
	worker.RegisterWorkflows(replayer)
	for name, runs := range recorded {
		for i, h := range runs {
			t.Logf("%s run %d: %d events, last %s", name, i+1, len(h.Events), h.Events[len(h.Events)-1].GetEventType())
			require.NoError(t, replayer.ReplayWorkflowHistory(nil, h), "%s run %d", name, i+1)
		}
	}
	if os.Getenv(RecordHistoriesEnv) == "1" {
		dir := filepath.Join("..", "workflows", "testdata", "histories")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		stamp := time.Now().UTC().Format("2006-01-02")
		for name, runs := range recorded {
			for i, h := range runs {
				// Recorded in clear: the replay test opens them without the
				// stack's throwaway keys (the codec passes clear payloads).
				require.NoError(t, proxy.VisitPayloads(ctx, h, proxy.VisitPayloadsOptions{SkipSearchAttributes: true,
					Visitor: func(_ *proxy.VisitPayloadsContext, p []*commonpb.Payload) ([]*commonpb.Payload, error) {
						return payloadcodec.New(s.Keys).Decode(p)
					}}))
				raw, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(h)
				require.NoError(t, err)
				file := filepath.Join(dir, fmt.Sprintf("%s-%s-run%d.json", stamp, name, i+1))
				require.NoError(t, os.WriteFile(file, raw, 0o644))
				t.Logf("recorded %s (%d events)", file, len(h.Events))
			}
		}
	}
}

func emailCount(t *testing.T, s *stack.Stack, licenseID, template string) int {
	t.Helper()
	msgs, err := s.Store.ListEmails(ctx, models.EmailFilter{LicenseID: licenseID, Template: template})
	require.NoError(t, err)
	return len(msgs)
}

func waitClosed(t *testing.T, s *stack.Stack, workflowID string) {
	t.Helper()
	s.WaitFor(workflowID+" to close", 20*time.Second, func() bool {
		d, err := s.Temporal.DescribeWorkflowExecution(ctx, workflowID, "")
		require.NoError(t, err)
		return d.WorkflowExecutionInfo.Status == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
	})
}

// allRunHistories returns the history of every run of a workflow id, oldest
// first: runs chained by continue-as-new and runs started anew after the
// previous one closed.
func allRunHistories(t *testing.T, c client.Client, workflowID string) []*historypb.History {
	t.Helper()
	d, err := c.DescribeWorkflowExecution(ctx, workflowID, "")
	require.NoError(t, err)
	latest := d.WorkflowExecutionInfo.GetExecution().GetRunId()
	var execs []*workflowpb.WorkflowExecutionInfo
	// Visibility is written asynchronously: wait until it lists the latest run.
	deadline := time.Now().Add(10 * time.Second)
	for !slices.ContainsFunc(execs, func(e *workflowpb.WorkflowExecutionInfo) bool { return e.GetExecution().GetRunId() == latest }) {
		require.True(t, time.Now().Before(deadline), "visibility does not list run %s of %s", latest, workflowID)
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: fmt.Sprintf("WorkflowId = %q", workflowID)})
		require.NoError(t, err)
		execs = resp.GetExecutions()
	}
	sort.Slice(execs, func(i, j int) bool { return execs[i].GetStartTime().AsTime().Before(execs[j].GetStartTime().AsTime()) })
	out := make([]*historypb.History, len(execs))
	for i, e := range execs {
		out[i] = runHistory(t, c, workflowID, e.GetExecution().GetRunId())
	}
	return out
}

func runHistory(t *testing.T, c client.Client, workflowID, runID string) *historypb.History {
	t.Helper()
	h := &historypb.History{}
	it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, e)
	}
	return h
}
