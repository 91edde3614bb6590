package workflows_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/licenseflow/licenseflow/activities"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/workflows"
)

// modelWorld is where the model test's lifecycles run: the production
// activities on a SQLite store with the example catalog, so the model (an
// independent reading of the rules) checks the store's entitlement
// expansion, minting, invoicing and email rendering, not a stand-in for
// them. Each play of a sequence gets ids of its own, so plays (a sequence,
// its shrunk variants, its re-executions) never see each other's rows.
type modelWorld struct {
	store *store.Store
	acts  *activities.Activities
	plays int
}

func newModelWorld(t *testing.T) *modelWorld {
	acts := sqliteActivities(t)
	return &modelWorld{store: acts.Store, acts: acts}
}

// fresh gives the sequence's purchase and renewal orders ids no earlier play
// in this world used.
func (w *modelWorld) fresh(seq modelSequence) modelSequence {
	w.plays++
	suffix := fmt.Sprintf(".%d", w.plays)
	out := modelSequence{Purchase: seq.Purchase, Policy: seq.Policy, Steps: make([]modelStep, len(seq.Steps))}
	out.Purchase.OrderID += suffix
	out.Purchase.LicenseID = models.LicenseIDForOrder(out.Purchase.OrderID)
	if out.Purchase.Type == models.TypeTrial { // a trial is given once per customer and tier
		out.Purchase.CustomerEmail = fmt.Sprintf("trial%d@example.com", w.plays)
	}
	for i, s := range seq.Steps {
		switch r := s.Msg.(type) {
		case models.RenewRequest:
			if r.OrderID != "" {
				r.OrderID += suffix
			}
			s.Msg = r
		case models.AddEntitlementRequest:
			if r.OrderID != "" {
				r.OrderID += suffix
			}
			s.Msg = r
		case models.PatchRequest:
			if r.Renew != nil && r.Renew.OrderID != "" {
				renew := *r.Renew
				renew.OrderID += suffix
				r.Renew = &renew
			}
			s.Msg = r
		}
		out.Steps[i] = s
	}
	return out
}

// tierPrice is what the test charges for months of a tier: the catalog's
// price for each month bought (a lifetime tier's once).
func tierPrice(tier string, months int) (int64, string) {
	for _, t := range catalogTiers {
		if t.Key == tier {
			return t.PriceCents * int64(max(months, 1)), t.Currency
		}
	}
	panic("no tier " + tier)
}

// recordPurchase writes the paid purchase order, as the API does before it
// starts the license's workflow.
func (w *modelWorld) recordPurchase(t *testing.T, p workflows.PaidOrder) int64 {
	tier, err := w.store.GetTier(context.Background(), p.Tier)
	require.NoError(t, err)
	amount, currency := tierPrice(p.Tier, p.Months)
	if p.Type == models.TypeTrial {
		amount = 0
	}
	_, _, _, err = w.store.RecordPurchase(context.Background(), models.Purchase{
		OrderID: p.OrderID, Email: p.CustomerEmail, Tier: tier, MaxDomains: p.MaxDomains, ExpiresAt: p.ExpiresAt,
		Months: p.Months, Lifetime: p.Lifetime, Type: p.Type, AmountCents: amount, Currency: currency, PaidAt: t0,
	})
	require.NoError(t, err)
	return amount
}

// recordRenewal writes a renewal's paid order before the renewal is
// delivered, as the API and the payment webhooks do; the same order id
// again returns the first order. It returns the order's amount.
func (w *modelWorld) recordRenewal(t *testing.T, licenseID string, r models.RenewRequest) int64 {
	l, err := w.store.GetLicense(context.Background(), licenseID)
	require.NoError(t, err)
	amount, currency := tierPrice(l.TierKey, r.Months)
	o, err := w.store.RecordLicenseOrder(context.Background(), models.LicenseOrder{
		OrderID: r.OrderID, License: l, Months: r.Months, AmountCents: amount, Currency: currency,
		PaymentRef: r.PaymentRef, PaidAt: t0,
	})
	require.NoError(t, err)
	return o.AmountCents
}

// modelAddonPrice is what the model's bought add-ons cost.
const modelAddonPrice = 2900

// recordAddon writes a bought add-on's paid order before the add-on is
// delivered, as the API and the payment webhooks do; the same order id
// again returns the first order. It returns the order's amount.
func (w *modelWorld) recordAddon(t *testing.T, licenseID string, r models.AddEntitlementRequest) int64 {
	l, err := w.store.GetLicense(context.Background(), licenseID)
	require.NoError(t, err)
	o, err := w.store.RecordLicenseOrder(context.Background(), models.LicenseOrder{
		OrderID: r.OrderID, License: l, Product: strings.TrimSpace(r.Product), AmountCents: modelAddonPrice, Currency: "EUR",
		PaymentRef: "pay-" + r.OrderID, PaidAt: t0,
	})
	require.NoError(t, err)
	return o.AmountCents
}

// modelActivities registers as the license workflow's activities. In a
// first execution it runs the production activities and records each
// answer; in a re-execution (a worker restart, see checkRestarts) it answers
// each call from that record, as Temporal answers a replaying worker from
// history, and fails a call the first execution never made.
type modelActivities struct {
	// real is nil in a re-execution: its methods are then only named, never
	// called.
	real *activities.Activities

	mu       sync.Mutex
	answers  map[string][]recordedAnswer // activity and input -> answers, in order
	answered map[string]int              // in a re-execution: answers already given
}

type recordedAnswer struct {
	result  json.RawMessage
	errType string
	errMsg  string
	retry   bool
}

