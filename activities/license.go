package activities

import (
	"context"
	"time"

	"github.com/licenseflow/licenseflow/models"
)

// MintInput describes the license to mint.
type MintInput struct {
	LicenseID  string
	OrderID    string
	WorkflowID string
	Email      string
	Name       string
	Tier       string
	Type       models.LicenseType
	MaxDomains int
	StartsAt   time.Time
	ExpiresAt  *time.Time
	GraceUntil *time.Time
}

// MintResult never carries the full key: workflow history is readable by
// every operator, the key stays in the database.
type MintResult struct {
	DLIDMasked string
}

// MintAndExpandResult is a minted license and its entitlements.
type MintAndExpandResult struct {
	MintResult
	ExpandResult
}

// MintAndExpand mints the license's DLID (or returns the existing one) and
// expands its tier's entitlements in one transaction: the first step of a
// purchase, run as a local activity. An unknown tier fails permanently with
// type tier_not_found and leaves the license unminted.
func (a *Activities) MintAndExpand(ctx context.Context, in MintInput) (MintAndExpandResult, error) {
	l, tier, all, err := a.Store.MintWithEntitlements(ctx, in.mint())
	if err != nil {
		return MintAndExpandResult{}, permanent(err)
	}
	return MintAndExpandResult{
		MintResult:   MintResult{DLIDMasked: models.MaskDLID(l.Key())},
		ExpandResult: ExpandResult{Tier: tier.Key, TierName: tier.Name, Channels: tier.Channels, Entitlements: refs(all)},
	}, nil
}

func (in MintInput) mint() models.Mint {
	return models.Mint{
		LicenseID: in.LicenseID, OrderID: in.OrderID, WorkflowID: in.WorkflowID, Email: in.Email, Name: in.Name,
		TierKey: in.Tier, Type: in.Type, MaxDomains: in.MaxDomains,
		StartsAt: in.StartsAt, ExpiresAt: in.ExpiresAt, GraceUntil: in.GraceUntil,
	}
}

// ExpandInput names the license and the tier to expand.
type ExpandInput struct {
	LicenseID string
	Tier      string
}

// EntitlementRef is an entitlement as the workflow tracks it.
type EntitlementRef struct {
	Product string
	Repo    string
	Source  models.EntitlementSource
}

// ExpandResult is the tier as applied and the license's entitlements.
type ExpandResult struct {
	Tier         string
	TierName     string
	Channels     []string
	Entitlements []EntitlementRef
}

// ExpandEntitlements rebuilds the license's tier entitlements (custom
// add-ons survive). An unknown tier fails permanently with type tier_not_found.
func (a *Activities) ExpandEntitlements(ctx context.Context, in ExpandInput) (ExpandResult, error) {
	tier, all, err := a.Store.SetEntitlements(ctx, in.LicenseID, in.Tier)
	if err != nil {
		return ExpandResult{}, permanent(err)
	}
	return ExpandResult{Tier: tier.Key, TierName: tier.Name, Channels: tier.Channels, Entitlements: refs(all)}, nil
}

func refs(es []models.Entitlement) []EntitlementRef {
	out := make([]EntitlementRef, len(es))
	for i, e := range es {
		out[i] = EntitlementRef{Product: e.ProductCode, Repo: e.Repo, Source: e.Source}
	}
	return out
}

// ProjectResult is empty: a projection either is stored or fails (and is
// retried).
type ProjectResult struct{}

// ProjectLicense writes the workflow's view of a license and the change's
// ledger lines to the database, so lists and dashboards never need a running
// worker. Run as a local activity.
func (a *Activities) ProjectLicense(ctx context.Context, p models.Projection) (ProjectResult, error) {
	return ProjectResult{}, a.Store.ProjectLicense(ctx, p)
}

// LoadInput names a license to load.
type LoadInput struct {
	LicenseID string
}

// LoadResult is a stored license, for resuming a lifecycle whose workflow
// had closed (a renewal long after expiry).
type LoadResult struct {
	LicenseID     string
	OrderID       string
	DLIDMasked    string
	CustomerEmail string
	Name          string
	Tier          string
	Type          models.LicenseType
	Status        models.LicenseStatus
	StartsAt      *time.Time
	ExpiresAt     *time.Time
	MaxDomains    int
	Channels      []string
	Entitlements  []EntitlementRef
	// Renewals and Revision are the last projected ones; the resumed
	// workflow counts on from them.
	Renewals int
	Revision int64
	// PeriodStart and ProcessedRefs are the last projected ones (nil and
	// empty for a license last projected before they were kept).
	PeriodStart   *time.Time
	ProcessedRefs []string
}

// LoadLicense reads a license and its entitlements.
func (a *Activities) LoadLicense(ctx context.Context, in LoadInput) (LoadResult, error) {
	l, err := a.Store.GetLicense(ctx, in.LicenseID)
	if err != nil {
		return LoadResult{}, permanent(err)
	}
	ents, err := a.Store.GetEntitlements(ctx, l.ID)
	if err != nil {
		return LoadResult{}, err
	}
	return LoadResult{
		LicenseID: l.ID, OrderID: l.OrderID, DLIDMasked: models.MaskDLID(l.Key()), CustomerEmail: l.Customer.Email,
		Name: l.Name, Tier: l.TierKey, Type: l.Type, Status: l.Status, StartsAt: l.StartsAt, ExpiresAt: l.ExpiresAt,
		MaxDomains: l.MaxDomains, Channels: l.Channels, Entitlements: refs(ents), Renewals: l.Renewals, Revision: l.Revision,
		PeriodStart: l.PeriodStart, ProcessedRefs: l.ProcessedRefs,
	}, nil
}

// EntitlementInput names the license and the product to add or remove.
type EntitlementInput struct {
	LicenseID string
	Product   string
}

// EntitlementsResult is every entitlement of the license after the change.
type EntitlementsResult struct {
	Entitlements []EntitlementRef
}

// AddEntitlement grants a custom add-on and returns all entitlements.
func (a *Activities) AddEntitlement(ctx context.Context, in EntitlementInput) (EntitlementsResult, error) {
	if _, err := a.Store.AddCustomEntitlement(ctx, in.LicenseID, in.Product); err != nil {
		return EntitlementsResult{}, permanent(err)
	}
	all, err := a.Store.GetEntitlements(ctx, in.LicenseID)
	return EntitlementsResult{Entitlements: refs(all)}, err
}

// RemoveEntitlement takes back a custom add-on (the tier's products stay)
// and returns all entitlements.
func (a *Activities) RemoveEntitlement(ctx context.Context, in EntitlementInput) (EntitlementsResult, error) {
	all, err := a.Store.RemoveCustomEntitlement(ctx, in.LicenseID, in.Product)
	if err != nil {
		return EntitlementsResult{}, permanent(err)
	}
	return EntitlementsResult{Entitlements: refs(all)}, nil
}
