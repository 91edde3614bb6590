package workflows_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/licenseflow/licenseflow/activities"
	"github.com/licenseflow/licenseflow/email"
	"github.com/licenseflow/licenseflow/invoicepdf"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/workflows"
)

// harness runs LicenseWorkflow in the SDK's time-skipping test environment
// with the real activities on a real SQLite database; it records the
// activities (local ones as "local:<name>") in the order they started, and
// when each email activity started, in workflow time.
type harness struct {
	testsuite.WorkflowTestSuite
	t     *testing.T
	store *store.Store
	// acts is what the runs register as activities: the real ones, or the
	// model test's recording stand-ins.
	acts any

	mu       sync.Mutex
	emails   []sentEmail
	activity []string
}

type sentEmail struct {
	template string
	key      string
	at       time.Time
}

var t0 = time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

func newHarness(t *testing.T) *harness {
	acts := sqliteActivities(t)
	h := &harness{t: t, store: acts.Store, acts: acts}
	// Warnings and errors only: a workflow that logs an error fails loudly in -v output.
	h.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	return h
}

// sqliteActivities are the production activities on a fresh SQLite store
// holding the example catalog, with emails kept in the outbox.
func sqliteActivities(t *testing.T) *activities.Activities {
	renderer, err := email.NewRenderer()
	require.NoError(t, err)
	return &activities.Activities{
		Store: testsupport.SQLite(t), Renderer: renderer, Seller: invoicepdf.Seller{Name: "Moko Consulting"},
		PublicURL: "https://licenses.example.com",
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func purchase(orderID, tier string, months int) workflows.LicenseInput {
	return workflows.LicenseInput{Purchase: workflows.PaidOrder{
		LicenseID: models.LicenseIDForOrder(orderID), OrderID: orderID, CustomerEmail: "customer@example.com",
		CustomerName: "Ada", Tier: tier, MaxDomains: 5, Months: months, Type: models.TypeCommercial,
	}}
}

// paidOrder records the purchase's order (the API does this before starting
// the workflow); the invoice step needs it.
func (h *harness) paidOrder(in workflows.LicenseInput) {
	tier, err := h.store.GetTier(context.Background(), in.Purchase.Tier)
	require.NoError(h.t, err)
	_, _, _, err = h.store.RecordPurchase(context.Background(), models.Purchase{
		OrderID: in.Purchase.OrderID, Email: in.Purchase.CustomerEmail, Tier: tier, MaxDomains: in.Purchase.MaxDomains,
		Months: in.Purchase.Months, Lifetime: in.Purchase.Lifetime, Type: models.TypeCommercial,
		AmountCents: tier.PriceCents, Currency: tier.Currency, PaidAt: t0,
	})
	require.NoError(h.t, err)
}

// run is one workflow run: it starts at start, lets script schedule
// callbacks, and returns when the run ends; a continue-as-new returns the
// next run's input.
type run struct {
	env    *testsuite.TestWorkflowEnvironment
	end    time.Time
	next   *workflows.LicenseInput
	result workflows.LicenseResult
	err    error
}

func (h *harness) run(in workflows.LicenseInput, start time.Time, script func(env *testsuite.TestWorkflowEnvironment)) run {
	env := h.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: models.LicenseWorkflowID(licenseIDOf(in)), TaskQueue: workflows.TaskQueue})
	env.RegisterWorkflow(workflows.LicenseWorkflow)
	env.RegisterActivity(h.acts)
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.activity = append(h.activity, info.ActivityType.Name)
		if info.ActivityType.Name == "SendLicenseEmail" {
			var in activities.EmailInput
			require.NoError(h.t, args.Get(&in))
			h.activity[len(h.activity)-1] += ":" + in.Template
			h.emails = append(h.emails, sentEmail{template: in.Template, key: in.Key, at: env.Now().UTC()})
		}
	})
	env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, _ []any) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.activity = append(h.activity, "local:"+info.ActivityType.Name)
	})
	if script != nil {
		script(env)
	}
	env.ExecuteWorkflow(workflows.LicenseWorkflow, in)
	require.True(h.t, env.IsWorkflowCompleted())
	r := run{env: env, end: env.Now().UTC()}
	r.err = env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	if errors.As(r.err, &can) {
		var next workflows.LicenseInput
		require.NoError(h.t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
		r.next, r.err = &next, nil
	} else if r.err == nil {
		require.NoError(h.t, env.GetWorkflowResult(&r.result))
	}
	return r
}

// sent returns the emails of a template, in order.
func (h *harness) sent(template string) []sentEmail {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []sentEmail
	for _, e := range h.emails {
		if e.template == template {
			out = append(out, e)
		}
	}
	return out
}

// outbox counts stored messages of a template for the license.
func (h *harness) outbox(licenseID, template string) int {
	msgs, err := h.store.ListEmails(context.Background(), models.EmailFilter{LicenseID: licenseID, Template: template})
	require.NoError(h.t, err)
	return len(msgs)
}

func (h *harness) license(id string) models.License {
	l, err := h.store.GetLicense(context.Background(), id)
	require.NoError(h.t, err)
	return l
}

func query(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.LicenseState {
	t.Helper()
	v, err := env.QueryWorkflow(workflows.QueryState)
	require.NoError(t, err)
	var st workflows.LicenseState
	require.NoError(t, v.Get(&st))
	return st
}

// update sends an update and returns its answer or its rejection/failure.
// update sends msg as an update under the name its type gives it.
func update(env *testsuite.TestWorkflowEnvironment, msg models.LicenseMessage, done func(workflows.LicenseState, error)) {
	env.UpdateWorkflow(msg.MessageName(), "", &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) { done(workflows.LicenseState{}, err) },
		OnComplete: func(v any, err error) {
			st, _ := v.(workflows.LicenseState)
			done(st, err)
		},
	}, msg)
}

// signal sends msg as a signal under the name its type gives it.
func signal(env *testsuite.TestWorkflowEnvironment, msg models.LicenseMessage) {
	env.SignalWorkflow(msg.MessageName(), msg)
}

func licenseIDOf(in workflows.LicenseInput) string {
	if in.State != nil {
		return in.State.LicenseID
	}
	return in.Purchase.LicenseID
}
