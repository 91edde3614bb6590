package workflows_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"sync"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/licenseflow/licenseflow/activities"
	"github.com/licenseflow/licenseflow/models"
)

// recordingActivities stands in for the license workflow's activities in the
// model test and records what crosses the activity boundary. The real
// activities are tested against real stores elsewhere (activities, store,
// integration); here thousands of five-year lifecycles must run in seconds,
// so this keeps the one license in memory with the store's documented
// behaviour: minting is idempotent, tier rows are replaced on expansion
// while custom add-ons stay, an invoice is issued once per order, unknown
// tiers and products fail for good.
type recordingActivities struct {
	mu          sync.Mutex
	dlid        string
	mints       int
	ents        map[string]models.EntitlementSource // product code -> source
	invoiced    []string                            // order ids, one per IssueInvoice call
	projections []models.Projection
}

func newRecordingActivities() *recordingActivities {
	return &recordingActivities{ents: map[string]models.EntitlementSource{}}
}

// MintAndExpand mints and expands in one step, as the store does them in
// one transaction. The key is derived from the license id, so a sequence
// executed again sees the same key.
func (r *recordingActivities) MintAndExpand(ctx context.Context, in activities.MintInput) (activities.MintAndExpandResult, error) {
	r.mu.Lock()
	r.mints++
	if r.dlid == "" {
		sum := sha256.Sum256([]byte(in.LicenseID))
		r.dlid = hex.EncodeToString(sum[:16])
	}
	minted := activities.MintResult{DLIDMasked: models.MaskDLID(r.dlid)}
	r.mu.Unlock()
	expanded, err := r.ExpandEntitlements(ctx, activities.ExpandInput{LicenseID: in.LicenseID, Tier: in.Tier})
	return activities.MintAndExpandResult{MintResult: minted, ExpandResult: expanded}, err
}

func (r *recordingActivities) ExpandEntitlements(_ context.Context, in activities.ExpandInput) (activities.ExpandResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range catalogTiers {
		if t.Key != in.Tier {
			continue
		}
		for code, source := range r.ents {
			if source == models.SourceTier {
				delete(r.ents, code)
			}
		}
		for _, code := range t.Products {
			if _, custom := r.ents[code]; !custom {
				r.ents[code] = models.SourceTier
			}
		}
		return activities.ExpandResult{Tier: t.Key, TierName: t.Name, Channels: t.Channels, Entitlements: r.refs()}, nil
	}
	return activities.ExpandResult{}, temporal.NewNonRetryableApplicationError("tier "+in.Tier+" does not exist", "tier_not_found", nil)
}

func (r *recordingActivities) AddEntitlement(_ context.Context, in activities.AddEntitlementInput) (activities.AddEntitlementResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if catalogRepo(in.Product) == "" {
		return activities.AddEntitlementResult{}, temporal.NewNonRetryableApplicationError("product "+in.Product+" does not exist", "product_not_found", nil)
	}
	r.ents[in.Product] = models.SourceCustom
	return activities.AddEntitlementResult{Entitlements: r.refs()}, nil
}

// refs lists the entitlements ordered by repo, as the store answers.
func (r *recordingActivities) refs() []activities.EntitlementRef {
	var out []activities.EntitlementRef
	for code, source := range r.ents {
		out = append(out, activities.EntitlementRef{Product: code, Repo: catalogRepo(code), Source: source})
	}
	slices.SortFunc(out, func(a, b activities.EntitlementRef) int { return strings.Compare(a.Repo, b.Repo) })
	return out
}

// SendLicenseEmail sends nothing: the harness records every email (template,
// idempotency key, workflow time) as the activity starts.
func (r *recordingActivities) SendLicenseEmail(context.Context, activities.EmailInput) (activities.EmailResult, error) {
	return activities.EmailResult{Status: models.EmailHeld}, nil
}

func (r *recordingActivities) IssueInvoice(_ context.Context, in activities.InvoiceInput) (activities.InvoiceResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.invoiced = append(r.invoiced, in.OrderID)
	return activities.InvoiceResult{Number: "INV-" + in.OrderID}, nil
}

func (r *recordingActivities) ProjectLicense(_ context.Context, p models.Projection) (activities.ProjectResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.projections = append(r.projections, p)
	return activities.ProjectResult{}, nil
}

// lastProjection is the license as the database shows it.
func (r *recordingActivities) lastProjection() (models.Projection, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.projections) == 0 {
		return models.Projection{}, false
	}
	return r.projections[len(r.projections)-1], true
}

// activitiesInFlight counts the activities and local activities a workflow
// run has started and not yet seen finish. The model test's callbacks wait
// for zero before they deliver or check anything: the test environment
// fires a timer by the wall clock when activities run long (a loaded
// machine), and a check must see each step fully applied. The count is kept
// by workflow code (an interceptor), so it is exact whenever a callback runs.
type activitiesInFlight struct {
	interceptor.WorkerInterceptorBase
	n int
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
	return o.track(ctx, o.Next.ExecuteActivity(ctx, activityType, args...))
}

func (o *inFlightOutbound) ExecuteLocalActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	return o.track(ctx, o.Next.ExecuteLocalActivity(ctx, activityType, args...))
}

func (o *inFlightOutbound) track(ctx workflow.Context, f workflow.Future) workflow.Future {
	o.c.n++
	workflow.Go(ctx, func(ctx workflow.Context) {
		_ = f.Get(ctx, nil)
		o.c.n--
	})
	return f
}
