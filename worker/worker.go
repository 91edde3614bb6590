// Package worker builds the Temporal worker that runs licenseflow's
// workflows and activities, and prepares a namespace for them.
package worker

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/licenseflow/licenseflow/activities"
	"github.com/licenseflow/licenseflow/workflows"
)

// Options tune the worker; zero values take the SDK defaults.
type Options struct {
	MaxConcurrentActivities int
	MaxConcurrentWorkflows  int
	// DrainTimeout is how long Stop waits for activities under way (an
	// SMTP conversation, a webhook delivery) to finish after polling
	// stopped, before it cancels them.
	DrainTimeout time.Duration
}

// DefaultWorkflowCache is how many workflows a worker process keeps in
// memory between their tasks (the SDK's own default is 10,000). A license's
// workflow held there costs about 100–200 KB; one not held replays its
// short history (a run stays under ~65 events) when its next task comes.
const DefaultWorkflowCache = 2000

// SetWorkflowCache bounds how many workflows this process keeps in memory
// between their tasks (the SDK's sticky cache, one per process); it must be
// called before the first worker starts.
func SetWorkflowCache(n int) {
	if n > 0 {
		sdkworker.SetStickyWorkflowCacheSize(n)
	}
}

// New returns a worker on licenseflow's task queue with every workflow and
// activity registered. The caller starts and stops it.
func New(c client.Client, acts *activities.Activities, opts Options) sdkworker.Worker {
	w := sdkworker.New(c, workflows.TaskQueue, sdkworker.Options{
		MaxConcurrentActivityExecutionSize:     opts.MaxConcurrentActivities,
		MaxConcurrentWorkflowTaskExecutionSize: opts.MaxConcurrentWorkflows,
		WorkerStopTimeout:                      opts.DrainTimeout,
	})
	Register(w, acts)
	return w
}

// Register adds licenseflow's workflows and activities to a worker.
func Register(r sdkworker.Registry, acts *activities.Activities) {
	RegisterWorkflows(r)
	r.RegisterActivity(acts)
}

// RegisterWorkflows adds licenseflow's workflows to a registry, such as a
// replayer checking recorded histories.
func RegisterWorkflows(r interface{ RegisterWorkflow(any) }) {
	r.RegisterWorkflow(workflows.LicenseWorkflow)
	r.RegisterWorkflow(workflows.ReleaseNotificationWorkflow)
	r.RegisterWorkflow(workflows.ReleaseSilentDomainsWorkflow)
	r.RegisterWorkflow(workflows.SignInEmailWorkflow)
	r.RegisterWorkflow(workflows.WebhookDispatchWorkflow)
}

// EnsureSilentDomainsSchedule creates (or updates) the daily schedule that
// releases domains silent for longer than silence.
func EnsureSilentDomainsSchedule(ctx context.Context, c client.Client, silence time.Duration) error {
	return ensureSchedule(ctx, c, workflows.SilentDomainsSchedule, 24*time.Hour, &client.ScheduleWorkflowAction{
		ID: "release-silent-domains", Workflow: workflows.ReleaseSilentDomainsWorkflow, TaskQueue: workflows.TaskQueue,
		Args: []any{workflows.SilentDomainsInput{Silence: silence}},
	}, "Releases domains of licenses that sent no heartbeat or validation for a while.")
}

// retiredSchedules are schedules earlier versions of licenseflow created.
// licenseflow-webhook-sweep started a workflow every minute (1,440 runs a
// day in the list operators search) to wake webhook dispatchers; the
// worker's overdue check (app.WatchOverdueWebhooks) does that now with a
// query, starting nothing while nothing is overdue.
var retiredSchedules = []string{"licenseflow-webhook-sweep"}

// DeleteRetiredSchedules deletes the schedules earlier versions created,
// on installations that ran them; those already gone are skipped.
func DeleteRetiredSchedules(ctx context.Context, c client.Client) error {
	for _, id := range retiredSchedules {
		err := c.ScheduleClient().GetHandle(ctx, id).Delete(ctx)
		var gone *serviceerror.NotFound
		if err != nil && !errors.As(err, &gone) {
			return fmt.Errorf("delete the retired schedule %s: %w", id, err)
		}
	}
	return nil
}

// ensureSchedule creates a schedule, or refreshes the action and interval
// of one that exists (keeping its history).
func ensureSchedule(ctx context.Context, c client.Client, id string, every time.Duration, action *client.ScheduleWorkflowAction, note string) error {
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: every}}}
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: id, Spec: spec, Action: action, Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, Note: note,
	})
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return err
	}
	return c.ScheduleClient().GetHandle(ctx, id).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			in.Description.Schedule.Action = action
			in.Description.Schedule.Spec = &spec
			return &client.ScheduleUpdate{Schedule: &in.Description.Schedule}, nil
		},
	})
}

// EnsureSearchAttributes adds licenseflow's custom search attributes to a
// namespace, leaving those already present alone. It runs on every start,
// so upgrading licenseflow registers attributes added since.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	existing, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes of namespace %s: %w", namespace, err)
	}
	missing := workflows.SearchAttributes()
	for name, typ := range missing {
		have, ok := existing.GetCustomAttributes()[name]
		if !ok {
			continue
		}
		if have != typ {
			return fmt.Errorf("search attribute %s exists in namespace %s as %s, licenseflow needs %s", name, namespace, have, typ)
		}
		delete(missing, name)
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: missing,
	})
	if err != nil {
		names := make([]string, 0, len(missing))
		for n := range missing {
			names = append(names, n)
		}
		sort.Strings(names)
		return fmt.Errorf("add search attributes %v to namespace %s: %w", names, namespace, err)
	}
	return nil
}
