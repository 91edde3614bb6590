package workflows

import (
	"slices"
	"time"

	"github.com/licenseflow/licenseflow/activities"
	"github.com/licenseflow/licenseflow/models"
)

// PaidOrder is the paid order that creates a license, as the workflow
// issues it (models.Purchase is what the store records of it).
type PaidOrder struct {
	LicenseID     string
	OrderID       string
	CustomerEmail string
	CustomerName  string
	// Name labels the license (seed 003), e.g. the shop it runs.
	Name       string
	Tier       string
	MaxDomains int
	Months     int
	Lifetime   bool
	// ExpiresAt, when set, is the expiry bought as a date instead of Months
	// from the day of issue.
	ExpiresAt *time.Time
	Type      models.LicenseType
	// Actor is who bought it, for the ledger ("token:crm", "stripe:evt_…");
	// empty means the order itself.
	Actor string
}

// Policy holds the lifecycle windows; zero fields take the defaults.
type Policy struct {
	GracePeriod time.Duration
	Retention   time.Duration
}

func (p Policy) withDefaults() Policy {
	if p.GracePeriod <= 0 {
		p.GracePeriod = models.DefaultGracePeriod
	}
	if p.Retention <= 0 {
		p.Retention = models.DefaultRetention
	}
	return p
}

// LicenseInput starts a license's workflow. A first run carries the
// Purchase; a continued run carries State; a resumed run (a renewal after the
// workflow had closed) has Resume set and loads its state from the database.
type LicenseInput struct {
	Purchase PaidOrder
	Policy   Policy
	State    *LicenseState
	Resume   bool
}

// LicenseResult is how a license's workflow ended.
type LicenseResult struct {
	LicenseID string
	Status    models.LicenseStatus
	Reason    string
}

// LicenseState is everything the workflow knows about its license. It is
// the query answer, the update answer, and the one value carried across
// continue-as-new, so it must stay serializable and bounded.
type LicenseState struct {
	LicenseID     string
	OrderID       string
	CustomerEmail string
	CustomerName  string
	Name          string
	DLIDMasked    string
	Tier          string
	TierName      string
	Type          models.LicenseType
	Status        models.LicenseStatus

	// Issuing steps done so far (a retried or continued run skips them).
	Minted    bool
	Expanded  bool
	Delivered bool
	Invoiced  bool

	Suspended     bool
	SuspendReason string
	Revoked       bool
	RevokeReason  string

	StartsAt   time.Time
	ExpiresAt  *time.Time // nil: lifetime
	GraceUntil *time.Time
	// PeriodStart is where the current paid period began. A correction of
	// the expiry keeps it.
	PeriodStart time.Time
	// RemindFrom is the earliest deadline a reminder is emailed for: the
	// middle of a paid period (a monthly license gets no "30 days left" mail
	// the day after purchase), or the moment of an expiry correction (every
	// reminder still ahead goes out).
	RemindFrom time.Time

	MaxDomains   int
	Channels     []string
	Entitlements []activities.EntitlementRef

	// StepsDone lists the deadlines already handled for the current expiry;
	// a new expiry clears it.
	StepsDone []string
	// ProcessedRefs remembers recent payment refs and request ids, so a
	// redelivered message changes nothing. Bounded by maxProcessedRefs.
	ProcessedRefs []string

	Renewals int
	// TrialRules marks a trial started under the trial rules (no invoice,
	// no grace, a trial-ending notice, converted by a paid renewal); trials
	// issued before those rules keep the rules they started with.
	TrialRules bool
	// Revision increases with every change; the database projection never
	// goes back to an older one.
	Revision int64
	// Run counts continue-as-new generations of this license's workflow.
	Run int
}

// Issued reports that every issuing step is done; messages wait for it.
func (s *LicenseState) Issued() bool { return s.Invoiced }

const maxProcessedRefs = 100

func (s *LicenseState) seen(ref string) bool {
	return ref != "" && slices.Contains(s.ProcessedRefs, ref)
}

func (s *LicenseState) remember(ref string) {
	if ref == "" || s.seen(ref) {
		return
	}
	s.ProcessedRefs = append(s.ProcessedRefs, ref)
	if over := len(s.ProcessedRefs) - maxProcessedRefs; over > 0 {
		s.ProcessedRefs = slices.Clone(s.ProcessedRefs[over:])
	}
}

// statusAt derives the status from the state's facts.
func (s *LicenseState) statusAt(now time.Time) models.LicenseStatus {
	return models.DeriveStatus(models.StatusFacts{
		Issued: s.Minted, Suspended: s.Suspended, Revoked: s.Revoked, ExpiresAt: s.ExpiresAt,
	}, now)
}

// onTrial reports a trial under the trial rules, not yet paid for.
func (s *LicenseState) onTrial() bool { return s.TrialRules && s.Type == models.TypeTrial }

// grace is how long the license validates past its expiry: a trial ends
// when it ends.
func (s *LicenseState) grace(p Policy) time.Duration {
	if s.onTrial() {
		return 0
	}
	return p.GracePeriod
}

