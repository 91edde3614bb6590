package models

import (
	"slices"
	"time"
)

// Validation codes, in the order they are checked.
const (
	CodeNotFound           = "NOT_FOUND"
	CodeRevoked            = "REVOKED"
	CodeSuspended          = "SUSPENDED"
	CodeNotEntitled        = "NOT_ENTITLED"
	CodeDomainRequired     = "DOMAIN_REQUIRED"
	CodeDomainNotActivated = "DOMAIN_NOT_ACTIVATED"
	CodeTooManyDomains     = "TOO_MANY_DOMAINS"
	CodeExpired            = "EXPIRED"
	CodeValid              = "VALID"

	// DetailInGrace accompanies EXPIRED while the grace period runs (valid).
	DetailInGrace = "IN_GRACE"
)

// ValidationFacts are what a validation answer is decided from.
type ValidationFacts struct {
	// License is nil when the key matches no license.
	License *License
	// Entitled lists the repos (and product codes) the license grants.
	Entitled []string
	// Product is the product asked about ("" = any).
	Product string
	// Domain is the normalized domain asked about ("" = no domain check).
	Domain string
	// DomainRequired says Product serves activated domains only, so a
	// request without Domain is refused.
	DomainRequired bool
	// ActiveDomains are the license's active domains.
	ActiveDomains []string
	// StagingDomains are the active domains that are staging copies: they
	// take no domain slot.
	StagingDomains []string
	// DomainIsStaging says Domain is a staging copy, which can always be
	// activated (never TOO_MANY_DOMAINS).
	DomainIsStaging bool
	Now             time.Time
}

// Decision is a validation answer: whether the key may be used (Valid) and
// why (Code, Detail); valid and code are separate because an expired
// license in its grace period is valid with code EXPIRED.
type Decision struct {
	Valid  bool
	Code   string
	Detail string
}

// Decide applies the checks in their fixed order: NOT_FOUND, REVOKED,
// SUSPENDED, NOT_ENTITLED, DOMAIN_REQUIRED, DOMAIN_NOT_ACTIVATED / TOO_MANY_DOMAINS,
// EXPIRED (valid during the grace period, detail IN_GRACE), VALID.
func Decide(f ValidationFacts) Decision {
	l := f.License
	switch {
	case l == nil || l.Status == StatusPending:
		return Decision{Code: CodeNotFound, Detail: "no license has this key"}
	case l.Status == StatusRevoked:
		return Decision{Code: CodeRevoked, Detail: "the license was revoked"}
	case l.Status == StatusSuspended:
		return Decision{Code: CodeSuspended, Detail: "the license is suspended; contact the vendor"}
	case f.Product != "" && !slices.Contains(f.Entitled, f.Product):
		return Decision{Code: CodeNotEntitled, Detail: "the license does not include " + f.Product}
	case f.DomainRequired && f.Domain == "":
		return Decision{Code: CodeDomainRequired, Detail: f.Product + " is served to activated domains only: send the site's domain"}
	}
	if f.Domain != "" && !slices.Contains(f.ActiveDomains, f.Domain) {
		if !f.DomainIsStaging && len(f.ActiveDomains)-len(f.StagingDomains) >= l.MaxDomains {
			return Decision{Code: CodeTooManyDomains, Detail: "every domain slot is in use; deactivate a domain first"}
		}
		return Decision{Code: CodeDomainNotActivated, Detail: "activate this domain first"}
	}
	if l.ExpiresAt != nil && !f.Now.Before(*l.ExpiresAt) {
		if l.GraceUntil != nil && f.Now.Before(*l.GraceUntil) {
			return Decision{Valid: true, Code: CodeExpired, Detail: DetailInGrace}
		}
		return Decision{Code: CodeExpired, Detail: "the license expired; renew it to keep receiving updates"}
	}
	return Decision{Valid: true, Code: CodeValid}
}

// SiteLicense is what a site-facing request needs to know about a key: the
// license, its entitlements and its active domains, read in one go. One
// from the site cache shares its slices and map with every request: replace
// them, never change them in place.
type SiteLicense struct {
	License       License
	Entitled      []string // repos and product codes
	Entitlements  []Entitlement
	ActiveDomains []string
	// StagingDomains are the active domains that take no slot.
	StagingDomains []string
	// LastSeen is when each active domain was last seen, as stored when
	// this was read.
	LastSeen map[string]time.Time
}

// SlotsInUse counts the active domains that take a domain slot.
func (sl SiteLicense) SlotsInUse() int { return len(sl.ActiveDomains) - len(sl.StagingDomains) }
