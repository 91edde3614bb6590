package integration

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
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
// another worker: an activity it had started is retried when its
// StartToClose timeout (counted from its start) expires, plus the retry
// interval; a workflow task it held is rescheduled when the workflow task
// timeout expires, or, scheduled on its sticky queue and not yet taken,
// after the sticky schedule-to-start timeout. The bound comes from the
// server's own view of the workflow, not a guess: a slow machine waits as
// long as Temporal makes it wait and not a second longer.
func lostWorkHandover(t *testing.T, s *stack.Stack, workflowID string) time.Duration {
	t.Helper()
	desc, err := s.Temporal.DescribeWorkflowExecution(ctx, workflowID, "")
	require.NoError(t, err)
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
		retry := pa.GetActivityOptions().GetRetryPolicy().GetInitialInterval().AsDuration()
		later(pa.GetLastStartedTime().AsTime().Add(pa.GetActivityOptions().GetStartToCloseTimeout().AsDuration() + retry))
	}
	for _, pa := range desc.GetPendingActivities() {
		if next := pa.GetNextAttemptScheduleTime(); next != nil {
			later(next.AsTime())
		}
	}
	if wt := desc.GetPendingWorkflowTask(); wt != nil {
		timeout := desc.GetExecutionConfig().GetDefaultWorkflowTaskTimeout().AsDuration()
		if started := wt.GetStartedTime(); started != nil {
			later(started.AsTime().Add(timeout))
		} else {
			later(wt.GetScheduledTime().AsTime().Add(stickyScheduleToStart))
		}
	}
	t.Logf("the stopped worker's work is handed over within %s (%d pending activities, workflow task pending: %v)",
		latest.Sub(now).Round(time.Millisecond), len(desc.GetPendingActivities()), desc.GetPendingWorkflowTask() != nil)
	return latest.Sub(now)
}

// stickyScheduleToStart is the SDK's default sticky schedule-to-start
// timeout: a workflow task on a stopped worker's sticky queue moves to the
// normal queue after it.
const stickyScheduleToStart = 5 * time.Second
