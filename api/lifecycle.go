package api

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/workflows"
)

// startLicense starts a license's workflow. Starting it again is a no-op
// (the running workflow is reused; a closed one is not restarted), so a
// retried purchase can never issue two licenses.
func (s *server) startLicense(ctx context.Context, l models.License, o models.Order, tier models.Tier, customerName string) error {
	in := workflows.LicenseInput{Policy: s.Policy, Purchase: workflows.Purchase{
		LicenseID: l.ID, OrderID: o.ID, CustomerEmail: l.Customer.Email, CustomerName: customerName,
		Tier: tier.Key, MaxDomains: o.MaxDomains, Months: o.Months, Lifetime: o.Lifetime, Type: l.Type,
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
	_, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       l.WorkflowID,
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes:    temporal.NewSearchAttributes(attrs...),
		StaticSummary:            fmt.Sprintf("%s license for %s", tier.Name, l.Customer.Email),
		StaticDetails: fmt.Sprintf("License `%s` from order `%s`: tier %s, %s, up to %d domains.",
			l.ID, o.ID, tier.Key, term, o.MaxDomains),
	}, workflows.LicenseWorkflow, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) { // it ran before and has closed: nothing to do
		return nil
	}
	return err
}

// updateLicense sends an update to a license's workflow and returns the new
// state. If the workflow has closed (a license renewed long after expiry),
// it is resumed from the database with the update as its first message; if
// it is between runs (continuing as new), the update is sent again.
func (s *server) updateLicense(ctx context.Context, l models.License, name string, arg any) (workflows.LicenseState, error) {
	ctx, cancel := context.WithTimeout(ctx, s.UpdateTimeout)
	defer cancel()
	for {
		st, err := s.updateOnce(ctx, l, name, arg)
		var app *temporal.ApplicationError
		if !errors.As(err, &app) || app.Type() != workflows.RejectRetryLater {
			return st, err
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (s *server) updateOnce(ctx context.Context, l models.License, name string, arg any) (workflows.LicenseState, error) {
	opts := client.UpdateWorkflowOptions{
		WorkflowID: l.WorkflowID, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	}
	handle, err := s.Temporal.UpdateWorkflow(ctx, opts)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) && l.Status == models.StatusRevoked {
		return workflows.LicenseState{}, models.CheckTransition(l.Status, models.Action(name))
	}
	if errors.As(err, &notFound) && l.Status != models.StatusPending {
		op := s.Temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
			ID: l.WorkflowID, TaskQueue: workflows.TaskQueue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		}, workflows.LicenseWorkflow, s.resumeInput(l))
		opts.WorkflowID = ""
		handle, err = s.Temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
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

// signalLicense sends a signal: durable once this returns, applied by the
// workflow when it can. A closed workflow is resumed to take it; a revoked
// license takes none.
func (s *server) signalLicense(ctx context.Context, l models.License, name string, arg any) error {
	if l.Status == models.StatusRevoked {
		return models.CheckTransition(l.Status, models.Action(name))
	}
	err := s.Temporal.SignalWorkflow(ctx, l.WorkflowID, "", name, arg)
	var notFound *serviceerror.NotFound
	if !errors.As(err, &notFound) || l.Status == models.StatusPending {
		return err
	}
	_, err = s.Temporal.SignalWithStartWorkflow(ctx, l.WorkflowID, name, arg, client.StartWorkflowOptions{
		ID: l.WorkflowID, TaskQueue: workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, workflows.LicenseWorkflow, s.resumeInput(l))
	return err
}

// queryLicense asks the workflow for its live state.
func (s *server) queryLicense(ctx context.Context, workflowID string) (workflows.LicenseState, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	v, err := s.Temporal.QueryWorkflow(ctx, workflowID, "", workflows.QueryState)
	if err != nil {
		return workflows.LicenseState{}, err
	}
	var st workflows.LicenseState
	return st, v.Get(&st)
}

// resumeInput restarts a license's closed workflow from the database.
func (s *server) resumeInput(l models.License) workflows.LicenseInput {
	return workflows.LicenseInput{Policy: s.Policy, Resume: true, Purchase: workflows.Purchase{LicenseID: l.ID}}
}

// workflowURL links a license to its workflow in the Temporal Web UI.
func (s *server) workflowURL(workflowID string) string {
	if s.WebUIURL == "" || workflowID == "" {
		return ""
	}
	return strings.TrimRight(s.WebUIURL, "/") + "/namespaces/" + url.PathEscape(s.Namespace) + "/workflows/" + url.PathEscape(workflowID)
}

// announceRelease starts the workflow that emails entitled customers about
// a release (once per release: its id is derived from product and version).
func (s *server) announceRelease(ctx context.Context, p models.Product, r models.Release) error {
	_, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.ReleaseWorkflowID(p.Code, r.Version), TaskQueue: workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            fmt.Sprintf("Announce %s %s to entitled customers", p.Name, r.Version),
	}, workflows.ReleaseNotificationWorkflow, workflows.ReleaseInput{
		Product: p.Code, Repo: p.Repo, Version: r.Version, PerMinute: s.ReleaseEmailsPerMinute,
	})
	return err
}

// sendSignIn starts the workflow that emails a magic link.
func (s *server) sendSignIn(ctx context.Context, key, to, link string, admin bool) error {
	_, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.SignInWorkflowID(key), TaskQueue: workflows.TaskQueue, StaticSummary: "Sign-in link for " + to,
	}, workflows.SignInEmailWorkflow, workflows.SignInRequest{Key: "signin/" + key, To: to, Link: link, Admin: admin})
	return err
}
