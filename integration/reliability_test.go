package integration

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
	"github.com/licenseflow/licenseflow/worker"
	"github.com/licenseflow/licenseflow/workflows"
)

// The worker dies right after minting the key; another one finishes the
// purchase: same DLID, one delivery email, one invoice.
func TestWorkerStoppedMidIssueLosesAndDuplicatesNothing(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	var created api.LicenseView
	r := s.Call(http.MethodPost, "/api/v1/licensing/licenses", crmOrder)
	require.Equal(t, http.StatusAccepted, r.Status)
	r.JSON(t, &created)

	var minted string
	s.WaitFor("the DLID to be minted", 10*time.Second, func() bool {
		l, err := s.Store.GetLicense(ctx, created.ID)
		require.NoError(t, err)
		minted = l.Key()
		return minted != ""
	})
	s.Worker.Stop() // nothing runs the license now
	handover := lostWorkHandover(t, s, created.WorkflowID)

	replacement := sdkworker.New(s.Temporal, workflows.TaskQueue, stack.WorkerOptions)
	worker.Register(replacement, s.Acts)
	require.NoError(t, replacement.Start())
	t.Cleanup(replacement.Stop)

	// What the stopped worker held comes back when Temporal's timeouts for
	// it expire; the rest of the purchase then takes its usual time.
	v := s.WaitIssuedWithin(created.ID, handover+stack.IssueTimeout)
	assert.Equal(t, minted, v.DLID, "the key minted before the stop is the key")
	for _, template := range []string{"delivery", "invoice"} {
		msgs, err := s.Store.ListEmails(ctx, models.EmailFilter{LicenseID: v.ID, Template: template})
		require.NoError(t, err)
		assert.Len(t, msgs, 1, template)
	}
	invoices, err := s.Store.ListInvoices(ctx, v.ID)
	require.NoError(t, err)
	assert.Len(t, invoices, 1)
}

// lostWorkHandover asks Temporal what a stopped worker was holding for a
// workflow and returns how long, from now, until all of it is handed to
// another worker: an activity it had started is retried when its heartbeat
// timeout (counted from its start or last heartbeat) or its StartToClose
// timeout expires, plus the retry interval; a workflow task it held is
// rescheduled when the workflow task timeout expires, or, scheduled on its
// sticky queue and not yet taken, after the sticky schedule-to-start
// timeout. The bound comes from the server's own view of the workflow, not
// a guess: a slow machine waits as long as Temporal makes it wait and not a
// second longer.
//
// A workflow task the stopped worker had started may still complete, and
// its completion may start activities eagerly on that same worker, where
// they wait out their timeouts. So the view is taken once no workflow task
// is running: the task completed (its activities are then in the view) or
// timed out (and is rescheduled).
func lostWorkHandover(t *testing.T, s *stack.Stack, workflowID string) time.Duration {
	t.Helper()
	desc := settledDescription(t, s, workflowID)
	now := time.Now()
	latest := now
	later := func(at time.Time) {
		if at.After(latest) {
			latest = at
		}
	}
	for _, pa := range desc.GetPendingActivities() {
		if pa.GetState() != enumspb.PENDING_ACTIVITY_STATE_STARTED {
			continue // scheduled or backing off: the replacement picks it up at once, or at NextAttemptScheduleTime
		}
		options := pa.GetActivityOptions()
		started := pa.GetLastStartedTime().AsTime()
		lost := started.Add(options.GetStartToCloseTimeout().AsDuration())
		if hb := options.GetHeartbeatTimeout().AsDuration(); hb > 0 {
			since := started
			if beat := pa.GetLastHeartbeatTime(); beat != nil && beat.AsTime().After(since) {
				since = beat.AsTime()
			}
			if at := since.Add(hb); at.Before(lost) {
				lost = at
			}
		}
		later(lost.Add(options.GetRetryPolicy().GetInitialInterval().AsDuration()))
	}
	for _, pa := range desc.GetPendingActivities() {
		if next := pa.GetNextAttemptScheduleTime(); next != nil {
			later(next.AsTime())
		}
	}
	if wt := desc.GetPendingWorkflowTask(); wt != nil {
		later(wt.GetScheduledTime().AsTime().Add(stickyScheduleToStart))
	}
	t.Logf("the stopped worker's work is handed over within %s (%d pending activities, workflow task pending: %v)",
		latest.Sub(now).Round(time.Millisecond), len(desc.GetPendingActivities()), desc.GetPendingWorkflowTask() != nil)
	return latest.Sub(now)
}

// settledDescription describes the workflow once no workflow task of it is
// running: at the latest when the running one's timeout has passed.
func settledDescription(t *testing.T, s *stack.Stack, workflowID string) *workflowservice.DescribeWorkflowExecutionResponse {
	t.Helper()
	for {
		desc, err := s.Temporal.DescribeWorkflowExecution(ctx, workflowID, "")
		require.NoError(t, err)
		wt := desc.GetPendingWorkflowTask()
		if wt == nil || wt.GetStartedTime() == nil {
			return desc
		}
		timeout := desc.GetExecutionConfig().GetDefaultWorkflowTaskTimeout().AsDuration()
		if time.Now().After(wt.GetStartedTime().AsTime().Add(timeout + time.Second)) {
			return desc // the server reschedules it any moment: a scheduled task by then
		}
		time.Sleep(100 * time.Millisecond) // polls Temporal's view, not a guess at a duration
	}
}

// stickyScheduleToStart is the SDK's default sticky schedule-to-start
// timeout: a workflow task on a stopped worker's sticky queue moves to the
// normal queue after it.
const stickyScheduleToStart = 5 * time.Second
