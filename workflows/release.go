package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/licenseflow/licenseflow/activities"
)

// ReleaseInput announces a release to every active license entitled to it.
// Cursor and Sent carry progress across continue-as-new.
type ReleaseInput struct {
	Product string
	Repo    string
	Version string
	// Channel is the release's update channel: only licenses on it are
	// told. Runs started before it existed have none and tell every
	// entitled license, as they did.
	Channel   string `json:",omitempty"`
	PerMinute int
	Cursor    string
	Sent      int
}

// ReleaseResult counts the emails sent.
type ReleaseResult struct {
	Sent int
}

const (
	releaseBatch         = 50
	releaseBatchesPerRun = 10
)

// ReleaseNotificationWorkflow emails each entitled license holder once
// (the outbox key is per release and license, so a retry or a resumed run
// never sends twice), a batch at a time, no faster than PerMinute; paging
// by license id makes it resumable after any crash.
func ReleaseNotificationWorkflow(ctx workflow.Context, in ReleaseInput) (ReleaseResult, error) {
	if in.PerMinute <= 0 {
		in.PerMinute = 120
	}
	actx := withEmail(ctx, "new-release email")
	for batch := 0; batch < releaseBatchesPerRun; batch++ {
		var page activities.NotifiableResult
		err := workflow.ExecuteActivity(withActivity(ctx, "entitled licenses"), a.NotifiableLicenses, activities.NotifiableInput{
			Repo: in.Repo, Channel: in.Channel, After: in.Cursor, Limit: releaseBatch,
		}).Get(ctx, &page)
		if err != nil {
			return ReleaseResult{Sent: in.Sent}, err
		}
		ids := page.LicenseIDs
		futures := make([]workflow.Future, len(ids))
		for i, id := range ids {
			futures[i] = workflow.ExecuteActivity(actx, a.SendLicenseEmail, activities.EmailInput{
				Key: ReleaseWorkflowID(in.Product, in.Version) + "/" + id, LicenseID: id, Template: activities.TemplateNewRelease,
				ReleaseProduct: in.Product, ReleaseVersion: in.Version,
			})
		}
		for i, f := range futures {
			if err := f.Get(ctx, nil); err != nil {
				workflow.GetLogger(ctx).Warn("New-release email not delivered", "license", ids[i], "error", err)
			}
		}
		in.Sent += len(ids)
		if len(ids) < releaseBatch {
			return ReleaseResult{Sent: in.Sent}, nil
		}
		in.Cursor = ids[len(ids)-1]
		pause := time.Duration(len(ids)) * time.Minute / time.Duration(in.PerMinute)
		if err := workflow.NewTimerWithOptions(ctx, pause, workflow.TimerOptions{
			Summary: fmt.Sprintf("throttle: %d sent", in.Sent),
		}).Get(ctx, nil); err != nil {
			return ReleaseResult{Sent: in.Sent}, err
		}
	}
	return ReleaseResult{}, workflow.NewContinueAsNewError(ctx, ReleaseNotificationWorkflow, in)
}
