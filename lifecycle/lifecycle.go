// Package lifecycle is the HTTP side's one door to Temporal. It starts a
// license's workflow, sends it updates (resuming a closed workflow, retrying
// while it continues as new) and signals, asks for its live state, starts
// the release-announcement and sign-in workflows, wakes webhook
// dispatchers, and links workflows to the Temporal Web UI. Nothing of
// Temporal passes it: callers send models' typed messages, read Live, and
// get models.Problem for a refusal and ErrUnavailable for an outage.
// Handlers depend on the Client interface; the lifecyclefake package
// answers it in memory for their tests.
package lifecycle

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/workflows"
)

// Client is what the HTTP handlers ask of license workflows and the other
// workflows they start.
type Client interface {
	// StartLicense starts a license's workflow. Starting it again is a no-op
	// (the running workflow is reused; a closed one is not restarted), so a
	// retried purchase can never issue two licenses.
	StartLicense(ctx context.Context, l models.License, o models.Order, tier models.Tier, customerName string) error
	// UpdateLicense sends an update to a license's workflow and returns the
	// new state. A closed workflow (a license renewed long after expiry) is
	// resumed from the database with the update as its first message; one
	// between runs (continuing as new) is sent the update again.
	// The sender (models.ActorFrom(ctx)) is stamped on msg unless it names one.
	UpdateLicense(ctx context.Context, l models.License, msg models.LicenseUpdate) (Live, error)
	// SignalLicense sends a signal: durable once this returns, applied by the
	// workflow when it can. A closed workflow is resumed to take it; a
	// revoked license takes none.
	SignalLicense(ctx context.Context, l models.License, msg models.LicenseSignal) error
	// QueryLicense asks the workflow for its live state.
	QueryLicense(ctx context.Context, workflowID string) (Live, error)
	// AnnounceRelease starts the workflow that emails entitled customers
	// about a release (once per release).
	AnnounceRelease(ctx context.Context, p models.Product, r models.Release) error
	// SendSignIn starts the workflow that makes and emails a magic link;
	// ref names the request (it is no secret: the link is made by the
	// activity, so it is never in the workflow's history).
	SendSignIn(ctx context.Context, ref, to string, aud models.Audience) error
	// NeedingAttention lists license workflows an operator should look at.
	NeedingAttention(ctx context.Context) []WorkflowIssue
	// WorkflowURL links a workflow in the Temporal Web UI ("" without one).
	WorkflowURL(workflowID string) string
	// CheckHealth reports whether Temporal answers.
	CheckHealth(ctx context.Context) error
}

// Live is a license's workflow as it answers now: what the API's
// "workflow" field and the dashboard show beside the stored license.
type Live struct {
	Status        models.LicenseStatus
	Revision      int64
	Renewals      int
	Run           int
	Issued        bool
	StepsDone     []string
	SuspendReason string
	RevokeReason  string
}

func liveOf(st workflows.LicenseState) Live {
	return Live{
		Status: st.Status, Revision: st.Revision, Renewals: st.Renewals, Run: st.Run, Issued: st.Issued(),
		StepsDone: st.StepsDone, SuspendReason: st.SuspendReason, RevokeReason: st.RevokeReason,
	}
}

// ErrUnavailable is an outage of the workflow service: nothing was
// changed, the caller may retry in a moment.
var ErrUnavailable = errors.New("the workflow service is unreachable")

