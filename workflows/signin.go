package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/licenseflow/licenseflow/activities"
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
		StartToCloseTimeout: time.Minute,
		// A sign-in link is only useful for 15 minutes.
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: 10},
	})
	return SignInResult{}, workflow.ExecuteActivity(ctx, a.SendSignInEmail, activities.SignInInput(in)).Get(ctx, nil)
}

// SignInResult is empty: the link was emailed, or the workflow failed.
type SignInResult struct{}
