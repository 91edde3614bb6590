package workflows

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/licenseflow/licenseflow/activities"
	"github.com/licenseflow/licenseflow/models"
)

// a is only used for activity method references; the worker registers the
// real *activities.Activities.
var a *activities.Activities

// LicenseWorkflow is one license's whole life: issue it (mint the DLID,
// expand entitlements, deliver the key, invoice), then wait on durable
// timers for the reminders, the expiry and the end of retention, while
// renewals and operator actions arrive as signals and updates.
func LicenseWorkflow(ctx workflow.Context, in LicenseInput) (LicenseResult, error) {
	l, err := newLicense(ctx, in)
	if err != nil {
		return LicenseResult{}, err
	}
	if err := l.setup(ctx); err != nil {
		return LicenseResult{}, err
	}
	return l.run(ctx)
}

type license struct {
	purchase PaidOrder
	policy   Policy
	resume   bool
	st       LicenseState

	// lock serializes every change to st that waits on an activity, so
	// updates, signals and timers never interleave half-way.
	lock    workflow.Mutex
	signals []workflow.ReceiveChannel
	// busy counts signal handlers and background emails still running; the
	// workflow never continues as new or closes while it is non-zero.
	busy int
	// renewed marks a renewal in this run: the run then continues as new,
	// which keeps every run's history small.
	renewed bool
	// draining is set once the run decided to continue as new: new updates
	// are turned away (to be retried on the next run), so a stream of them
	// cannot keep one run growing.
	draining bool
	// outbox holds emails a change asked for; they go out after the change
	// is projected, so every email renders the new state.
	outbox []outgoingEmail
	attrs  searchAttrs
	logger log.Logger

	// published is the state as last projected; the ledger records what
	// each change moved away from it.
	published LicenseState
	// cause names the change being applied, for its ledger lines.
	cause cause
}

// cause is why the state is changing: the message or deadline, who sent it,
// and a note for the ledger.
type cause struct {
	action string
	actor  string
	note   string
}

type outgoingEmail struct {
	template   string
	step       string
	invoice    string
	amountDue  string
	paymentURL string
}

type searchAttrs struct {
	status    models.LicenseStatus
	tier      string
	email     string
	expiresAt time.Time
}

func newLicense(ctx workflow.Context, in LicenseInput) (*license, error) {
	l := &license{purchase: in.Purchase, policy: in.Policy.withDefaults(), lock: workflow.NewMutex(ctx)}
	switch {
	case in.State != nil:
		l.st = *in.State
		l.st.Run++
		l.published = l.st
	case in.Resume:
		if in.Purchase.LicenseID == "" {
			return nil, invalidInput("resuming a license needs its license id")
		}
		l.resume = true
		l.st.LicenseID = in.Purchase.LicenseID
	default:
		if err := validatePurchase(in.Purchase); err != nil {
			return nil, err
		}
		p := in.Purchase
		l.st = LicenseState{
			LicenseID: p.LicenseID, OrderID: p.OrderID, CustomerEmail: p.CustomerEmail, CustomerName: p.CustomerName,
			Name: p.Name, Tier: p.Tier, Type: p.Type, Status: models.StatusPending, MaxDomains: p.MaxDomains,
		}
		l.published = l.st
	}
	return l, nil
}

func validatePurchase(p PaidOrder) error {
	switch {
	case p.LicenseID == "" || p.OrderID == "":
		return invalidInput("a purchase needs a license id and an order id")
	case p.CustomerEmail == "":
		return invalidInput("a purchase needs the customer's email")
	case p.Tier == "":
		return invalidInput("a purchase needs a tier")
	case p.MaxDomains < 1:
		return invalidInput("max domains must be at least 1")
	case !p.Lifetime && p.Months < 1 && p.ExpiresAt == nil: // a trial's term is its end date
		return invalidInput("a purchase needs a term of at least one month, an expiry date, or lifetime")
	}
	return nil
}

func invalidInput(msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, RejectInvalidValue, nil)
}

