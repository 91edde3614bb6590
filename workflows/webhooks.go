package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/licenseflow/licenseflow/activities"
)

// WebhookPolicy shapes an endpoint's deliveries; zero fields take the
// defaults.
type WebhookPolicy struct {
	// RetryFor is how long a failing delivery is retried from its first
	// attempt before it is marked failed (default 3 days).
	RetryFor time.Duration
	// FirstRetry is the wait after the first failed attempt; each later
	// wait doubles, up to MaxRetry (defaults 30 s and 1 h).
	FirstRetry time.Duration
	MaxRetry   time.Duration
	// Timeout bounds one HTTP attempt (default 10 s).
	Timeout time.Duration
	// Lanes is how many licenses' deliveries are in flight at once
	// (default 16); one license's deliveries always go one after the other.
	Lanes int
}

// Webhook delivery defaults.
const (
	DefaultWebhookRetryFor   = 72 * time.Hour
	DefaultWebhookFirstRetry = 30 * time.Second
	DefaultWebhookMaxRetry   = time.Hour
	DefaultWebhookTimeout    = 10 * time.Second
	DefaultWebhookLanes      = 16
)

// WithDefaults fills the zero fields.
func (p WebhookPolicy) WithDefaults() WebhookPolicy {
	if p.RetryFor <= 0 {
		p.RetryFor = DefaultWebhookRetryFor
	}
	if p.FirstRetry <= 0 {
		p.FirstRetry = DefaultWebhookFirstRetry
	}
	if p.MaxRetry <= 0 {
		p.MaxRetry = DefaultWebhookMaxRetry
	}
	if p.Timeout <= 0 {
		p.Timeout = DefaultWebhookTimeout
	}
	if p.Lanes <= 0 {
		p.Lanes = DefaultWebhookLanes
	}
	return p
}

// WebhookDispatchInput starts (or continues) an endpoint's dispatcher.
type WebhookDispatchInput struct {
	EndpointID string
	Policy     WebhookPolicy
}

// WebhookDispatchResult counts the deliveries an ended dispatcher finished.
type WebhookDispatchResult struct {
	Finished int
}

const (
	// webhookPage is how many pending deliveries one page reads.
	webhookPage = 100
	// webhookHeld bounds the deliveries a dispatcher holds in its lanes; a
	// page is read when a whole one fits.
	webhookHeld = 300
	// webhookDeliveriesPerRun bounds a run's history; then it continues as new.
	webhookDeliveriesPerRun = 200
	// webhookLeaseMargin matches the activities' lease beyond the timeout.
	webhookLeaseMargin = 5 * time.Second
)

// WebhookDispatchWorkflow delivers one endpoint's pending deliveries (the
// store writes them with the events, so nothing can be missed): it pages
// them in event order, queues each in its license's lane, and runs up to
// Policy.Lanes lanes at once, each delivery an activity retried with
// exponential backoff. A license's later event waits until its earlier one
// is delivered or given up; other licenses go ahead. It sleeps until woken
// (WakeWebhooks, sent when deliveries are written; the worker's overdue
// check sends it too, so a lost wake-up only delays), pauses while the
// endpoint is disabled, ends when it is deleted, and continues as new to
// keep its history small.
func WebhookDispatchWorkflow(ctx workflow.Context, in WebhookDispatchInput) (WebhookDispatchResult, error) {
	if in.EndpointID == "" {
		return WebhookDispatchResult{}, invalidInput("a webhook dispatcher needs its endpoint id")
	}
	d := &dispatcher{in: in, policy: in.Policy.WithDefaults(), lanes: map[string]*lane{},
		wake: workflow.GetSignalChannel(ctx, WakeWebhooks), more: true}
	return d.run(ctx)
}

