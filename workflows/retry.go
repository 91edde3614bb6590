package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// How long a step waits before it tries again depends on whose failure it
// waits out.
//
// A step that only writes to licenseflow's own database waits out an
// outage of that database (or of Temporal), which an operator brings back
// within minutes: it tries every few seconds, without end, so it resumes
// within seconds of the return instead of sleeping through a backoff that
// grew during the outage.
//
// A step that talks to someone else (an SMTP server, a customer's webhook
// endpoint) may wait out an outage of hours: it backs off to minutes. A
// failure of our own database inside such a step is marked by the activity
// (activities.RetrySoon) and retried within seconds all the same.
const (
	// ownRetryMax is the longest wait between attempts of a step that
	// depends only on licenseflow's own database and Temporal.
	ownRetryMax = 5 * time.Second
	// ownStepTimeout bounds one attempt of such a step: long enough for a
	// slow write, short enough that an attempt lost with a Temporal
	// restart is tried again within seconds.
	ownStepTimeout = 10 * time.Second
	// ownStepGiveUp ends the attempts of a local activity: in practice
	// never. Without it a local activity's attempts would end with its
	// first attempt's timeout (the SDK's default), and a database outage
	// longer than ownStepTimeout would fail the license's workflow.
	ownStepGiveUp = 365 * 24 * time.Hour
	// emailTimeout bounds one attempt at sending an email (an SMTP
	// conversation, a PDF attached); emailHeartbeat is how soon an attempt
	// that stopped reporting (lost with a worker or a Temporal restart) is
	// tried again.
	emailTimeout   = time.Minute
	emailHeartbeat = 20 * time.Second
	// thirdPartyRetryMax is the longest wait between attempts of a step
	// that talks to a third party.
	thirdPartyRetryMax = 10 * time.Minute
)

// ownRetry retries a step of licenseflow's own database: 1 s, 2 s, 4 s,
// then every 5 s, without end.
func ownRetry() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: ownRetryMax}
}

// thirdPartyRetry retries a step that talks to someone else, starting
// after first and backing off to thirdPartyRetryMax.
func thirdPartyRetry(first time.Duration) *temporal.RetryPolicy {
	return &temporal.RetryPolicy{InitialInterval: first, BackoffCoefficient: 2, MaximumInterval: thirdPartyRetryMax}
}

// withEmail sends an email as an activity task of its own: SMTP may be
// down for hours.
func withEmail(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: emailTimeout,
		HeartbeatTimeout:    emailHeartbeat,
		Summary:             summary,
		RetryPolicy:         thirdPartyRetry(5 * time.Second),
	})
}

// withLocalActivity runs a short write to our own database in the
// workflow task.
func withLocalActivity(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout:    ownStepTimeout,
		ScheduleToCloseTimeout: ownStepGiveUp,
		RetryPolicy:            ownRetry(),
	})
}

// withActivity runs a step of our own database as an activity task.
func withActivity(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: ownStepTimeout,
		Summary:             summary,
		RetryPolicy:         ownRetry(),
	})
}