func (l *license) setup(ctx workflow.Context) error {
	l.logger = log.With(workflow.GetLogger(ctx), "licenseId", l.st.LicenseID)
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (LicenseState, error) { return l.st, nil }); err != nil {
		return err
	}
	// Every run, a continued one included, shows the license at a glance in
	// the Web UI from its first moment.
	workflow.SetCurrentDetails(ctx, l.details(ctx))
	patch := models.PatchRequest{}.MessageName()
	err := workflow.SetUpdateHandlerWithOptions(ctx, patch,
		func(ctx workflow.Context, p models.PatchRequest) (LicenseState, error) {
			return l.apply(ctx, "", p, func(ctx workflow.Context) error {
				if err := l.validatePatch(ctx, p); err != nil {
					return err
				}
				return l.patch(ctx, p)
			})
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, p models.PatchRequest) error {
			if l.draining {
				return retryLater()
			}
			if l.st.seen(p.DedupeRef()) || l.loading() {
				return nil
			}
			return l.validatePatch(ctx, p)
		}},
	)
	onSignal(ctx, l, "", l.paymentFailed)
	onSignal(ctx, l, "", l.suspiciousUsage)
	return errors.Join(err,
		listen(ctx, l, models.ActionRenew, l.validateRenew, l.renew),
		listen(ctx, l, models.ActionCorrectExpiry, l.validateCorrection, l.correctExpiry),
		listen(ctx, l, models.ActionChangeTier, l.validateChangeTier, l.changeTier),
		listen(ctx, l, models.ActionSetMaxDomains, l.validateMaxDomains, l.setMaxDomains),
		listen(ctx, l, models.ActionSuspend, noFields[models.SuspendRequest], l.suspend),
		listen(ctx, l, models.ActionReinstate, noFields[models.ReinstateRequest], l.reinstate),
		listen(ctx, l, models.ActionRevoke, noFields[models.RevokeRequest], l.revoke),
		listen(ctx, l, "", l.validateAddEntitlement, l.addEntitlement),
		listen(ctx, l, "", l.validateRemoveEntitlement, l.removeEntitlement),
	)
}

// listen registers one message as both an update (validated, answered with
// the new state) and a signal (applied when it can be, logged when it
// cannot), under the name its type gives it.
func listen[T models.LicenseMessage](ctx workflow.Context, l *license, action models.Action,
	validate func(workflow.Context, T) error, change func(workflow.Context, T) error,
) error {
	var zero T
	err := workflow.SetUpdateHandlerWithOptions(ctx, zero.MessageName(),
		func(ctx workflow.Context, req T) (LicenseState, error) {
			return l.apply(ctx, action, req, func(ctx workflow.Context) error {
				if err := validate(ctx, req); err != nil { // the state may have moved since validation
					return err
				}
				return change(ctx, req)
			})
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req T) error {
			if l.draining {
				return retryLater()
			}
			if l.st.seen(req.DedupeRef()) || l.loading() {
				return nil // a duplicate changes nothing; a resumed license is checked once loaded
			}
			if err := l.checkTransition(ctx, action); err != nil {
				return err
			}
			return validate(ctx, req)
		}},
	)
	if err != nil {
		return err
	}
	onSignal(ctx, l, action, func(ctx workflow.Context, req T) error {
		if err := validate(ctx, req); err != nil {
			return err
		}
		return change(ctx, req)
	})
	return nil
}

// onSignal applies every signal of T's name with change, once the license
// is issued (signals that arrive earlier stay buffered until then). A
// signal cannot be refused, so one that does not apply is logged.
func onSignal[T models.LicenseMessage](ctx workflow.Context, l *license, action models.Action,
	change func(workflow.Context, T) error,
) {
	var zero T
	name := zero.MessageName()
	ch := workflow.GetSignalChannel(ctx, name)
	l.signals = append(l.signals, ch)
	workflow.Go(ctx, func(ctx workflow.Context) {
		if err := workflow.Await(ctx, l.st.Issued); err != nil {
			return
		}
		for {
			var req T
			ch.Receive(ctx, &req)
			l.busy++
			_, err := l.apply(ctx, action, req, func(ctx workflow.Context) error { return change(ctx, req) })
			if err != nil {
				l.logger.Warn("Signal ignored", "signal", name, "error", err)
			}
			l.busy--
		}
	})
}

