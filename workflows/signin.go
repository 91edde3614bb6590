package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/licenseflow/licenseflow/activities"
	"github.com/licenseflow/licenseflow/models"
)

// SignInRequest is one magic link to make and email; Key makes it one
// outbox message. It holds no link: the activity makes the link, so the
// history (and the archive) never holds one.
type SignInRequest struct {
	Key   string
	To    string
	Admin bool
	// Link is only set in sign-in workflows started by versions that made
	// the link on the request path; they still send it.
	Link string `json:",omitempty"`
}

// SignInEmailWorkflow makes and emails a magic link. It exists so the link goes out
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
