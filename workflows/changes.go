package workflows

import (
	"context"
	"errors"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/licenseflow/licenseflow/activities"
	"github.com/licenseflow/licenseflow/models"
)

func (l *license) validateRenew(ctx workflow.Context, r models.RenewRequest) error {
	now := workflow.Now(ctx)
	lifetime := l.st.ExpiresAt == nil && (l.st.Minted || l.purchase.Lifetime)
	switch {
	case lifetime:
		return rejection(models.Conflict("license_lifetime", "a lifetime license never expires, so there is nothing to renew"))
	case l.st.onTrial() && r.OrderID == "":
		return rejection(models.Conflict("trial_needs_payment", "a trial becomes a paid license only with a paid order; renew it with an order (the CRM's renewal, a checkout) or correct its expiry to lengthen the trial"))
	case r.ExpiresAt == nil && (r.Months < 1 || r.Months > models.MaxTermMonths):
		return rejection(models.Invalid("invalid_months", "expires_months", "renew by 1 to %d months, or give an explicit expires_at", models.MaxTermMonths))
	case r.ExpiresAt != nil && r.Months != 0:
		return rejection(models.Invalid("ambiguous_renewal", "expires_at", "give either months or expires_at, not both"))
	case r.ExpiresAt != nil:
		return rejection(models.CheckExplicitExpiry(*r.ExpiresAt, now))
	}
	return nil
}

// renew extends the expiry on the same DLID: from the current expiry while
// it is ahead, from now once it has passed; a paid order is invoiced.
func (l *license) renew(ctx workflow.Context, r models.RenewRequest) error {
	invoice, err := l.invoiceRenewal(ctx, r)
	if err != nil {
		return err
	}
	l.applyRenewal(ctx, r, invoice)
	return nil
}

// invoiceRenewal bills a renewal's paid order; it changes no state, so a
// change that fails after it leaves the license as it was (and the retry
// finds the same invoice).
func (l *license) invoiceRenewal(ctx workflow.Context, r models.RenewRequest) (string, error) {
	if r.OrderID == "" {
		return "", nil
	}
	number, err := l.invoice(ctx, r.OrderID)
	return number, asRejection(err)
}

// applyRenewal starts the next paid period, from the current expiry while it
// is ahead, from now once it has passed. A renewal never shortens the
// license: one that would (a payment period ending before an expiry an
// operator moved further out) is counted and invoiced but leaves the expiry.
func (l *license) applyRenewal(ctx workflow.Context, r models.RenewRequest, invoice string) {
	now := models.Instant(workflow.Now(ctx))
	start := now
	if l.st.ExpiresAt != nil && l.st.ExpiresAt.After(now) {
		start = *l.st.ExpiresAt
	}
	expires := models.AddMonths(start, r.Months)
	if r.ExpiresAt != nil {
		expires = models.Instant(*r.ExpiresAt)
	}
	if l.st.onTrial() { // paid for: the trial becomes a license, on the same DLID, with its grace
		l.st.Type = models.TypeCommercial
		l.st.moveExpiry(l.st.ExpiresAt, l.st.grace(l.policy))
	}
	if l.st.ExpiresAt == nil || expires.After(*l.st.ExpiresAt) {
		l.st.setExpiry(start, &expires, l.policy)
		l.outbox = append(l.outbox, outgoingEmail{template: activities.TemplateRenewed, step: "renewed/" + l.expiryKey()})
	}
	l.st.Renewals++
	l.st.remember(r.PaymentRef)
	l.renewed = true
	if invoice != "" {
		l.outbox = append(l.outbox, outgoingEmail{template: activities.TemplateInvoice, step: "invoice/" + r.OrderID, invoice: invoice})
		l.cause.note = "invoice " + invoice
	}
}

func (l *license) validateCorrection(ctx workflow.Context, r models.CorrectExpiryRequest) error {
	now := workflow.Now(ctx)
	switch {
	case l.st.ExpiresAt == nil && (l.st.Minted || l.purchase.Lifetime):
		return rejection(models.Conflict("license_lifetime", "a lifetime license never expires, so its expiry cannot be moved"))
	case r.ExpiresAt.IsZero():
		return rejection(models.Invalid("missing_expires_at", "expires_at", "give the new expires_at"))
	}
	return rejection(models.CheckExplicitExpiry(r.ExpiresAt, now))
}

// correctExpiry moves the expiry, earlier or later, without a renewal: the
// period start and the renewal count stay, no renewal email goes out, and
// the deadline timer is re-armed against the new expiry.
func (l *license) correctExpiry(ctx workflow.Context, r models.CorrectExpiryRequest) error {
	to := models.Instant(r.ExpiresAt)
	if l.st.ExpiresAt == nil || !l.st.ExpiresAt.Equal(to) {
		l.st.correctExpiry(models.Instant(workflow.Now(ctx)), to, l.policy)
	}
	l.cause.note = r.Reason
	return nil
}

