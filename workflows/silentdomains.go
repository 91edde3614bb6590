package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/licenseflow/licenseflow/activities"
)

// SilentDomainsInput says how long a domain may stay silent.
type SilentDomainsInput struct {
	Silence time.Duration
}

// SilentDomainsResult counts the domains released.
type SilentDomainsResult struct {
	Released int
}

// ReleaseSilentDomainsWorkflow frees the slots of domains that sent no
// heartbeat or validation within the silence window. The daily schedule
// (SilentDomainsSchedule) starts it.
func ReleaseSilentDomainsWorkflow(ctx workflow.Context, in SilentDomainsInput) (SilentDomainsResult, error) {
	// One statement over every activation: it may take minutes on a large
	// installation, and is retried as our own database step.
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 5 * time.Minute, RetryPolicy: ownRetry()})
	var got activities.SilentDomainsResult
	err := workflow.ExecuteActivity(actx, a.ReleaseSilentDomains, activities.SilentDomainsInput{Silence: in.Silence}).Get(ctx, &got)
	return SilentDomainsResult{Released: got.Released}, err
}