type dispatcher struct {
	in     WebhookDispatchInput
	policy WebhookPolicy
	wake   workflow.ReceiveChannel

	// more: pending deliveries may be waiting beyond what the lanes hold.
	more bool
	// paused: the endpoint is disabled; gone: it was deleted.
	paused, gone bool
	// lanes queue deliveries per license; order lists lane keys as they
	// arrived (iterating a map would not be deterministic).
	lanes map[string]*lane
	order []string
	// held lists the deliveries in lanes (queued or in flight), in order;
	// paging is the page being read, if any (one at a time, so a delivery
	// is never queued twice).
	held    []uint64
	paging  workflow.Future
	running int
	// finished counts deliveries finished in this run; changed tells the
	// main loop a lane moved.
	finished int
	changed  bool
}

type lane struct {
	queue []activities.DeliveryRef
	busy  bool
}

func (d *dispatcher) run(ctx workflow.Context) (WebhookDispatchResult, error) {
	for {
		if d.drainWakes() {
			d.more, d.paused = true, false
		}
		if d.paging == nil && d.more && !d.paused && !d.gone && len(d.held)+webhookPage <= webhookHeld {
			d.paging = d.readPage(ctx)
		}
		if d.gone && d.running == 0 && d.paging == nil {
			return WebhookDispatchResult{Finished: d.finished}, nil
		}
		d.startLanes(ctx)
		if d.finished >= webhookDeliveriesPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return d.continueAsNew(ctx)
		}
		d.changed = false
		err := workflow.Await(ctx, func() bool {
			return d.changed || d.wake.Len() > 0 || (d.paging != nil && d.paging.IsReady())
		})
		if err != nil {
			return WebhookDispatchResult{Finished: d.finished}, err
		}
		if d.paging != nil && d.paging.IsReady() {
			err := d.takePage(ctx, d.paging)
			d.paging = nil
			if err != nil {
				return WebhookDispatchResult{Finished: d.finished}, err
			}
		}
	}
}

// drainWakes consumes every pending wake-up; it reports whether there was one.
func (d *dispatcher) drainWakes() bool {
	woken := false
	for d.wake.ReceiveAsync(nil) {
		woken = true
	}
	return woken
}

// readPage starts reading the next pending deliveries the lanes do not
// hold yet; the lanes keep going meanwhile.
func (d *dispatcher) readPage(ctx workflow.Context) workflow.Future {
	return workflow.ExecuteActivity(withActivity(ctx, "pending deliveries"), a.PendingWebhookDeliveries, activities.WebhookPageInput{
		EndpointID: d.in.EndpointID, Skip: slices.Clone(d.held), Limit: webhookPage,
	})
}

// takePage queues a page's deliveries in their lanes.
func (d *dispatcher) takePage(ctx workflow.Context, f workflow.Future) error {
	var got activities.WebhookPageResult
	if err := f.Get(ctx, &got); err != nil {
		return fmt.Errorf("read pending deliveries of %s: %w", d.in.EndpointID, err)
	}
	d.gone, d.more = got.Gone, len(got.Deliveries) == webhookPage
	if got.Paused {
		d.pause()
	}
	for _, ref := range got.Deliveries {
		key := ref.LicenseID
		if key == "" { // not about a license: no order to keep
			key = "event:" + ref.EventID
		}
		l, ok := d.lanes[key]
		if !ok {
			l = &lane{}
			d.lanes[key] = l
			d.order = append(d.order, key)
		}
		l.queue = append(l.queue, ref)
		d.held = append(d.held, ref.ID)
	}
	return nil
}

// pause drops what the lanes hold but have not started (it stays pending
// in the database) until a wake-up says the endpoint is enabled again.
func (d *dispatcher) pause() {
	d.paused, d.more = true, false
	for _, key := range d.order {
		l := d.lanes[key]
		keep := 0
		if l.busy {
			keep = 1
		}
		for _, ref := range l.queue[keep:] {
			d.release(ref.ID)
		}
		l.queue = l.queue[:keep]
	}
	d.dropEmptyLanes()
}

func (d *dispatcher) release(id uint64) {
	for i, h := range d.held {
		if h == id {
			d.held = append(d.held[:i:i], d.held[i+1:]...)
			return
		}
	}
}

