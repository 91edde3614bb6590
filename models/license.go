package models

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"strings"
	"time"
)

// LicenseStatus is where a license stands in its lifecycle.
type LicenseStatus string

const (
	StatusPending   LicenseStatus = "pending"
	StatusActive    LicenseStatus = "active"
	StatusExpiring  LicenseStatus = "expiring"
	StatusExpired   LicenseStatus = "expired"
	StatusSuspended LicenseStatus = "suspended"
	StatusRevoked   LicenseStatus = "revoked"
)

// LicenseStatuses lists every status, for validating filters.
var LicenseStatuses = []LicenseStatus{StatusPending, StatusActive, StatusExpiring, StatusExpired, StatusSuspended, StatusRevoked}

// LicenseType separates paid licenses from trials and hand-made ones.
type LicenseType string

const (
	TypeCommercial LicenseType = "commercial"
	TypeTrial      LicenseType = "trial"
	TypeCustom     LicenseType = "custom"
)

// Lifecycle windows.
const (
	// ExpiringWindow is how long before expiry a license counts as expiring.
	ExpiringWindow = 30 * 24 * time.Hour
	// DefaultGracePeriod is how long an expired license still validates (with a warning).
	DefaultGracePeriod = 7 * 24 * time.Hour
	// DefaultRetention is how long after the grace period a license's workflow
	// keeps waiting for a renewal before it closes.
	DefaultRetention = 365 * 24 * time.Hour
)