func newModelActivities(real *activities.Activities) *modelActivities {
	return &modelActivities{real: real, answers: map[string][]recordedAnswer{}}
}

// again answers a re-execution from what m recorded.
func (m *modelActivities) again() *modelActivities {
	return &modelActivities{answers: m.answers, answered: map[string]int{}}
}

func answer[In, Out any](m *modelActivities, ctx context.Context, name string, in In, run func(context.Context, In) (Out, error)) (Out, error) {
	var out Out
	input, err := json.Marshal(in)
	if err != nil {
		return out, err
	}
	key := name + " " + string(input)
	if m.real == nil {
		m.mu.Lock()
		defer m.mu.Unlock()
		n := m.answered[key]
		if n >= len(m.answers[key]) {
			return out, temporal.NewNonRetryableApplicationError(fmt.Sprintf("the first execution made no call %d of %s", n+1, key), "not_in_first_execution", nil)
		}
		m.answered[key]++
		a := m.answers[key][n]
		if a.errType != "" {
			if a.retry {
				return out, temporal.NewApplicationError(a.errMsg, a.errType)
			}
			return out, temporal.NewNonRetryableApplicationError(a.errMsg, a.errType, nil)
		}
		return out, json.Unmarshal(a.result, &out)
	}
	out, err = run(ctx, in)
	rec := recordedAnswer{}
	if err != nil {
		rec.errType, rec.errMsg, rec.retry = "error", err.Error(), true
		var app *temporal.ApplicationError
		if errors.As(err, &app) {
			rec.errType, rec.errMsg, rec.retry = app.Type(), app.Message(), !app.NonRetryable()
		}
	} else if rec.result, err = json.Marshal(out); err != nil {
		return out, err
	}
	m.mu.Lock()
	m.answers[key] = append(m.answers[key], rec)
	m.mu.Unlock()
	return out, err
}

func (m *modelActivities) MintAndExpand(ctx context.Context, in activities.MintInput) (activities.MintAndExpandResult, error) {
	return answer(m, ctx, "MintAndExpand", in, m.real.MintAndExpand)
}

func (m *modelActivities) ExpandEntitlements(ctx context.Context, in activities.ExpandInput) (activities.ExpandResult, error) {
	return answer(m, ctx, "ExpandEntitlements", in, m.real.ExpandEntitlements)
}

func (m *modelActivities) AddEntitlement(ctx context.Context, in activities.EntitlementInput) (activities.EntitlementsResult, error) {
	return answer(m, ctx, "AddEntitlement", in, m.real.AddEntitlement)
}

func (m *modelActivities) RemoveEntitlement(ctx context.Context, in activities.EntitlementInput) (activities.EntitlementsResult, error) {
	return answer(m, ctx, "RemoveEntitlement", in, m.real.RemoveEntitlement)
}

func (m *modelActivities) SendLicenseEmail(ctx context.Context, in activities.EmailInput) (activities.EmailResult, error) {
	return answer(m, ctx, "SendLicenseEmail", in, m.real.SendLicenseEmail)
}

func (m *modelActivities) IssueInvoice(ctx context.Context, in activities.InvoiceInput) (activities.InvoiceResult, error) {
	return answer(m, ctx, "IssueInvoice", in, m.real.IssueInvoice)
}

func (m *modelActivities) ProjectLicense(ctx context.Context, p models.Projection) (activities.ProjectResult, error) {
	return answer(m, ctx, "ProjectLicense", p, m.real.ProjectLicense)
}

func (m *modelActivities) LoadLicense(ctx context.Context, in activities.LoadInput) (activities.LoadResult, error) {
	return answer(m, ctx, "LoadLicense", in, m.real.LoadLicense)
}

// activitiesInFlight counts the activities and local activities a workflow
// run has started and not yet seen finish, and lists every activity the
// workflow scheduled with its input, in the order the workflow code
// scheduled them. The model test's callbacks wait for zero in flight before
// they deliver or check anything: the test environment fires a timer by the
// wall clock when activities run long (a loaded machine), and a check must
// see each step fully applied. Both are kept by workflow code (an
// interceptor), so the count is exact whenever a callback runs and the list
// is in the deterministic order a replay must reproduce.
type activitiesInFlight struct {
	interceptor.WorkerInterceptorBase
	n         int
	scheduled []string
}

func (c *activitiesInFlight) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &inFlightInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, c: c}
}

type inFlightInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	c *activitiesInFlight
}

func (i *inFlightInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	return i.Next.Init(&inFlightOutbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: outbound}, c: i.c})
}

type inFlightOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	c *activitiesInFlight
}

func (o *inFlightOutbound) ExecuteActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	return o.track(ctx, activityType, args, o.Next.ExecuteActivity(ctx, activityType, args...))
}

func (o *inFlightOutbound) ExecuteLocalActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	return o.track(ctx, "local:"+activityType, args, o.Next.ExecuteLocalActivity(ctx, activityType, args...))
}

func (o *inFlightOutbound) track(ctx workflow.Context, name string, args []any, f workflow.Future) workflow.Future {
	// Activity inputs are structs; json.Marshal writes any map in sorted
	// key order, so the record is the same in every execution.
	input, _ := json.Marshal(args) //workflowcheck:ignore
	o.c.scheduled = append(o.c.scheduled, name+" "+string(input))
	o.c.n++
	workflow.Go(ctx, func(ctx workflow.Context) {
		_ = f.Get(ctx, nil)
		o.c.n--
	})
	return f
}

// modelTimeout bounds how long the model test waits for one step's
// activities on a loaded machine before it reports the workflow stuck.
const modelTimeout = time.Minute
