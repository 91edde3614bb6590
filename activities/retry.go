package activities

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// RetrySoon is how soon a step that talks to a third party (SMTP, a
// webhook endpoint) tries again when licenseflow's own database failed it
// instead: that outage ends when the database is back, so the step must
// not sleep through the long backoff its retry policy reached for the
// third party.
const RetrySoon = 2 * time.Second

// ownCallTimeout bounds the database work of a step that also talks to a
// third party: a call that waits longer on an unreachable database (or for
// a connection of an exhausted pool) fails and is retried RetrySoon, rather
// than running into the step's own timeout, whose retries back off like
// the third party's.
const ownCallTimeout = 10 * time.Second

// ownCall bounds database work inside such a step.
func ownCall(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, ownCallTimeout)
}

// ownWaitLimit is how long a step that talks to a third party waits,
// within one attempt, for licenseflow's own database to answer again
// before it gives the attempt up (to be retried RetrySoon later). Waiting
// within the attempt keeps a database outage from piling up attempts: the
// step's backoff grows with its attempt count, so an attempt lost later (a
// missed heartbeat) would otherwise wait as long as the third party's
// backoff has grown. It stays well under the step's start-to-close timeout.
const ownWaitLimit = 40 * time.Second

// ownWork runs fn, the database work of such a step, each try bounded by
// ownCallTimeout, until it succeeds, fails for good (an error already
// classified), the attempt ends or ownWaitLimit has passed; a failure is
// returned marked by ownFailure.
func ownWork(ctx context.Context, fn func(ctx context.Context) error) error {
	giveUp := time.Now().Add(ownWaitLimit)
	for {
		dctx, cancel := ownCall(ctx)
		err := fn(dctx)
		cancel()
		var classified *temporal.ApplicationError
		if err == nil || errors.As(err, &classified) {
			return err
		}
		if time.Now().Add(RetrySoon).After(giveUp) {
			return ownFailure(err)
		}
		select {
		case <-ctx.Done():
			return ownFailure(err)
		case <-time.After(RetrySoon):
		}
	}
}

// ErrTypeOwnOutage marks a failure of licenseflow's own database inside a
// step that talks to a third party.
const ErrTypeOwnOutage = "OwnDatabaseUnavailable"

// ownFailure marks err, a failure of licenseflow's own database, for a
// retry within RetrySoon. An error already classified (a permanent
// problem, a delay of its own) is left as it is.
func ownFailure(err error) error {
	var classified *temporal.ApplicationError
	if err == nil || errors.As(err, &classified) {
		return err
	}
	return temporal.NewApplicationErrorWithOptions(err.Error(), ErrTypeOwnOutage,
		temporal.ApplicationErrorOptions{Cause: err, NextRetryDelay: RetrySoon})
}

// heartbeatEvery is how often a step that may take long (an SMTP
// conversation) tells Temporal it is alive. With a heartbeat timeout on
// the step, an attempt lost to a worker crash or a Temporal restart is
// tried again within that timeout rather than its whole start-to-close
// timeout. The SDK sends at most one heartbeat per 80% of the timeout.
const heartbeatEvery = 2 * time.Second

// keepAlive heartbeats the running activity until the returned stop is
// called; outside an activity (a local activity, a plain call) it does
// nothing.
func keepAlive(ctx context.Context) (stop func()) {
	if !activity.IsActivity(ctx) || activity.GetInfo(ctx).HeartbeatTimeout == 0 {
		return func() {}
	}
	done := make(chan struct{})
	go func() { // ends with stop or the attempt
		tick := time.NewTicker(heartbeatEvery)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done) }
}
