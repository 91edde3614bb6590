// Package backoffice holds what operators do by hand that the JSON API and
// the admin dashboard both offer: selling a license without a checkout and
// publishing a release. Both rooms call the same code, so a license made
// from a dashboard form passes the same checks as one made by the CRM.
package backoffice

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/lifecycle"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
)

// Office does the operators' manual work on the store and the workflows.
type Office struct {
	Store     *store.Store
	Lifecycle lifecycle.Client
	// ReleasesDir holds uploaded release artifacts.
	ReleasesDir string
	Now         func() time.Time
}

// LicenseRequest is a license sold by hand: the API's "order completed"
// call or the dashboard's new-license form (the API's request converts to
// it field for field).
type LicenseRequest struct {
	UserEmail     string
	Tier          string
	MaxDomains    *int
	ExpiresMonths *int
	ExpiresAt     *string // RFC 3339
	OrderID       string
	CustomerName  string
	Company       string
	Name          string
	Domains       []string
	Type          string
	AmountCents   *int64
	Currency      string
	PaymentRef    string
	// Country (ISO 3166 alpha-2) and VATID set the customer's tax identity.
	Country string
	VATID   string
}

// ErrWorkflowUnavailable: the order is recorded but its license workflow
// did not start; the same request (same order id) finishes it.
var ErrWorkflowUnavailable = errors.New("the workflow service is unreachable")

// Purchase checks a license request and prices it; nothing is written.
// An empty order id is made up.
func (o Office) Purchase(ctx context.Context, req LicenseRequest) (models.Purchase, error) {
	email, err := models.NormalizeEmail(req.UserEmail, "user_email")
	if err != nil {
		return models.Purchase{}, err
	}
	for _, l := range []struct {
		field, value string
		max          int
	}{{"customer_name", req.CustomerName, models.MaxNameLength}, {"company", req.Company, models.MaxNameLength},
		{"payment_ref", req.PaymentRef, models.MaxPaymentRefLength}} {
		if err := models.CheckLine(l.field, l.value, l.max); err != nil {
			return models.Purchase{}, err
		}
	}
	if err := models.CheckLicenseName(strings.TrimSpace(req.Name)); err != nil {
		return models.Purchase{}, err
	}
	country, vatID, err := models.TaxIdentity(req.Country, req.VATID, "country", "vat_id")
	if err != nil {
		return models.Purchase{}, err
	}
	tier, err := o.SellableTier(ctx, req.Tier)
	if err != nil {
		return models.Purchase{}, err
	}
	now := o.Now()
	p := models.Purchase{Country: country, VATID: vatID,
		OrderID: strings.TrimSpace(req.OrderID), Email: email, CustomerName: strings.TrimSpace(req.CustomerName),
		Company: strings.TrimSpace(req.Company), LicenseName: strings.TrimSpace(req.Name), Tier: tier, MaxDomains: tier.MaxDomains, Type: models.TypeCommercial,
		Currency: tier.Currency, PaymentRef: strings.TrimSpace(req.PaymentRef), PaidAt: now,
	}
	if req.MaxDomains != nil {
		if *req.MaxDomains < 1 || *req.MaxDomains > models.MaxDomainsLimit {
			return p, httpx.Invalid("invalid_max_domains", "max_domains", fmt.Sprintf("max_domains must be between 1 and %d", models.MaxDomainsLimit))
		}
		p.MaxDomains = *req.MaxDomains
	}
	months, lifetime := tier.Months()
	if req.ExpiresMonths != nil {
		if lifetime {
			return p, httpx.Invalid("lifetime_tier", "expires_months", fmt.Sprintf("tier %q is a lifetime tier; omit expires_months", tier.Key))
		}
		if *req.ExpiresMonths < 1 || *req.ExpiresMonths > models.MaxTermMonths {
			return p, httpx.Invalid("invalid_expires_months", "expires_months", fmt.Sprintf("expires_months must be between 1 and %d", models.MaxTermMonths))
		}
		months = *req.ExpiresMonths
	}
	if req.ExpiresAt != nil {
		switch {
		case lifetime:
			return p, httpx.Invalid("lifetime_tier", "expires_at", fmt.Sprintf("tier %q is a lifetime tier; omit expires_at", tier.Key))
		case req.ExpiresMonths != nil:
			return p, httpx.Invalid("ambiguous_term", "expires_at", "give either expires_months or expires_at, not both")
		}
		at, err := ParseExpiresAt(*req.ExpiresAt)
		if err != nil {
			return p, err
		}
		if err := models.CheckExplicitExpiry(at, now); err != nil {
			return p, err
		}
		at = models.Instant(at)
		p.ExpiresAt, months = &at, models.MonthsUntil(now, at)
	}
	p.Months, p.Lifetime = months, lifetime
	if p.Domains, err = models.NormalizeDomainList(req.Domains, p.MaxDomains, "domains"); err != nil {
		return p, err
	}
	p.AmountCents = tier.PriceFor(months)
	if req.AmountCents != nil {
		if *req.AmountCents < 0 {
			return p, httpx.Invalid("invalid_amount", "amount_cents", "amount_cents cannot be negative")
		}
		p.AmountCents = *req.AmountCents
	}
	if req.Currency != "" {
		if p.Currency, err = models.NormalizeCurrency(req.Currency, "currency"); err != nil {
			return p, err
		}
	}
	switch models.LicenseType(req.Type) {
	case "":
	case models.TypeCommercial, models.TypeTrial, models.TypeCustom:
		p.Type = models.LicenseType(req.Type)
	default:
		return p, httpx.Invalid("invalid_type", "type", "type must be commercial, trial or custom")
	}
	if p.Type == models.TypeTrial {
		if err := trialTerm(&p, req, now); err != nil {
			return p, err
		}
	}
	if p.OrderID, err = OrderID(req.OrderID); err != nil {
		return p, err
	}
	return p, nil
}