// loading reports a resumed license whose state is not read back yet; its
// updates are validated by the handler, after loading.
func (l *license) loading() bool { return l.resume && !l.st.Issued() }

func noFields[T any](workflow.Context, T) error { return nil }

// apply runs one change under the lock, once per message ref, then
// publishes it.
func (l *license) apply(ctx workflow.Context, action models.Action, m models.LicenseMessage, change func(workflow.Context) error) (LicenseState, error) {
	// An update that arrives while the license is still being issued waits.
	if err := workflow.Await(ctx, l.st.Issued); err != nil {
		return l.st, err
	}
	if err := l.lock.Lock(ctx); err != nil {
		return l.st, err
	}
	defer l.lock.Unlock()
	if l.st.seen(m.DedupeRef()) {
		return l.st, nil
	}
	if err := l.checkTransition(ctx, action); err != nil {
		return l.st, err
	}
	l.cause = cause{action: m.MessageName(), actor: m.SentBy()}
	if err := change(ctx); err != nil {
		return l.st, err
	}
	l.st.remember(m.DedupeRef())
	l.publish(ctx)
	l.flushEmails(ctx)
	return l.st, nil
}

// checkTransition applies the domain's transition rules; a license still
// being issued counts as active (its messages wait for it). The empty action
// (a patch, checked part by part) only needs the license to be alive.
func (l *license) checkTransition(ctx workflow.Context, action models.Action) error {
	status := l.st.statusAt(workflow.Now(ctx))
	if status == models.StatusPending {
		status = models.StatusActive
	}
	return rejection(models.CheckTransition(status, action))
}

func retryLater() error {
	return temporal.NewApplicationErrorWithOptions("the license's workflow is continuing as new; send the update again",
		RejectRetryLater, temporal.ApplicationErrorOptions{NonRetryable: true})
}

// rejection turns a domain Problem into the ApplicationError the API maps to
// an HTTP status; its details carry the stable code and the field.
func rejection(err error) error {
	p, ok := models.AsProblem(err)
	if !ok {
		return err
	}
	kind := RejectInvalidValue
	if errors.Is(p, models.ErrConflict) {
		kind = RejectConflict
	}
	return temporal.NewApplicationErrorWithOptions(p.Message, kind, temporal.ApplicationErrorOptions{
		NonRetryable: true, Details: []any{p.Code, p.Field},
	})
}

func (l *license) run(ctx workflow.Context) (LicenseResult, error) {
	if err := l.issueLocked(ctx); err != nil {
		return LicenseResult{}, err
	}
	for {
		if l.st.Revoked {
			if err := l.quiesce(ctx); err != nil {
				return LicenseResult{}, err
			}
			return l.result("revoked: " + l.st.RevokeReason), nil
		}
		if l.renewed || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return l.continueAsNew(ctx)
		}
		seen := l.st.Revision
		changed := func() bool { return l.st.Revision != seen }
		next, catchUp, ok := l.st.nextDeadline(l.policy, workflow.Now(ctx))
		if !ok { // lifetime: nothing to wait for but messages
			if err := workflow.Await(ctx, changed); err != nil {
				return LicenseResult{}, err
			}
			continue
		}
		if wait := next.At.Sub(workflow.Now(ctx)); wait > 0 {
			woken, err := l.sleepUntil(ctx, next.Step, wait, changed)
			if err != nil {
				return LicenseResult{}, err
			}
			if woken { // a message changed the license: recompute the next deadline
				continue
			}
		}
		if next.Step == StepRetentionEnded {
			if err := l.quiesce(ctx); err != nil {
				return LicenseResult{}, err
			}
			if changed() { // a renewal slipped in while finishing
				continue
			}
			return l.result("no renewal within the retention period"), nil
		}
		if err := l.runDeadlineStep(ctx, next, catchUp); err != nil {
			return LicenseResult{}, err
		}
	}
}