// setExpiry starts a new paid period ending at expiresAt.
func (s *LicenseState) setExpiry(periodStart time.Time, expiresAt *time.Time, p Policy) {
	s.PeriodStart = periodStart
	s.moveExpiry(expiresAt, s.grace(p))
	s.RemindFrom = time.Time{}
	if expiresAt != nil {
		s.RemindFrom = periodStart.Add(expiresAt.Sub(periodStart) / 2)
	}
	s.StepsDone = nil
}

// correctExpiry moves the expiry without starting a new period. Deadlines
// already past stay handled; those ahead are armed again, and each of their
// reminders goes out once.
func (s *LicenseState) correctExpiry(now, expiresAt time.Time, p Policy) {
	s.moveExpiry(&expiresAt, s.grace(p))
	s.RemindFrom = now
	var done []string
	for _, d := range s.deadlines(p) {
		if slices.Contains(s.StepsDone, d.Step) && !d.At.After(now) {
			done = append(done, d.Step)
		}
	}
	s.StepsDone = done
}

func (s *LicenseState) moveExpiry(expiresAt *time.Time, grace time.Duration) {
	s.ExpiresAt = expiresAt
	s.GraceUntil = nil
	if expiresAt != nil {
		g := expiresAt.Add(grace)
		s.GraceUntil = &g
	}
}

func (s *LicenseState) projection() models.Projection {
	starts, period := s.StartsAt, s.PeriodStart
	return models.Projection{
		PeriodStart: &period, ProcessedRefs: s.ProcessedRefs,
		LicenseID: s.LicenseID, Revision: s.Revision, Name: s.Name, Status: s.Status, TierKey: s.Tier,
		StartsAt: &starts, ExpiresAt: s.ExpiresAt, GraceUntil: s.GraceUntil,
		MaxDomains: s.MaxDomains, Channels: s.Channels, Renewals: s.Renewals, Type: s.Type,
	}
}

// Deadline steps, in the order they fall. Each is also the timer's summary
// in the workflow history.
const (
	StepReminder30 = models.LedgerReminder30
	StepReminder7  = models.LedgerReminder7
	StepExpired    = models.LedgerExpired
	// StepGraceEnded sends no email: it marks the moment the key stops
	// validating, for the ledger and the license.grace_ended webhook.
	StepGraceEnded     = models.LedgerGraceEnded
	StepRetentionEnded = "retention-ended"
	// StepTrialEnding tells a trial's customer the trial ends soon; a trial
	// has no 30- and 7-day reminders. StepExpiring, silent, is where such a
	// license becomes "expiring".
	StepTrialEnding = models.LedgerTrialEnding
	StepExpiring    = models.LedgerExpiring
)

type deadline struct {
	Step string
	At   time.Time
}

// deadlines lists the current expiry's deadlines, all computed from
// absolute times; a lifetime or revoked license has none.
func (s *LicenseState) deadlines(p Policy) []deadline {
	if s.ExpiresAt == nil || s.Revoked {
		return nil
	}
	exp, grace := *s.ExpiresAt, s.grace(p)
	if s.onTrial() {
		return []deadline{
			{StepExpiring, exp.Add(-models.ExpiringWindow)},
			{StepTrialEnding, exp.Add(-models.TrialEndingNotice)},
			{StepExpired, exp},
			{StepGraceEnded, exp},
			{StepRetentionEnded, exp.Add(p.Retention)},
		}
	}
	return []deadline{
		{StepReminder30, exp.Add(-30 * 24 * time.Hour)},
		{StepReminder7, exp.Add(-7 * 24 * time.Hour)},
		{StepExpired, exp},
		{StepGraceEnded, exp.Add(grace)},
		{StepRetentionEnded, exp.Add(grace + p.Retention)},
	}
}

// nextDeadline returns the first deadline not yet handled. When a later
// deadline is already due too (the worker was down, or a short period
// skipped past a reminder), catchUp is true: the step is recorded without
// its email, so the customer only gets the message that is current. The
// end of grace sends nothing, so it never makes an earlier email stale: a
// worker back after the grace period still sends the expiry email.
func (s *LicenseState) nextDeadline(p Policy, now time.Time) (next deadline, catchUp, ok bool) {
	var pending []deadline
	for _, d := range s.deadlines(p) {
		if !slices.Contains(s.StepsDone, d.Step) {
			pending = append(pending, d)
		}
	}
	if len(pending) == 0 {
		return deadline{}, false, false
	}
	for _, later := range pending[1:] {
		if later.Step != StepGraceEnded {
			catchUp = !later.At.After(now)
			break
		}
	}
	return pending[0], catchUp, true
}

// remindable says whether a reminder due at `at` is emailed (see RemindFrom).
func (s *LicenseState) remindable(at time.Time) bool {
	return s.ExpiresAt != nil && !at.Before(s.RemindFrom)
}
