package workflows_test

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/workflows"
)

// lifecycleModel is the license as README "How a license lives", DESIGN §3
// and the message types' documentation describe it, in plain Go: no
// Temporal, no store, and none of the workflow's own rule functions (which
// it exists to check). It uses time arithmetic and the tier catalog only.
// The model test drives it beside LicenseWorkflow and compares the two
// after every step.
type lifecycleModel struct {
	orderID  string
	lifetime bool
	tier     string
	// custom lists the products granted as add-ons; they survive tier changes.
	custom     []string
	maxDomains int

	// periodStart is where the current paid period began; a correction of
	// the expiry keeps it.
	periodStart time.Time
	expires     time.Time // zero for a lifetime license
	// remindFrom: reminders go out only for deadlines from here on: the
	// middle of the paid period, or the moment of a correction.
	remindFrom time.Time
	// handled holds the deadlines already reached for the current expiry.
	handled map[string]bool

	suspended bool
	revoked   bool
	// closed: the workflow has ended (revoked, or retention ran out).
	closed   bool
	renewals int
	// refs are the payment refs, event ids and request ids already applied.
	refs map[string]bool

	emails   []modelEmail
	invoices []string // the orders invoiced, once per invoice
	now      time.Time
}

// modelEmail is one email as the activity boundary sees it: its template,
// its idempotency step (without the workflow id) and when it was sent.
type modelEmail struct {
	Template string
	Step     string
	At       time.Time
}

// The documented windows.
const (
	modelReminder30 = 30 * day
	modelReminder7  = 7 * day
	modelExpiring   = 30 * day // status "expiring" from 30 days before expiry
	modelGrace      = 7 * day
	modelRetention  = 365 * day
	modelMaxAhead   = 10 * 365 * day
	modelMaxMonths  = 120
	modelMaxDomains = 10000
)

// Deadline steps; the reminder and expiry steps are also their email templates.
const (
	stepReminder30 = "reminder-30d"
	stepReminder7  = "reminder-7d"
	stepExpired    = "expired"
	stepGraceEnded = "grace-ended"
	stepRetention  = "retention-ended"
)

// newLifecycleModel is the license right after its purchase at `at`: the
// key delivered, the order invoiced, the first paid period started.
func newLifecycleModel(p workflows.PaidOrder, at time.Time) *lifecycleModel {
	m := &lifecycleModel{
		orderID: p.OrderID, lifetime: p.Lifetime, tier: p.Tier, maxDomains: p.MaxDomains,
		handled: map[string]bool{}, refs: map[string]bool{}, now: at,
	}
	start := at.Truncate(time.Second)
	if !p.Lifetime {
		m.startPeriod(start, calendarMonthsLater(start, p.Months))
	}
	m.send("delivery", "delivery")
	m.invoice(p.OrderID)
	return m
}