func (l *license) validateChangeTier(_ workflow.Context, r models.ChangeTierRequest) error {
	tier := strings.ToLower(strings.TrimSpace(r.Tier))
	switch {
	case tier == "":
		return rejection(models.Invalid("missing_tier", "tier", "give the tier to move the license to"))
	case tier == l.st.Tier:
		return rejection(models.Conflict("same_tier", "the license is already on tier %q", tier))
	}
	return nil
}

// changeTier moves the license to another tier and rebuilds its tier
// entitlements; custom add-ons survive.
func (l *license) changeTier(ctx workflow.Context, r models.ChangeTierRequest) error {
	var got activities.ExpandResult
	err := workflow.ExecuteActivity(withActivity(ctx, "expand entitlements"), a.ExpandEntitlements,
		activities.ExpandInput{LicenseID: l.st.LicenseID, Tier: strings.ToLower(strings.TrimSpace(r.Tier))}).Get(ctx, &got)
	if err != nil {
		return asRejection(err)
	}
	l.st.Tier, l.st.TierName, l.st.Channels, l.st.Entitlements = got.Tier, got.TierName, got.Channels, got.Entitlements
	return nil
}

func (l *license) validateMaxDomains(_ workflow.Context, r models.SetMaxDomainsRequest) error {
	switch {
	case r.MaxDomains < 1 || r.MaxDomains > models.MaxDomainsLimit:
		return rejection(models.Invalid("invalid_max_domains", "max_domains", "max_domains must be between 1 and %d", models.MaxDomainsLimit))
	case r.MaxDomains < r.ActiveDomains:
		return rejection(models.Conflict("domains_in_use",
			"%d domains are active; deactivate %d of them before lowering max_domains to %d",
			r.ActiveDomains, r.ActiveDomains-r.MaxDomains, r.MaxDomains))
	}
	return nil
}

func (l *license) setMaxDomains(_ workflow.Context, r models.SetMaxDomainsRequest) error {
	l.st.MaxDomains = r.MaxDomains
	return nil
}

func (l *license) suspend(_ workflow.Context, r models.SuspendRequest) error {
	l.st.Suspended, l.st.SuspendReason = true, r.Reason
	l.cause.note = r.Reason
	return nil
}

func (l *license) reinstate(workflow.Context, models.ReinstateRequest) error {
	l.st.Suspended, l.st.SuspendReason = false, ""
	return nil
}

func (l *license) revoke(_ workflow.Context, r models.RevokeRequest) error {
	l.st.Revoked, l.st.RevokeReason = true, r.Reason
	l.cause.note = r.Reason
	return nil
}

// asRejection turns an activity's permanent failure (an unknown tier, an
// unpaid order) into a rejection with the activity's code, so the caller
// sees why; other errors pass through.
func asRejection(err error) error {
	var app *temporal.ApplicationError
	if err == nil || !errors.As(err, &app) || !app.NonRetryable() {
		return err
	}
	return temporal.NewApplicationErrorWithOptions(app.Message(), RejectInvalidValue, temporal.ApplicationErrorOptions{
		NonRetryable: true, Details: []any{app.Type(), ""},
	})
}

// correctionOf is the expiry correction a patch asks for.
func correctionOf(p models.PatchRequest) models.CorrectExpiryRequest {
	return models.CorrectExpiryRequest{ExpiresAt: *p.ExpiresAt, Reason: p.Reason}
}

