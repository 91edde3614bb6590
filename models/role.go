package models

import (
	"slices"
	"strings"
)

// Role is what a dashboard operator (or an API token created for one) may
// do. Owners may do everything; support staff look after licenses and
// customers but do not change what is sold, what it costs, who may sign in
// or where licenseflow sends data.
type Role string

const (
	RoleOwner   Role = "owner"
	RoleSupport Role = "support"
)

// Roles lists every role, for validating requests.
var Roles = []Role{RoleOwner, RoleSupport}

// Permission is one thing the dashboard lets an operator do.
type Permission string

const (
	// PermView reads the dashboard: sales and money figures, customers,
	// licenses, orders, invoices, the outbox and the catalog.
	PermView Permission = "view"
	// PermLicenseCare suspends and reinstates licenses and manages their
	// domains (deactivate one, set the list).
	PermLicenseCare Permission = "license_care"
	// PermLicenseAdmin creates licenses by hand, revokes them and changes
	// what a license is worth: goodwill extensions, expiry corrections,
	// tier changes, extra entitlements.
	PermLicenseAdmin Permission = "license_admin"
	// PermCatalog creates and edits tiers and products.
	PermCatalog Permission = "catalog"
	// PermReleases publishes releases.
	PermReleases Permission = "releases"
	// PermWebhooks lists and changes webhook endpoints (they say where
	// licenseflow sends customer data).
	PermWebhooks Permission = "webhooks"
	// PermSignInEmails reads sign-in emails in the outbox: without SMTP
	// their links work for 15 minutes, an owner's included.
	PermSignInEmails Permission = "sign_in_emails"
)

// roleGrants is the one table of who may do what; an owner may do all.
var roleGrants = map[Role][]Permission{
	RoleSupport: {PermView, PermLicenseCare},
}

// Can reports whether the role grants p.
func (r Role) Can(p Permission) bool {
	return r == RoleOwner || slices.Contains(roleGrants[r], p)
}

// ParseRole validates a role name.
func ParseRole(name string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(name)))
	if !slices.Contains(Roles, r) {
		return "", Invalid("invalid_role", "role", "role %s does not exist; known roles: owner, support", quoted(name))
	}
	return r, nil
}

// Scopes are the API token scopes that amount to the role: an owner's
// token is an admin token; a support token reads licenses and makes the
// support changes (suspend, reinstate, renew, domains), nothing else.
func (r Role) Scopes() StringList {
	if r == RoleOwner {
		return StringList{string(ScopeAdmin)}
	}
	return StringList{string(ScopeLicensesRead), string(ScopeLicensesSupport)}
}

// TokenRole is the dashboard role an API token's scopes amount to: admin
// is an owner; a token that reads licenses and may change them (support
// or write scope) is support; any other token opens no dashboard.
func TokenRole(t APIToken) (Role, bool) {
	switch {
	case t.Allows(ScopeAdmin):
		return RoleOwner, true
	case t.Allows(ScopeLicensesRead) && (t.Allows(ScopeLicensesSupport) || t.Allows(ScopeLicensesWrite)):
		return RoleSupport, true
	}
	return "", false
}