// sleepUntil waits for the deadline timer (named after its step in the
// history) or for a change, whichever comes first; woken reports a change.
// The timer of a deadline a change re-armed is cancelled, so the history
// only ever holds one live timer.
func (l *license) sleepUntil(ctx workflow.Context, step string, wait time.Duration, changed func() bool) (woken bool, err error) {
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	timer := workflow.NewTimerWithOptions(tctx, wait, workflow.TimerOptions{Summary: step})
	if err := workflow.Await(ctx, func() bool { return timer.IsReady() || changed() }); err != nil {
		return false, err
	}
	if timer.IsReady() {
		return false, timer.Get(ctx, nil)
	}
	return true, nil
}

func (l *license) result(reason string) LicenseResult {
	return LicenseResult{LicenseID: l.st.LicenseID, Status: l.st.Status, Reason: reason}
}

// issueLocked issues (or loads) the license holding the lock, so a message
// that arrives meanwhile (a resume's own renewal, an update right after a
// purchase) applies after the issue's last ledger line, not beside it.
func (l *license) issueLocked(ctx workflow.Context) error {
	if workflow.GetVersion(ctx, changeSerializedChanges, workflow.DefaultVersion, 1) < 1 {
		return l.issue(ctx)
	}
	if err := l.lock.Lock(ctx); err != nil {
		return err
	}
	defer l.lock.Unlock()
	return l.issue(ctx)
}

// issue turns the paid order into a license: mint the DLID and expand the
// tier's entitlements (one transaction), deliver the key, invoice. Minting,
// expanding and invoicing are local activities (short writes keyed by the
// license or order id, safe to run again whole); only the emails are
// activity tasks of their own, since SMTP may be down for hours.
func (l *license) issue(ctx workflow.Context) error {
	switch {
	case l.resume:
		return l.load(ctx)
	case l.st.Issued(): // a continued run
		return nil
	}
	buyer := orDefault(l.purchase.Actor, "order:"+l.st.OrderID)
	if l.st.Type == models.TypeTrial {
		l.st.TrialRules = workflow.GetVersion(ctx, changeTrials, workflow.DefaultVersion, 1) >= 1
	}
	l.startTerm(ctx)
	if err := l.mintAndExpand(ctx); err != nil {
		return err
	}
	l.cause = cause{action: models.LedgerIssue, actor: buyer}
	l.publish(ctx)
	l.email(ctx, outgoingEmail{template: activities.TemplateDelivery, step: "delivery"})
	l.st.Delivered = true
	if l.st.onTrial() { // nothing was paid, so nothing is invoiced
		l.st.Invoiced = true
		return nil
	}
	number, err := l.invoice(ctx, l.st.OrderID)
	if err != nil {
		return err
	}
	l.email(ctx, outgoingEmail{template: activities.TemplateInvoice, step: "invoice/" + l.st.OrderID, invoice: number})
	l.st.Invoiced = true
	l.cause = cause{action: "invoice", actor: buyer, note: "invoice " + number}
	l.publish(ctx)
	return nil
}

// startTerm sets the purchased period, from now: the months bought, or the
// expiry bought as a date.
func (l *license) startTerm(ctx workflow.Context) {
	now := models.Instant(workflow.Now(ctx))
	l.st.StartsAt = now
	var expires *time.Time
	switch {
	case l.purchase.Lifetime:
	case l.purchase.ExpiresAt != nil:
		e := models.Instant(*l.purchase.ExpiresAt)
		expires = &e
	default:
		e := models.AddMonths(now, l.purchase.Months)
		expires = &e
	}
	l.st.setExpiry(now, expires, l.policy)
}