// trialTerm makes a purchase a free trial of its tier: the tier's trial
// length, nothing to pay. A trial is not bought by the month or to a date,
// and is never priced: the renewal that converts it is.
func trialTerm(p *models.Purchase, req LicenseRequest, now time.Time) error {
	switch {
	case p.Tier.TrialDays == 0:
		return httpx.Invalid("trial_unavailable", "type", fmt.Sprintf("tier %q offers no trial (its trial_days is 0)", p.Tier.Key))
	case req.ExpiresMonths != nil || req.ExpiresAt != nil:
		return httpx.Invalid("trial_term", "type", fmt.Sprintf("a trial of tier %q lasts its %d trial days; omit expires_months and expires_at", p.Tier.Key, p.Tier.TrialDays))
	case req.AmountCents != nil && *req.AmountCents != 0:
		return httpx.Invalid("trial_is_free", "amount_cents", "a trial is free; omit amount_cents (the renewal that converts the trial is paid)")
	}
	ends := p.Tier.TrialEnds(now)
	p.Months, p.Lifetime, p.ExpiresAt, p.AmountCents = 0, false, &ends, 0
	return nil
}

// CreateLicense records a checked purchase and starts its license's
// workflow. created is false when the order was recorded before (a retry):
// the license is then the one that order made, as it is now.
func (o Office) CreateLicense(ctx context.Context, p models.Purchase) (models.Order, models.License, bool, error) {
	order, license, created, err := o.Store.RecordPurchase(ctx, p)
	if err != nil {
		return order, license, false, err
	}
	if err := o.Lifecycle.StartLicense(ctx, license, order, p.Tier, p.CustomerName); err != nil {
		return order, license, created, fmt.Errorf("%w: order %s: %v", ErrWorkflowUnavailable, order.ID, err)
	}
	if !created {
		license, err = o.Store.GetLicense(ctx, license.ID)
	}
	return order, license, created, err
}

// SellableTier finds an active tier; an unknown tier is a problem on the
// tier field, with the tiers that do exist.
func (o Office) SellableTier(ctx context.Context, key string) (models.Tier, error) {
	if strings.TrimSpace(key) == "" {
		return models.Tier{}, httpx.Invalid("missing_tier", "tier", "tier is required, e.g. \"pos\"")
	}
	if err := models.CheckLine("tier", key, 64); err != nil {
		return models.Tier{}, err
	}
	tier, err := o.Store.GetTier(ctx, key)
	if p, ok := models.AsProblem(err); ok {
		return tier, httpx.Invalid(p.Code, "tier", p.Message)
	}
	if err != nil {
		return tier, err
	}
	if !tier.Active {
		return tier, httpx.Invalid("tier_inactive", "tier", fmt.Sprintf("tier %q is no longer sold", tier.Key))
	}
	return tier, nil
}

var orderIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$`)

// OrderID checks a caller's order id, or makes one up when there is none.
func OrderID(raw string) (string, error) {
	id := strings.TrimSpace(raw)
	if id == "" {
		return models.NewOrderID(), nil
	}
	if !orderIDPattern.MatchString(id) {
		return "", httpx.Invalid("invalid_order_id", "order_id", "order_id must be 1-128 letters, digits or . _ : / -, starting with a letter or digit")
	}
	return id, nil
}

// ParseExpiresAt reads an explicit expiry.
func ParseExpiresAt(raw string) (time.Time, error) {
	at, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return at, httpx.Invalid("invalid_expires_at", "expires_at", "expires_at must be an RFC 3339 time such as 2027-01-31T00:00:00Z")
	}
	return at, nil
}

// TooLarge is the answer to an upload over MaxArtifactBytes.
func TooLarge() error {
	return httpx.NewError(http.StatusRequestEntityTooLarge, "file_too_large", "file", "the upload is larger than 1 GiB")
}