// problemOf turns what Temporal answered into licenseflow's errors: a
// workflow's refusal into the models.Problem it was made from (code and
// field travel in the error's details), an outage into ErrUnavailable.
// Anything else passes unchanged.
func problemOf(err error) error {
	if err == nil {
		return nil
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		var code, field string
		_ = app.Details(&code, &field)
		switch app.Type() {
		case workflows.RejectConflict:
			return &models.Problem{Kind: models.ErrConflict, Code: cmp.Or(code, "conflict"), Field: field, Message: app.Message()}
		case workflows.RejectInvalidValue:
			return &models.Problem{Kind: models.ErrInvalid, Code: cmp.Or(code, "invalid_value"), Field: field, Message: app.Message()}
		}
	}
	var unavailable *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	var canceled *serviceerror.Canceled
	if errors.As(err, &unavailable) || errors.As(err, &deadline) || errors.As(err, &canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return err
}

// Options shape the Temporal client's use.
type Options struct {
	// Namespace is the Temporal namespace (for Web UI links).
	Namespace string
	// WebUIURL is the Temporal Web UI's base URL; empty omits links.
	WebUIURL string
	// Policy sets the lifecycle windows of new and resumed licenses.
	Policy workflows.Policy
	// UpdateTimeout bounds how long a change waits for its workflow (default 30s).
	UpdateTimeout time.Duration
	// ReleaseEmailsPerMinute throttles new-release notifications.
	ReleaseEmailsPerMinute int
	// Webhooks shapes the deliveries of the webhook dispatchers it starts.
	Webhooks workflows.WebhookPolicy
}

// Temporal is the Client that talks to a Temporal frontend.
type Temporal struct {
	c client.Client
	o Options
}

// New returns a Client on c.
func New(c client.Client, o Options) *Temporal {
	if o.UpdateTimeout == 0 {
		o.UpdateTimeout = 30 * time.Second
	}
	return &Temporal{c: c, o: o}
}

var _ Client = (*Temporal)(nil)

// StartLicense implements Client.
func (t *Temporal) StartLicense(ctx context.Context, l models.License, o models.Order, tier models.Tier, customerName string) error {
	in := workflows.LicenseInput{Policy: t.o.Policy, Purchase: workflows.PaidOrder{
		LicenseID: l.ID, OrderID: o.ID, CustomerEmail: l.Customer.Email, CustomerName: customerName, Name: l.Name,
		Tier: tier.Key, MaxDomains: o.MaxDomains, Months: o.Months, Lifetime: o.Lifetime, ExpiresAt: o.ExpiresAt, Type: l.Type,
		Actor: models.ActorFrom(ctx),
	}}
	term := fmt.Sprintf("%d months", o.Months)
	if o.Lifetime {
		term = "lifetime"
	}
	attrs := []temporal.SearchAttributeUpdate{
		workflows.AttrLicenseStatus.ValueSet(string(models.StatusPending)),
		workflows.AttrLicenseTier.ValueSet(tier.Key),
		workflows.AttrCustomerEmail.ValueSet(l.Customer.Email),
	}
	if l.StripeCustomerID != "" {
		attrs = append(attrs, workflows.AttrStripeCustomerID.ValueSet(l.StripeCustomerID))
	}
	_, err := t.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       l.WorkflowID,
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes:    temporal.NewSearchAttributes(attrs...),
		// A worker on this client (dev mode: one process) gets the first
		// workflow task in the start's answer, without a trip through
		// matching; without one the start is an ordinary one.
		EnableEagerStart: true,
		StaticSummary:    fmt.Sprintf("%s license for %s", tier.Name, l.Customer.Email),
		StaticDetails: fmt.Sprintf("License `%s` from order `%s`: tier %s, %s, up to %d domains.",
			l.ID, o.ID, tier.Key, term, o.MaxDomains),
	}, workflows.LicenseWorkflow, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) { // it ran before and has closed: nothing to do
		return nil
	}
	return problemOf(err)
}