func (l *license) mintInput(ctx workflow.Context) activities.MintInput {
	st := &l.st
	return activities.MintInput{
		LicenseID: st.LicenseID, OrderID: st.OrderID, WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID,
		Email: st.CustomerEmail, Name: st.CustomerName, Tier: st.Tier, Type: st.Type, MaxDomains: st.MaxDomains,
		StartsAt: st.StartsAt, ExpiresAt: st.ExpiresAt, GraceUntil: st.GraceUntil,
	}
}

// mintAndExpand mints the license and expands its entitlements as one local
// activity: both are short writes keyed by the license id, safe to run
// again whole.
func (l *license) mintAndExpand(ctx workflow.Context) error {
	var got activities.MintAndExpandResult
	if err := workflow.ExecuteLocalActivity(withLocalActivity(ctx), a.MintAndExpand, l.mintInput(ctx)).Get(ctx, &got); err != nil {
		return fmt.Errorf("mint license %s with tier %q: %w", l.st.LicenseID, l.st.Tier, err)
	}
	st := &l.st
	st.DLIDMasked, st.Minted = got.DLIDMasked, true
	st.Tier, st.TierName, st.Channels, st.Entitlements = got.Tier, got.TierName, got.Channels, got.Entitlements
	st.Expanded = true
	return nil
}

// load rebuilds the state of a license whose workflow had closed.
func (l *license) load(ctx workflow.Context) error {
	var got activities.LoadResult
	err := workflow.ExecuteActivity(withActivity(ctx, "load license"), a.LoadLicense, activities.LoadInput{LicenseID: l.st.LicenseID}).Get(ctx, &got)
	if err != nil {
		return fmt.Errorf("load license %s: %w", l.st.LicenseID, err)
	}
	st := LicenseState{
		LicenseID: got.LicenseID, OrderID: got.OrderID, CustomerEmail: got.CustomerEmail, Name: got.Name, DLIDMasked: got.DLIDMasked,
		Tier: got.Tier, Type: got.Type, MaxDomains: got.MaxDomains, Channels: got.Channels, Entitlements: got.Entitlements,
		Minted: true, Expanded: true, Delivered: true, Invoiced: true,
		Suspended: got.Status == models.StatusSuspended, Revoked: got.Status == models.StatusRevoked,
		Status: got.Status, Renewals: got.Renewals, Revision: got.Revision, ProcessedRefs: got.ProcessedRefs,
	}
	if st.Type == models.TypeTrial {
		st.TrialRules = workflow.GetVersion(ctx, changeTrials, workflow.DefaultVersion, 1) >= 1
	}
	if got.StartsAt != nil {
		st.StartsAt = *got.StartsAt
	}
	// The period the closed run was in; a license last projected before
	// period starts were kept counts from its purchase.
	period := st.StartsAt
	if got.PeriodStart != nil && !got.PeriodStart.IsZero() {
		period = *got.PeriodStart
	}
	st.setExpiry(period, got.ExpiresAt, l.policy)
	if workflow.GetVersion(ctx, changeSerializedChanges, workflow.DefaultVersion, 1) >= 1 {
		// The closed run reached every deadline up to the end of retention;
		// only that one stays, so a message that moves no expiry lets the
		// license close again.
		now := workflow.Now(ctx)
		for _, d := range st.deadlines(l.policy) {
			if d.Step != StepRetentionEnded && !d.At.After(now) {
				st.StepsDone = append(st.StepsDone, d.Step)
			}
		}
	}
	l.st, l.published = st, st
	l.cause = cause{action: models.LedgerResume, actor: models.LedgerSystemActor, note: "workflow resumed from the database after it had closed"}
	l.publish(ctx)
	return nil
}

