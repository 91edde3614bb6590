package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/licenseflow/licenseflow/activities"
	"github.com/licenseflow/licenseflow/models"
)

// SignInRequest is one magic link to email; Key makes it one outbox message.
type SignInRequest struct {
	Key   string
	To    string
	Link  string
	Admin bool
}

// SignInEmailWorkflow emails a magic link. It exists so the link goes out
// through the worker, which holds the SMTP settings and the outbox retry
// logic every other email uses.
func SignInEmailWorkflow(ctx workflow.Context, in SignInRequest) (SignInResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: emailTimeout,
		HeartbeatTimeout:    emailHeartbeat,
		// A sign-in link is only useful while it lives: sending stops then.
		ScheduleToCloseTimeout: models.MagicLinkTTL,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
	return SignInResult{}, workflow.ExecuteActivity(ctx, a.SendSignInEmail, activities.SignInInput(in)).Get(ctx, nil)
}

// SignInResult is empty: the link was emailed, or the workflow failed.
type SignInResult struct{}