func (l *license) validatePatch(ctx workflow.Context, p models.PatchRequest) error {
	if p.Name == nil && p.Tier == "" && p.MaxDomains == nil && p.Renew == nil && p.ExpiresAt == nil && p.Status == "" {
		return rejection(models.Invalid("empty_patch", "", "give at least one of name, expires_months, expires_at, tier, max_domains, status"))
	}
	if p.Name != nil {
		if err := models.CheckLicenseName(*p.Name); err != nil {
			return rejection(err)
		}
	}
	if p.Renew != nil && p.ExpiresAt != nil {
		return rejection(models.Invalid("ambiguous_renewal", "expires_at", "give either expires_months (a renewal) or expires_at (a correction), not both"))
	}
	checks := []func() error{}
	if p.Tier != "" {
		checks = append(checks,
			func() error { return l.checkTransition(ctx, models.ActionChangeTier) },
			func() error { return l.validateChangeTier(ctx, models.ChangeTierRequest{Tier: p.Tier}) })
	}
	if p.MaxDomains != nil {
		checks = append(checks, func() error { return l.validateMaxDomains(ctx, *p.MaxDomains) })
	}
	if p.Renew != nil && !l.st.seen(p.Renew.PaymentRef) {
		checks = append(checks, func() error { return l.validateRenew(ctx, *p.Renew) })
	}
	if p.ExpiresAt != nil {
		checks = append(checks, func() error { return l.validateCorrection(ctx, correctionOf(p)) })
	}
	switch p.Status {
	case "":
	case models.StatusSuspended:
		checks = append(checks, func() error { return l.checkTransition(ctx, models.ActionSuspend) })
	case models.StatusActive:
		if l.st.Suspended {
			checks = append(checks, func() error { return l.checkTransition(ctx, models.ActionReinstate) })
		}
	case models.StatusRevoked:
		checks = append(checks, func() error { return l.checkTransition(ctx, models.ActionRevoke) })
	default:
		return rejection(models.Invalid("invalid_status", "status", "status can be set to active (reinstate), suspended or revoked, not %q", p.Status))
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (l *license) patch(ctx workflow.Context, p models.PatchRequest) error {
	renew := p.Renew != nil && !l.st.seen(p.Renew.PaymentRef)
	var invoice string
	if renew {
		var err error
		if invoice, err = l.invoiceRenewal(ctx, *p.Renew); err != nil {
			return err
		}
	}
	if p.Tier != "" { // the last step that can fail; everything after it is plain state
		if err := l.changeTier(ctx, models.ChangeTierRequest{Tier: p.Tier}); err != nil {
			return err
		}
	}
	if p.MaxDomains != nil {
		l.st.MaxDomains = p.MaxDomains.MaxDomains
	}
	if p.Name != nil {
		l.st.Name = *p.Name
	}
	if renew {
		l.applyRenewal(ctx, *p.Renew, invoice)
	}
	if p.ExpiresAt != nil {
		if err := l.correctExpiry(ctx, correctionOf(p)); err != nil {
			return err
		}
	}
	switch p.Status {
	case models.StatusSuspended:
		l.st.Suspended, l.st.SuspendReason = true, p.Reason
	case models.StatusActive:
		l.st.Suspended, l.st.SuspendReason = false, ""
	case models.StatusRevoked:
		l.st.Revoked, l.st.RevokeReason = true, p.Reason
	}
	return nil
}

// paymentFailed asks the customer to fix a failed renewal payment; the
// license itself does not change (its expiry reminders keep running).
func (l *license) paymentFailed(_ workflow.Context, r models.PaymentFailedRequest) error {
	l.outbox = append(l.outbox, outgoingEmail{
		template: activities.TemplatePaymentFailed, step: "payment-failed/" + r.EventID,
		amountDue: r.AmountDue, paymentURL: r.PaymentURL,
	})
	return nil
}

// suspiciousUsage notes a day of key sharing in the ledger, which tells
// the CRM (license.suspicious_usage); the license itself does not change.
func (l *license) suspiciousUsage(_ workflow.Context, r models.SuspiciousUsageNotice) error {
	l.cause.note = r.Summary()
	return nil
}

func (l *license) validateAddEntitlement(_ workflow.Context, r models.AddEntitlementRequest) error {
	if strings.TrimSpace(r.Product) == "" {
		return rejection(models.Invalid("missing_product", "product", "give the product code to add"))
	}
	return nil
}

// addEntitlement grants a product as a custom add-on (kept across tier
// changes); an unknown product is refused with the activity's reason. A
// bought add-on (r.OrderID) is invoiced once granted, and the customer
// gets the invoice.
func (l *license) addEntitlement(ctx workflow.Context, r models.AddEntitlementRequest) error {
	if err := l.changeEntitlements(ctx, "add entitlement", a.AddEntitlement, r.Product); err != nil {
		return err
	}
	if r.OrderID == "" {
		return nil
	}
	// Granting again is a no-op, so a retry after a failed invoice finds
	// the product granted and the same invoice.
	number, err := l.invoice(ctx, r.OrderID)
	if err != nil {
		return asRejection(err)
	}
	l.outbox = append(l.outbox, outgoingEmail{template: activities.TemplateInvoice, step: "invoice/" + r.OrderID, invoice: number})
	l.cause.note = "invoice " + number
	return nil
}

func (l *license) validateRemoveEntitlement(_ workflow.Context, r models.RemoveEntitlementRequest) error {
	if strings.TrimSpace(r.Product) == "" {
		return rejection(models.Invalid("missing_product", "product", "give the product code to remove"))
	}
	return rejection(models.CheckLine("reason", r.Reason, models.MaxReasonLength))
}

// removeEntitlement takes back a custom add-on (a refunded one, or a grant
// withdrawn); the tier's products stay. The ledger notes the reason.
func (l *license) removeEntitlement(ctx workflow.Context, r models.RemoveEntitlementRequest) error {
	if err := l.changeEntitlements(ctx, "remove entitlement", a.RemoveEntitlement, r.Product); err != nil {
		return err
	}
	l.cause.note = r.Reason
	return nil
}

// changeEntitlements runs the activity that adds or removes product and
// keeps the entitlements it answers; its refusal (an unknown product, a
// tier's own) is the change's.
func (l *license) changeEntitlements(ctx workflow.Context, step string,
	activity func(context.Context, activities.EntitlementInput) (activities.EntitlementsResult, error), product string,
) error {
	var got activities.EntitlementsResult
	err := workflow.ExecuteActivity(withActivity(ctx, step), activity,
		activities.EntitlementInput{LicenseID: l.st.LicenseID, Product: strings.TrimSpace(product)}).Get(ctx, &got)
	if err != nil {
		return asRejection(err)
	}
	l.st.Entitlements = got.Entitlements
	return nil
}