// License is a customer's right to use a tier's products, identified towards
// installed sites by its DLID, which never changes for the license's life.
type License struct {
	ID   string  `gorm:"primaryKey;size:64" json:"id"`
	DLID *string `gorm:"column:dlid;size:32;uniqueIndex" json:"-"`
	// KeyDigest is the master license's key as stored (MasterKeyDigest):
	// its DLID column stays empty, so the key is nowhere in clear.
	KeyDigest  *string  `gorm:"size:64;uniqueIndex:ux_licenses_key_digest,where:key_digest IS NOT NULL" json:"-"`
	CustomerID string   `gorm:"size:64;not null;index" json:"customer_id"`
	Customer   Customer `gorm:"foreignKey:CustomerID" json:"-"`
	TierKey    string   `gorm:"size:64;not null;index" json:"tier"`
	// Name is the customer's or operator's label for the license (seed
	// 003), e.g. the shop it runs; it is the workflow's to change.
	Name       string        `gorm:"size:200;not null;default:''" json:"name"`
	Status     LicenseStatus `gorm:"size:16;not null;index" json:"status"`
	Type       LicenseType   `gorm:"size:16;not null" json:"type"`
	StartsAt   *time.Time    `json:"starts_at"`
	ExpiresAt  *time.Time    `gorm:"index" json:"expires_at"`
	GraceUntil *time.Time    `json:"grace_until"`
	MaxDomains int           `gorm:"not null" json:"max_domains"`
	Channels   StringList    `gorm:"not null" json:"channels"`
	OrderID    string        `gorm:"size:128;not null;uniqueIndex" json:"order_id"`
	WorkflowID string        `gorm:"size:160;not null" json:"workflow_id"`
	// Stripe links: the customer and the subscription that renews the
	// license; AutoRenew is off once the subscription is cancelled.
	StripeCustomerID     string `gorm:"size:100;not null;index" json:"stripe_customer_id,omitempty"`
	StripeSubscriptionID string `gorm:"size:100;not null;index" json:"stripe_subscription_id,omitempty"`
	// The PayPal or Paddle subscription that renews the license.
	PaymentProvider        PaymentProvider `gorm:"size:16;not null;default:''" json:"payment_provider,omitempty"`
	ProviderSubscriptionID string          `gorm:"size:100;not null;default:'';index" json:"provider_subscription_id,omitempty"`
	AutoRenew              bool            `gorm:"not null" json:"auto_renew"`
	// Renewals counts the renewals applied, kept here so a workflow that
	// resumes the license after it had closed counts on from it.
	Renewals int `gorm:"not null;default:0" json:"renewals"`
	// PeriodStart is where the current paid period began and ProcessedRefs
	// the payment refs and request ids the workflow last remembered: a
	// resumed workflow carries on from both (its reminders fall in the
	// period's second half; a payment redelivered after the resume renews
	// nothing).
	PeriodStart   *time.Time `json:"period_start"`
	ProcessedRefs StringList `gorm:"not null;default:'[]'" json:"-"`
	// Revision is the workflow revision last projected here; older
	// projections arriving late never overwrite newer ones.
	Revision  int64     `gorm:"not null" json:"revision"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `gorm:"index" json:"updated_at"`
}

// Key returns the DLID, or "" before it is minted.
func (l License) Key() string {
	if l.DLID == nil {
		return ""
	}
	return *l.DLID
}

// Lifetime reports a license that never expires.
func (l License) Lifetime() bool { return l.ExpiresAt == nil && l.Status != StatusPending }

// StatusFacts are the facts a license's status is derived from.
type StatusFacts struct {
	Issued    bool
	Suspended bool
	Revoked   bool
	ExpiresAt *time.Time
}

// DeriveStatus is the one rule for a license's status at a moment:
// revoked beats suspended beats pending beats the expiry-driven states.
func DeriveStatus(f StatusFacts, now time.Time) LicenseStatus {
	switch {
	case f.Revoked:
		return StatusRevoked
	case f.Suspended:
		return StatusSuspended
	case !f.Issued:
		return StatusPending
	case f.ExpiresAt == nil:
		return StatusActive
	case !now.Before(*f.ExpiresAt):
		return StatusExpired
	case !now.Before(f.ExpiresAt.Add(-ExpiringWindow)):
		return StatusExpiring
	default:
		return StatusActive
	}
}

// Action is a change an operator, the CRM or a payment asks of a license.
type Action string

const (
	ActionRenew         Action = "renew"
	ActionCorrectExpiry Action = "correct-expiry"
	ActionChangeTier    Action = "change-tier"
	ActionSetMaxDomains Action = "set-max-domains"
	ActionSuspend       Action = "suspend"
	ActionReinstate     Action = "reinstate"
	ActionRevoke        Action = "revoke"
)

// CheckTransition says whether action is allowed on a license in status;
// the error is a Conflict that names what the caller can do instead.
func CheckTransition(status LicenseStatus, action Action) error {
	switch status {
	case StatusRevoked:
		return Conflict("license_revoked", "the license is revoked and revocation is final; issue a new license instead")
	case StatusPending:
		return Conflict("license_pending", "the license is still being issued; retry in a few seconds")
	}
	switch action {
	case ActionSuspend:
		if status == StatusSuspended {
			return Conflict("already_suspended", "the license is already suspended; reinstate it first if you want to suspend it again")
		}
	case ActionReinstate:
		if status != StatusSuspended {
			return Conflict("not_suspended", "the license is %s, not suspended; only a suspended license can be reinstated", status)
		}
	}
	return nil
}

// CheckRenewal refuses what a renewal of l would be refused, before any
// order is recorded: renewing a revoked license, or a lifetime one.
func CheckRenewal(l License) error {
	if err := CheckTransition(l.Status, ActionRenew); err != nil {
		return err
	}
	if l.Lifetime() {
		return Conflict("license_lifetime", "a lifetime license never expires, so there is nothing to renew")
	}
	return nil
}

// CheckAddon refuses what selling product p to license l as an add-on
// would be refused, before any order is recorded; entitled says whether l
// already grants p. An add-on is bought for a paid license that is alive:
// a trial gets add-ons once it is paid for, and the master license has
// every product already.
func CheckAddon(l License, p Product, entitled bool) error {
	if !p.SoldAsAddon() {
		return Invalid("addon_not_for_sale", "product", "product %s is not sold as an add-on (the catalog gives it no add-on price)", p.Code)
	}
	switch {
	case l.Type == TypeMaster:
		return Conflict("master_license", "the master license is entitled to every product already")
	case l.Type == TypeTrial:
		return Conflict("trial_addon", "license %s is a trial; add-ons are sold once the license is paid for", l.ID)
	case entitled:
		return Conflict("already_entitled", "license %s is already entitled to %s", l.ID, p.Code)
	}
	switch l.Status {
	case StatusActive, StatusExpiring:
		return nil
	case StatusExpired:
		return Conflict("license_expired", "license %s has expired; renew it before buying add-ons", l.ID)
	case StatusSuspended:
		return Conflict("license_suspended", "license %s is suspended; add-ons are sold once it is reinstated", l.ID)
	}
	return CheckTransition(l.Status, ActionRenew)
}

// AddMonths adds calendar months, clamping to the last day of a shorter
// month (31 January + 1 month = 28/29 February, not 2/3 March).
func AddMonths(t time.Time, months int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(months), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	lastDay := first.AddDate(0, 1, -1).Day()
	if d > lastDay {
		d = lastDay
	}
	return first.AddDate(0, 0, d-1)
}

// Instant normalizes a timestamp for storage: UTC, whole seconds, so the
// same moment compares equal on PostgreSQL, SQLite and in workflow state.
func Instant(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

var dlidPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// NewDLID returns a fresh download ID: 32 lower-case hex characters from
// crypto/rand.
func NewDLID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// ValidDLID reports whether s has the shape of a DLID.
func ValidDLID(s string) bool { return dlidPattern.MatchString(s) }

// ParseDLID reads a key as a site or Joomla sends it (surrounding spaces,
// any case) and returns it in its canonical form, or ok=false when it
// cannot be a DLID (such a key is never looked up).
func ParseDLID(raw string) (dlid string, ok bool) {
	s := strings.TrimSpace(raw)
	if len(s) != 32 {
		return "", false
	}
	if s = strings.ToLower(s); !ValidDLID(s) {
		return "", false
	}
	return s, true
}

// MaskDLID shows the first and last four characters only (a1b2…9f0e), for
// logs, workflow history and lists.
func MaskDLID(dlid string) string {
	if len(dlid) <= 8 {
		return "…"
	}
	return dlid[:4] + "…" + dlid[len(dlid)-4:]
}

// Mint gives a license its dates and DLID. It is idempotent on the license
// id: a license that already has a DLID is returned unchanged, and a missing
// row (a workflow started without the API) is created.
type Mint struct {
	LicenseID  string
	OrderID    string
	WorkflowID string
	Email      string
	Name       string
	TierKey    string
	Type       LicenseType
	MaxDomains int
	Channels   StringList
	StartsAt   time.Time
	ExpiresAt  *time.Time
	GraceUntil *time.Time
}

// Projection is a license's state as its workflow sees it at a revision.
type Projection struct {
	LicenseID     string
	Revision      int64
	Name          string
	Status        LicenseStatus
	TierKey       string
	StartsAt      *time.Time
	ExpiresAt     *time.Time
	GraceUntil    *time.Time
	MaxDomains    int
	Channels      StringList
	Renewals      int
	PeriodStart   *time.Time
	ProcessedRefs StringList
	// Type, when set, is the license's type now (a trial converts to
	// commercial when it is paid for).
	Type LicenseType
	// Events are the ledger lines of this revision's change.
	Events []LicenseEvent
}

// LicenseFilter narrows a license list; zero fields do not filter.
type LicenseFilter struct {
	Email          string
	Status         LicenseStatus
	Tier           string
	ExpiringWithin time.Duration
	Now            time.Time
	Limit          int
	Cursor         string
}

// LicensePage is one page of a license list; NextCursor is empty on the last page.
type LicensePage struct {
	Licenses   []License
	NextCursor string
}

// CheckLicenseName checks a license's label: one line, at most
// MaxNameLength characters (it is shown in lists, emails and the ledger).
// Callers trim it first; empty clears the label.
func CheckLicenseName(name string) error {
	return CheckLine("name", name, MaxNameLength)
}

// LicenseWorkflowID is the id of a license's workflow; the license id is
// derived from the order id, so one paid order can only ever start one
// workflow.
func LicenseWorkflowID(licenseID string) string { return "license-" + licenseID }