// UpdateLicense implements Client.
func (t *Temporal) UpdateLicense(ctx context.Context, l models.License, msg models.LicenseUpdate) (Live, error) {
	ctx, cancel := context.WithTimeout(ctx, t.o.UpdateTimeout)
	defer cancel()
	msg.Stamp(models.ActorFrom(ctx))
	for {
		st, err := t.updateOnce(ctx, l, msg)
		var app *temporal.ApplicationError
		if !errors.As(err, &app) || app.Type() != workflows.RejectRetryLater {
			return liveOf(st), problemOf(err)
		}
		select {
		case <-ctx.Done():
			return Live{}, problemOf(ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (t *Temporal) updateOnce(ctx context.Context, l models.License, msg models.LicenseUpdate) (workflows.LicenseState, error) {
	opts := client.UpdateWorkflowOptions{
		WorkflowID: l.WorkflowID, UpdateName: msg.MessageName(), WaitForStage: client.WorkflowUpdateStageCompleted,
		Args: []any{msg},
	}
	handle, err := t.c.UpdateWorkflow(ctx, opts)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) && l.Status == models.StatusRevoked {
		return workflows.LicenseState{}, models.CheckTransition(l.Status, models.Action(msg.MessageName()))
	}
	if errors.As(err, &notFound) && l.Status != models.StatusPending {
		op := t.c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
			ID: l.WorkflowID, TaskQueue: workflows.TaskQueue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		}, workflows.LicenseWorkflow, t.resumeInput(l))
		opts.WorkflowID = ""
		handle, err = t.c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
			StartWorkflowOperation: op, UpdateOptions: opts,
		})
	}
	if errors.As(err, &notFound) {
		return workflows.LicenseState{}, models.Conflict("license_pending", "license %s has no running workflow yet; retry its purchase with the same order_id", l.ID)
	}
	if err != nil {
		return workflows.LicenseState{}, err
	}
	var st workflows.LicenseState
	return st, handle.Get(ctx, &st)
}

// SignalLicense implements Client.
func (t *Temporal) SignalLicense(ctx context.Context, l models.License, msg models.LicenseSignal) error {
	name := msg.MessageName()
	if l.Status == models.StatusRevoked {
		return models.CheckTransition(l.Status, models.Action(name))
	}
	msg.Stamp(models.ActorFrom(ctx))
	err := t.c.SignalWorkflow(ctx, l.WorkflowID, "", name, msg)
	var notFound *serviceerror.NotFound
	if !errors.As(err, &notFound) || l.Status == models.StatusPending {
		return problemOf(err)
	}
	_, err = t.c.SignalWithStartWorkflow(ctx, l.WorkflowID, name, msg, client.StartWorkflowOptions{
		ID: l.WorkflowID, TaskQueue: workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, workflows.LicenseWorkflow, t.resumeInput(l))
	return problemOf(err)
}

// QueryLicense implements Client.
func (t *Temporal) QueryLicense(ctx context.Context, workflowID string) (Live, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	v, err := t.c.QueryWorkflow(ctx, workflowID, "", workflows.QueryState)
	if err != nil {
		return Live{}, problemOf(err)
	}
	var st workflows.LicenseState
	if err := v.Get(&st); err != nil {
		return Live{}, err
	}
	return liveOf(st), nil
}

// resumeInput restarts a license's closed workflow from the database.
func (t *Temporal) resumeInput(l models.License) workflows.LicenseInput {
	return workflows.LicenseInput{Policy: t.o.Policy, Resume: true, Purchase: workflows.PaidOrder{LicenseID: l.ID}}
}

// WorkflowURL implements Client.
func (t *Temporal) WorkflowURL(workflowID string) string {
	if t.o.WebUIURL == "" || workflowID == "" {
		return ""
	}
	return strings.TrimRight(t.o.WebUIURL, "/") + "/namespaces/" + url.PathEscape(t.o.Namespace) + "/workflows/" + url.PathEscape(workflowID)
}

// AnnounceRelease implements Client; the workflow id is derived from
// product and version, so a release is announced once.
func (t *Temporal) AnnounceRelease(ctx context.Context, p models.Product, r models.Release) error {
	_, err := t.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.ReleaseWorkflowID(p.Code, r.Version), TaskQueue: workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            fmt.Sprintf("Announce %s %s to entitled customers", p.Name, r.Version),
	}, workflows.ReleaseNotificationWorkflow, workflows.ReleaseInput{
		Product: p.Code, Repo: p.Repo, Version: r.Version, Channel: r.Channel, PerMinute: t.o.ReleaseEmailsPerMinute,
	})
	return problemOf(err)
}

// SendSignIn implements Client.
func (t *Temporal) SendSignIn(ctx context.Context, ref, to string, aud models.Audience) error {
	_, err := t.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.SignInWorkflowID(ref), TaskQueue: workflows.TaskQueue, StaticSummary: "Sign-in link for " + to,
	}, workflows.SignInEmailWorkflow, workflows.SignInRequest{Key: "signin/" + ref, To: to, Admin: aud == models.AudienceAdmin})
	return problemOf(err)
}