func (d *dispatcher) dropEmptyLanes() {
	kept := d.order[:0:0]
	for _, key := range d.order {
		if l := d.lanes[key]; len(l.queue) == 0 && !l.busy {
			delete(d.lanes, key)
		} else {
			kept = append(kept, key)
		}
	}
	d.order = kept
}

// startLanes starts the head of idle lanes, oldest lanes first, up to the
// policy's number of lanes in flight.
func (d *dispatcher) startLanes(ctx workflow.Context) {
	for _, key := range d.order {
		if d.running >= d.policy.Lanes {
			return
		}
		l := d.lanes[key]
		if l.busy || len(l.queue) == 0 {
			continue
		}
		l.busy = true
		d.running++
		ref := l.queue[0]
		workflow.Go(ctx, func(ctx workflow.Context) {
			d.deliver(ctx, ref)
			l.queue, l.busy = l.queue[1:], false
			d.running--
			d.finished++
			d.release(ref.ID)
			d.dropEmptyLanes()
			d.changed = true
		})
	}
}

// deliver runs one delivery to its end: delivered, refused, given up, or
// (endpoint disabled) left pending.
func (d *dispatcher) deliver(ctx workflow.Context, ref activities.DeliveryRef) {
	p := d.policy
	if ref.NextAttemptAt != nil { // an earlier run's attempt asked to wait
		if wait := ref.NextAttemptAt.Sub(workflow.Now(ctx)); wait > 0 {
			_ = workflow.NewTimerWithOptions(ctx, wait, workflow.TimerOptions{Summary: "next attempt of " + ref.EventID}).Get(ctx, nil)
		}
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: p.Timeout + 2*webhookLeaseMargin,
		// A backstop, never reached while the activity runs: it gives up
		// itself on the first failed attempt once RetryFor has passed since
		// the delivery's first attempt.
		ScheduleToCloseTimeout: p.RetryFor + 2*(p.MaxRetry+p.Timeout) + time.Minute,
		Summary:                "deliver " + ref.EventID,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: p.FirstRetry, BackoffCoefficient: 2, MaximumInterval: p.MaxRetry},
	})
	var got activities.DeliverWebhookResult
	err := workflow.ExecuteActivity(actx, a.DeliverWebhook, activities.DeliverWebhookInput{
		DeliveryID: ref.ID, Timeout: p.Timeout, RetryFor: p.RetryFor, FirstRetry: p.FirstRetry, MaxRetry: p.MaxRetry,
	}).Get(ctx, &got)
	if err != nil {
		d.giveUp(ctx, ref, err)
		return
	}
	if got.Paused {
		d.pause()
	}
}

// giveUp marks a delivery failed whose attempts ended without an outcome
// (the backstop timeout), so it shows in the log and can be redelivered.
func (d *dispatcher) giveUp(ctx workflow.Context, ref activities.DeliveryRef, cause error) {
	err := workflow.ExecuteActivity(withActivity(ctx, "give up "+ref.EventID), a.FailWebhookDelivery, activities.FailWebhookInput{
		DeliveryID: ref.ID, Reason: "retries ran out: " + cause.Error(),
	}).Get(ctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Error("Marking a webhook delivery failed did not work", "delivery", ref.ID, "error", err)
	}
}

// continueAsNew lets the attempts in flight finish (bounded by one attempt's
// time: a delivery waiting between retries is picked up again by the next
// run, and its lease keeps the two from overlapping), then continues as new.
func (d *dispatcher) continueAsNew(ctx workflow.Context) (WebhookDispatchResult, error) {
	d.more = false
	_, err := workflow.AwaitWithTimeout(ctx, d.policy.Timeout+webhookLeaseMargin, func() bool { return d.running == 0 })
	if err != nil {
		return WebhookDispatchResult{Finished: d.finished}, err
	}
	return WebhookDispatchResult{}, workflow.NewContinueAsNewError(ctx, WebhookDispatchWorkflow, d.in)
}