// runDeadlineStep runs the step of a deadline that has come (a reminder,
// the expiry, the end of grace): it records the step, moves the status on
// and sends the step's email, if it has one that is still current.
func (l *license) runDeadlineStep(ctx workflow.Context, d deadline, catchUp bool) error {
	if err := l.lock.Lock(ctx); err != nil {
		return err
	}
	defer l.lock.Unlock()
	if workflow.GetVersion(ctx, changeSerializedChanges, workflow.DefaultVersion, 1) >= 1 {
		// A change that held the lock when this deadline came (a renewal
		// delivered with a resume, or landing as the timer fires) may have
		// moved the expiry: run only a deadline that is still the one due,
		// or the new period would count its reminder as sent.
		now := workflow.Now(ctx)
		next, again, ok := l.st.nextDeadline(l.policy, now)
		if !ok || next.Step != d.Step || !next.At.Equal(d.At) || next.At.After(now) {
			return nil
		}
		catchUp = again
	}
	l.st.StepsDone = append(l.st.StepsDone, d.Step)
	l.cause = cause{action: d.Step, actor: "timer:" + d.Step, note: l.deadlineEmail(d, catchUp)}
	l.publish(ctx)
	l.flushEmails(ctx)
	return nil
}

// deadlineEmail queues a deadline's email when it is due one, and says for
// the ledger what happened.
func (l *license) deadlineEmail(d deadline, catchUp bool) string {
	template := d.Step // reminder and expiry steps are named after their templates
	switch {
	case d.Step == StepExpired && l.st.onTrial():
		template = activities.TemplateTrialEnded
	case d.Step != StepReminder30 && d.Step != StepReminder7 && d.Step != StepExpired && d.Step != StepTrialEnding:
		return ""
	}
	switch {
	case catchUp:
		return "no email: a later deadline is already due"
	case l.st.Suspended:
		return "no email: the license is suspended"
	case d.Step != StepExpired && !l.st.remindable(d.At):
		return "no email: too early in the paid period for a reminder"
	}
	l.outbox = append(l.outbox, outgoingEmail{template: template, step: d.Step + "/" + l.expiryKey()})
	return "email: " + template
}

func (l *license) expiryKey() string {
	if l.st.ExpiresAt == nil {
		return "lifetime"
	}
	return l.st.ExpiresAt.UTC().Format(time.RFC3339)
}

// publish records a change: a new revision and status, the database
// projection with the change's ledger lines, the search attributes and the
// Web UI details.
func (l *license) publish(ctx workflow.Context) {
	now := workflow.Now(ctx)
	l.st.Revision++
	l.st.Status = l.st.statusAt(now)
	p := l.st.projection()
	p.Events = ledgerLines(&l.published, &l.st, l.cause, now)
	l.cause = cause{}
	// Retried until the database answers: lists must not show stale licenses.
	if err := workflow.ExecuteLocalActivity(withLocalActivity(ctx), a.ProjectLicense, p).Get(ctx, nil); err != nil {
		l.logger.Error("Projecting license state failed", "error", err)
	}
	// Slices in the state are replaced on change, never edited in place, so
	// a shallow copy keeps what was published.
	l.published = l.st
	l.upsertSearchAttributes(ctx)
	workflow.SetCurrentDetails(ctx, l.details(ctx))
}

func (l *license) upsertSearchAttributes(ctx workflow.Context) {
	want := searchAttrs{status: l.st.Status, tier: l.st.Tier, email: l.st.CustomerEmail}
	if l.st.ExpiresAt != nil {
		want.expiresAt = *l.st.ExpiresAt
	}
	if want == l.attrs {
		return
	}
	updates := []temporal.SearchAttributeUpdate{
		AttrLicenseStatus.ValueSet(string(want.status)),
		AttrLicenseTier.ValueSet(want.tier),
		AttrCustomerEmail.ValueSet(want.email),
	}
	if l.st.ExpiresAt != nil {
		updates = append(updates, AttrLicenseExpiresAt.ValueSet(want.expiresAt))
	} else {
		updates = append(updates, AttrLicenseExpiresAt.ValueUnset())
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		l.logger.Error("Upserting search attributes failed", "error", err)
		return
	}
	l.attrs = want
}