// calendarMonthsLater adds calendar months; a day the target month lacks
// becomes its last day (31 January + 1 month = the end of February).
func calendarMonthsLater(t time.Time, months int) time.Time {
	y, mo, d := t.Date()
	target := time.Date(y, mo+time.Month(months), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	daysInTarget := time.Date(target.Year(), target.Month()+1, 0, 0, 0, 0, 0, t.Location()).Day()
	return target.AddDate(0, 0, min(d, daysInTarget)-1)
}

func (m *lifecycleModel) startPeriod(start, expires time.Time) {
	m.periodStart, m.expires = start, expires
	m.remindFrom = start.Add(expires.Sub(start) / 2)
	m.handled = map[string]bool{}
}

func (m *lifecycleModel) send(template, step string) {
	m.emails = append(m.emails, modelEmail{Template: template, Step: step, At: m.now})
}

func (m *lifecycleModel) invoice(orderID string) {
	m.invoices = append(m.invoices, orderID)
	m.send("invoice", "invoice/"+orderID)
}

func (m *lifecycleModel) expiryStep() string { return m.expires.UTC().Format(time.RFC3339) }

type modelDeadline struct {
	step string
	at   time.Time
}

func (m *lifecycleModel) deadlines() []modelDeadline {
	if m.lifetime || m.revoked {
		return nil
	}
	e := m.expires
	return []modelDeadline{
		{stepReminder30, e.Add(-modelReminder30)},
		{stepReminder7, e.Add(-modelReminder7)},
		{stepExpired, e},
		{stepGraceEnded, e.Add(modelGrace)},
		{stepRetention, e.Add(modelGrace + modelRetention)},
	}
}

// advance lets time pass to `to`, reaching every deadline on the way at its
// instant (or at once, when a change made it already due).
func (m *lifecycleModel) advance(to time.Time) {
	for !m.closed {
		var pending []modelDeadline
		for _, d := range m.deadlines() {
			if !m.handled[d.step] {
				pending = append(pending, d)
			}
		}
		if len(pending) == 0 || pending[0].at.After(to) {
			break
		}
		d := pending[0]
		if d.at.After(m.now) {
			m.now = d.at
		}
		m.handled[d.step] = true
		if d.step == stepRetention {
			m.closed = true
			break
		}
		// Only the current message goes out: a deadline passed while a later
		// one (other than the silent end of grace) is already due stays quiet.
		stale := false
		for _, later := range pending[1:] {
			if later.step != stepGraceEnded && !later.at.After(m.now) {
				stale = true
			}
		}
		switch {
		case d.step == stepGraceEnded, stale, m.suspended:
		case d.step == stepExpired || !d.at.Before(m.remindFrom):
			m.send(d.step, d.step+"/"+m.expiryStep())
		}
	}
	if to.After(m.now) {
		m.now = to
	}
}

// outage stands for a worker down from `from` until `back`: the deadlines
// that fell due meanwhile are reached when it is back, all at that moment.
func (m *lifecycleModel) outage(from, back time.Time) {
	m.advance(from)
	if !m.closed {
		m.now = back
	}
	m.advance(back)
}

// status is the license's status at the model's now.
func (m *lifecycleModel) status() models.LicenseStatus {
	switch {
	case m.revoked:
		return models.StatusRevoked
	case m.suspended:
		return models.StatusSuspended
	case m.lifetime:
		return models.StatusActive
	case !m.now.Before(m.expires):
		return models.StatusExpired
	case !m.now.Before(m.expires.Add(-modelExpiring)):
		return models.StatusExpiring
	}
	return models.StatusActive
}

// phase names where the license stands, for mismatch reports ("in grace" is
// status expired before the end of grace).
func (m *lifecycleModel) phase() string {
	if m.closed && !m.revoked {
		return "closed after retention"
	}
	s := string(m.status())
	if s == string(models.StatusExpired) && m.now.Before(m.expires.Add(modelGrace)) {
		return "expired, in grace"
	}
	return s
}

// graceUntil is the end of grace, nil for a lifetime license.
func (m *lifecycleModel) graceUntil() *time.Time {
	if m.lifetime {
		return nil
	}
	g := m.expires.Add(modelGrace)
	return &g
}

// entitlements is what the license grants: the tier's products and the
// custom add-ons (an add-on the tier also grants counts as custom), as
// sorted "product:source" pairs.
func (m *lifecycleModel) entitlements() []string {
	var out []string
	for _, code := range catalogTier(m.tier) {
		if !slices.Contains(m.custom, code) {
			out = append(out, code+":"+string(models.SourceTier))
		}
	}
	for _, code := range m.custom {
		out = append(out, code+":"+string(models.SourceCustom))
	}
	slices.Sort(out)
	return out
}

// apply delivers one message at `at` and says whether it is accepted: a
// refused message changes nothing (an update is answered with the refusal,
// a signal is dropped). A duplicate ref is accepted and changes nothing.
func (m *lifecycleModel) apply(at time.Time, msg any) (accepted bool) {
	m.advance(at)
	if m.closed {
		return false
	}
	ref := messageRef(msg)
	if ref != "" && m.refs[ref] {
		return true
	}
	if !m.change(at, msg) {
		return false
	}
	if ref != "" {
		m.refs[ref] = true
	}
	return true
}

func (m *lifecycleModel) change(at time.Time, msg any) bool {
	now := at.Truncate(time.Second)
	validExpiry := func(t time.Time) bool { return !t.IsZero() && t.After(at) && !t.After(at.Add(modelMaxAhead)) }
	switch r := msg.(type) {
	case models.RenewRequest:
		switch {
		case m.lifetime,
			r.ExpiresAt == nil && (r.Months < 1 || r.Months > modelMaxMonths),
			r.ExpiresAt != nil && (r.Months != 0 || !validExpiry(*r.ExpiresAt)):
			return false
		}
		if r.OrderID != "" {
			m.invoice(r.OrderID)
		}
		// From the current expiry while it is ahead, from now once lapsed.
		start := now
		if m.expires.After(now) {
			start = m.expires
		}
		to := calendarMonthsLater(start, r.Months)
		if r.ExpiresAt != nil {
			to = r.ExpiresAt.Truncate(time.Second)
		}
		if to.After(m.expires) { // a renewal never shortens the license
			m.startPeriod(start, to)
			m.send("renewed", "renewed/"+m.expiryStep())
		}
		m.renewals++
	case models.CorrectExpiryRequest:
		if m.lifetime || !validExpiry(r.ExpiresAt) {
			return false
		}
		to := r.ExpiresAt.Truncate(time.Second)
		if to.Equal(m.expires) {
			return true
		}
		m.expires = to
		m.remindFrom = at
		// Deadlines already past under the new expiry stay reached; the
		// others are reached (and their reminders sent) again.
		kept := map[string]bool{}
		for _, d := range m.deadlines() {
			if m.handled[d.step] && !d.at.After(at) {
				kept[d.step] = true
			}
		}
		m.handled = kept
	case models.ChangeTierRequest:
		tier := strings.ToLower(strings.TrimSpace(r.Tier))
		if tier == "" || tier == m.tier || catalogTier(tier) == nil {
			return false
		}
		m.tier = tier
	case models.SetMaxDomainsRequest:
		if r.MaxDomains < 1 || r.MaxDomains > modelMaxDomains || r.MaxDomains < r.ActiveDomains {
			return false
		}
		m.maxDomains = r.MaxDomains
	case models.SuspendRequest:
		if m.suspended {
			return false
		}
		m.suspended = true
	case models.ReinstateRequest:
		if !m.suspended {
			return false
		}
		m.suspended = false
	case models.RevokeRequest:
		m.revoked, m.closed = true, true
	case models.AddEntitlementRequest:
		code := strings.TrimSpace(r.Product)
		if catalogRepo(code) == "" {
			return false
		}
		if !slices.Contains(m.custom, code) {
			m.custom = append(m.custom, code)
		}
	case models.PaymentFailedRequest:
		m.send("payment-failed", "payment-failed/"+r.EventID)
	case models.PatchRequest:
		return m.patch(at, r)
	default:
		panic("the model does not know the message " + describeMessage(msg))
	}
	return true
}

// patch applies a PatchRequest's parts in their documented order (tier, max
// domains, the expiry, the status), all or nothing. Status active only
// reinstates a suspended license; a renewal whose payment ref was already
// seen is skipped.
func (m *lifecycleModel) patch(at time.Time, p models.PatchRequest) bool {
	var parts []any
	if p.Tier != "" {
		parts = append(parts, models.ChangeTierRequest{Tier: p.Tier})
	}
	if p.MaxDomains != nil {
		parts = append(parts, *p.MaxDomains)
	}
	if p.Renew != nil && p.ExpiresAt != nil {
		return false
	}
	if p.Renew != nil {
		parts = append(parts, *p.Renew)
	}
	if p.ExpiresAt != nil {
		parts = append(parts, models.CorrectExpiryRequest{ExpiresAt: *p.ExpiresAt})
	}
	switch p.Status {
	case "":
	case models.StatusSuspended:
		parts = append(parts, models.SuspendRequest{})
	case models.StatusActive:
		if m.suspended {
			parts = append(parts, models.ReinstateRequest{})
		}
	case models.StatusRevoked:
		parts = append(parts, models.RevokeRequest{})
	default:
		return false
	}
	if p.Tier == "" && p.MaxDomains == nil && p.Renew == nil && p.ExpiresAt == nil && p.Status == "" {
		return false
	}
	after := m.clone()
	for _, part := range parts {
		if !after.apply(at, part) {
			return false
		}
	}
	*m = *after
	return true
}

func (m *lifecycleModel) clone() *lifecycleModel {
	c := *m
	c.custom = slices.Clone(m.custom)
	c.handled = maps.Clone(m.handled)
	c.refs = maps.Clone(m.refs)
	c.emails = slices.Clone(m.emails)
	c.invoices = slices.Clone(m.invoices)
	return &c
}

// messageRef is the id that makes a redelivered message change nothing.
func messageRef(msg any) string {
	switch r := msg.(type) {
	case models.RenewRequest:
		return r.PaymentRef
	case models.CorrectExpiryRequest:
		return r.RequestID
	case models.ChangeTierRequest:
		return r.RequestID
	case models.SetMaxDomainsRequest:
		return r.RequestID
	case models.SuspendRequest:
		return r.RequestID
	case models.ReinstateRequest:
		return r.RequestID
	case models.RevokeRequest:
		return r.RequestID
	case models.AddEntitlementRequest:
		return r.RequestID
	case models.PaymentFailedRequest:
		return r.EventID
	case models.PatchRequest:
		return r.RequestID
	}
	return ""
}

// The example catalog, the data the model and the recording activities
// share.
var catalogProducts, catalogTiers = models.ExampleCatalog()

func catalogTier(key string) []string {
	for _, t := range catalogTiers {
		if t.Key == key {
			return t.Products
		}
	}
	return nil
}

func catalogRepo(code string) string {
	for _, p := range catalogProducts {
		if p.Code == code {
			return p.Repo
		}
	}
	return ""
}