// WakeWebhookDispatcher tells an endpoint's dispatcher that deliveries are
// waiting, starting it when it is not running.
func (t *Temporal) WakeWebhookDispatcher(ctx context.Context, endpointID string) error {
	id := workflows.WebhookDispatcherID(endpointID)
	_, err := t.c.SignalWithStartWorkflow(ctx, id, workflows.WakeWebhooks, nil, client.StartWorkflowOptions{
		ID: id, TaskQueue: workflows.TaskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		StaticSummary:         "Webhook deliveries to endpoint " + endpointID,
	}, workflows.WebhookDispatchWorkflow, workflows.WebhookDispatchInput{EndpointID: endpointID, Policy: t.o.Webhooks})
	return problemOf(err)
}

// WorkflowIssue is a workflow an operator should look at.
type WorkflowIssue struct {
	WorkflowID string
	Status     string
	Started    time.Time
	Why        string
	URL        string
}

// NeedingAttention implements Client: it asks Temporal's visibility for
// license workflows that failed, were terminated, or have been issuing for
// more than ten minutes. When Temporal cannot be asked it says so in the
// list instead of failing: the rest of a dashboard still works.
func (t *Temporal) NeedingAttention(ctx context.Context) []WorkflowIssue {
	if t.c == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	stuckSince := time.Now().Add(-10 * time.Minute).UTC().Format(time.RFC3339)
	queries := []struct{ query, why string }{
		{`WorkflowType = "LicenseWorkflow" AND ExecutionStatus IN ("Failed", "Terminated", "TimedOut")`, "the lifecycle stopped"},
		{fmt.Sprintf(`WorkflowType = "LicenseWorkflow" AND ExecutionStatus = "Running" AND LicenseStatus = "pending" AND StartTime < "%s"`, stuckSince),
			"still issuing after 10 minutes: look at the pending activity"},
	}
	var out []WorkflowIssue
	for _, q := range queries {
		resp, err := t.c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q.query, PageSize: 50})
		if err != nil {
			return append(out, WorkflowIssue{Why: "the workflow service cannot be asked right now: " + err.Error()})
		}
		for _, e := range resp.Executions {
			id := e.GetExecution().GetWorkflowId()
			out = append(out, WorkflowIssue{WorkflowID: id, Status: e.GetStatus().String(), Started: e.GetStartTime().AsTime(),
				Why: q.why, URL: t.WorkflowURL(id)})
		}
	}
	return out
}

// CheckHealth implements Client: Temporal answers, and licenseflow's
// namespace exists and carries its search attributes.
func (t *Temporal) CheckHealth(ctx context.Context) error {
	if _, err := t.c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return err
	}
	if err := CheckNamespace(ctx, t.c, t.o.Namespace); err != nil {
		return err
	}
	return CheckSearchAttributes(ctx, t.c, t.o.Namespace)
}

// CheckNamespace reports a namespace that does not exist: every start of a
// workflow in it would fail.
func CheckNamespace(ctx context.Context, c client.Client, namespace string) error {
	_, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
	var notFound *serviceerror.NamespaceNotFound
	if errors.As(err, &notFound) {
		return fmt.Errorf("the Temporal namespace %q (TEMPORAL_NAMESPACE) does not exist: create it (`temporal operator namespace create --namespace %s`) or name an existing one", namespace, namespace)
	}
	if err != nil {
		return fmt.Errorf("describe Temporal namespace %q: %w", namespace, err)
	}
	return nil
}

// CheckSearchAttributes reports the search attributes licenseflow needs
// that the namespace lacks: starting a license's workflow would be refused.
func CheckSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list the search attributes of namespace %q: %w", namespace, err)
	}
	var missing []string
	for name, typ := range workflows.SearchAttributes() {
		if got, ok := have.GetCustomAttributes()[name]; !ok || got != typ {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("namespace %q lacks licenseflow's search attributes %s (see docs/operations.md, Production)", namespace, strings.Join(missing, ", "))
	}
	return nil
}