// details is the Web UI's at-a-glance view of the license: a summary line
// (the start options' summary is not carried to continued runs), the facts,
// and links to the workflow's earlier runs.
func (l *license) details(ctx workflow.Context) string {
	expiry := "lifetime"
	if l.st.ExpiresAt != nil {
		expiry = "expires " + l.st.ExpiresAt.UTC().Format("2006-01-02")
	}
	facts := []string{
		"**" + string(l.st.Status) + "**",
		"tier " + l.st.Tier,
		expiry,
		"key " + orDefault(l.st.DLIDMasked, "not minted yet"),
		fmt.Sprintf("max %d domains", l.st.MaxDomains),
	}
	if l.st.Renewals > 0 {
		facts = append(facts, fmt.Sprintf("%d renewals", l.st.Renewals))
	}
	if l.st.Suspended && l.st.SuspendReason != "" {
		facts = append(facts, "suspended: "+l.st.SuspendReason)
	}
	info := workflow.GetInfo(ctx)
	base := "/namespaces/" + url.PathEscape(info.Namespace) + "/workflows"
	id := info.WorkflowExecution.ID
	runs := fmt.Sprintf("Run %d · [all runs](%s?query=%s)", l.st.Run+1, base,
		url.QueryEscape(fmt.Sprintf("WorkflowId = %q", id)))
	if prev := info.ContinuedExecutionRunID; prev != "" {
		runs += fmt.Sprintf(" · [previous run](%s/%s/%s/history)", base, url.PathEscape(id), url.PathEscape(prev))
	}
	summary := fmt.Sprintf("%s license for %s", orDefault(l.st.TierName, l.st.Tier), l.st.CustomerEmail)
	return "### " + summary + "\n\n" + strings.Join(facts, " · ") + "\n\n" + runs
}

// email sends one license email and waits for it. A permanently refused
// message (bad address) is logged and left as failed in the outbox; the
// lifecycle goes on.
func (l *license) email(ctx workflow.Context, m outgoingEmail) {
	key := workflow.GetInfo(ctx).WorkflowExecution.ID + "/" + m.step
	ectx := withEmail(ctx, m.template+" email")
	err := workflow.ExecuteActivity(ectx, a.SendLicenseEmail, activities.EmailInput{
		Key: key, LicenseID: l.st.LicenseID, Template: m.template, InvoiceNumber: m.invoice,
		AmountDue: m.amountDue, PaymentURL: m.paymentURL,
	}).Get(ctx, nil)
	if err != nil {
		l.logger.Error("Email not delivered", "template", m.template, "error", err)
	}
}

// flushEmails sends the emails a change asked for, in the background, so an
// update's caller is not kept waiting on SMTP.
func (l *license) flushEmails(ctx workflow.Context) {
	for _, m := range l.outbox {
		l.busy++
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer func() { l.busy-- }()
			l.email(ctx, m)
		})
	}
	l.outbox = nil
}

// invoice bills the order once (a gapless number, its PDF) and returns the
// invoice's number.
func (l *license) invoice(ctx workflow.Context, orderID string) (string, error) {
	var inv activities.InvoiceResult
	err := workflow.ExecuteLocalActivity(withLocalActivity(ctx), a.IssueInvoice, activities.InvoiceInput{OrderID: orderID}).Get(ctx, &inv)
	if err != nil {
		return "", fmt.Errorf("invoice order %s: %w", orderID, err)
	}
	return inv.Number, nil
}

// quiesce waits until no handler, signal or email is in flight and no signal
// is waiting, so closing or continuing as new loses nothing.
func (l *license) quiesce(ctx workflow.Context) error {
	return workflow.Await(ctx, func() bool {
		if !workflow.AllHandlersFinished(ctx) || l.busy > 0 {
			return false
		}
		for _, ch := range l.signals {
			if ch.Len() > 0 {
				return false
			}
		}
		return true
	})
}

func (l *license) continueAsNew(ctx workflow.Context) (LicenseResult, error) {
	l.draining = true
	if err := l.quiesce(ctx); err != nil {
		return LicenseResult{}, err
	}
	st := l.st
	return LicenseResult{}, workflow.NewContinueAsNewError(ctx, LicenseWorkflow, LicenseInput{Policy: l.policy, State: &st})
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
