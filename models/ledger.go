package models

import "time"

// LicenseEvent is one line of a license's ledger: what changed (Field, Old
// → New), why (Action, Note) and who asked (Actor). The license's workflow
// writes it with each projection, so the ledger spans every run of the
// workflow and outlives Temporal's history retention. Rows are only ever
// added. Keys appear masked, never in full.
type LicenseEvent struct {
	ID        uint64    `gorm:"primaryKey;autoIncrement" json:"-"`
	LicenseID string    `gorm:"size:64;not null;uniqueIndex:idx_license_events_revision,priority:1"`
	Revision  int64     `gorm:"not null;uniqueIndex:idx_license_events_revision,priority:2"`
	Seq       int       `gorm:"not null;uniqueIndex:idx_license_events_revision,priority:3"`
	At        time.Time `gorm:"not null"`
	// Actor is who asked: "token:<name>", "admin:<email>", "stripe:<event id>",
	// "order:<id>", "timer:<deadline>", "customer:<email>".
	Actor  string `gorm:"size:320;not null"`
	Action string `gorm:"size:64;not null"`
	// Field is empty for an action that changed no field (a reminder, a
	// dunning email).
	Field string `gorm:"size:64"`
	Old   string `gorm:"size:1000"`
	New   string `gorm:"size:1000"`
	Note  string `gorm:"size:1000"`
}

// Ledger actions that are neither an Action nor a message: the license
// workflow's issuing, its resumption from the database, its deadlines (also
// the names of their timers and emails) and a failed payment. Webhook events
// are derived from them (see LicenseChanges).
const (
	LedgerIssue       = "issue"
	LedgerResume      = "resume"
	LedgerReminder30  = "reminder-30d"
	LedgerReminder7   = "reminder-7d"
	LedgerExpired     = "expired"
	LedgerGraceEnded  = "grace-ended"
	LedgerTrialEnding = "trial-ending"
	// LedgerExpiring marks a license without a 30-day reminder (a trial)
	// entering the last 30 days before its expiry.
	LedgerExpiring      = "expiring"
	LedgerPaymentFailed = "payment-failed"
	// LedgerSuspiciousUsage notes a day of key sharing (SuspiciousUsageNotice).
	LedgerSuspiciousUsage = "suspicious-usage"
)

// LedgerSystemActor marks changes licenseflow made on its own account
// (resuming a closed workflow, a default when a caller named nobody).
const LedgerSystemActor = "system"

// LedgerFilter pages through a license's ledger, newest first.
type LedgerFilter struct {
	LicenseID string
	// Before is the ID of the last event of the previous page (0: first page).
	Before uint64
	Limit  int
}
