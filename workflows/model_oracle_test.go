package workflows_test

import (
	"slices"
	"strconv"
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

	// start is when the license was bought; periodStart where the current
	// paid period began (a correction of the expiry keeps it).
	start       time.Time
	periodStart time.Time
	expires     time.Time // zero for a lifetime license
	// remindFrom: reminders go out only for deadlines from here on: the
	// middle of the paid period, or the moment of a correction.
	remindFrom time.Time
	// handled holds the deadlines already reached for the current expiry.
	handled map[string]bool

	// grace and retention are the license's policy (the defaults unless
	// the sequence configures them).
	grace, retention time.Duration

	suspended bool
	revoked   bool
	// closed: the workflow has ended (revoked, or retention ran out).
	closed bool
	// trial: a free trial not yet paid for: no invoice, no grace, a
	// trial-ending notice instead of the reminders; a paid renewal (one
	// with an order) converts it, any other renewal is refused.
	trial    bool
	renewals int
	// refs are the payment refs, event ids and request ids already applied.
	refs map[string]bool

	emails   []modelEmail
	invoices []string // the orders invoiced, once per invoice
	now      time.Time
	// sending is where the emails of the change being applied begin; what
	// they show is the license after the whole change.
	sending int

	// ledger is what the license's ledger must hold, line by line, and
	// published the fields as its last line left them.
	ledger    []modelLedgerLine
	published ledgerFields
	// renewed: the patch being applied renewed the license.
	renewed bool
	// ahead: the message being applied comes before the deadlines due at
	// its instant (see applyAhead).
	ahead bool
}

// applyAhead applies an update sent as a renewal is answered: whether it
// reaches the run the renewal ends before it continues as new, or is told
// to retry and reaches the next run as it starts, it applies before the
// deadlines that renewal made due at once.
func (m *lifecycleModel) applyAhead(at time.Time, msg any) string {
	m.ahead = true
	defer func() { m.ahead = false }()
	return m.apply(at, msg)
}

// modelLedgerLine is one line of a license's ledger: a field a change moved,
// or the change alone when it moved none.
type modelLedgerLine struct {
	At                                   time.Time
	Actor, Action, Field, Old, New, Note string
	// InvoiceOf names the order whose invoice the note names ("invoice
	// <number>"); the number is the store's to choose.
	InvoiceOf string
}

// ledgerFields are the fields the ledger follows, in the order its lines
// name them, as the ledger writes them.
type ledgerFields [7]string

var ledgerFieldNames = ledgerFields{"name", "status", "tier", "expires_at", "max_domains", "renewals", "entitlements"}

func (m *lifecycleModel) fields() ledgerFields {
	expires := "never"
	if !m.lifetime {
		expires = m.expires.UTC().Format(time.RFC3339)
	}
	// The entitlements in the order the store lists them: by repo.
	ents := m.entitlements()
	slices.SortFunc(ents, func(a, b string) int {
		return strings.Compare(catalogRepo(strings.Split(a, ":")[0]), catalogRepo(strings.Split(b, ":")[0]))
	})
	for i, e := range ents {
		ents[i] = strings.Split(e, ":")[0]
	}
	return ledgerFields{"", string(m.status()), m.tier, expires, strconv.Itoa(m.maxDomains), strconv.Itoa(m.renewals), strings.Join(ents, ",")}
}

// publish records a change in the ledger: a line per field that moved since
// the last change, or one line for the change alone.
func (m *lifecycleModel) publish(action, actor, note, invoiceOf string) {
	now := m.fields()
	var lines []modelLedgerLine
	for i := range now {
		if now[i] != m.published[i] {
			lines = append(lines, modelLedgerLine{Field: ledgerFieldNames[i], Old: m.published[i], New: now[i]})
		}
	}
	if len(lines) == 0 {
		lines = []modelLedgerLine{{}}
	}
	for _, l := range lines {
		l.At, l.Actor, l.Action, l.Note, l.InvoiceOf = m.now.Truncate(time.Second), actor, action, note, invoiceOf // stored to the second
		m.ledger = append(m.ledger, l)
	}
	m.published = now
}

// modelEmail is one email as the activity boundary sees it: its template,
// its idempotency step (without the workflow id) and when it was sent.
type modelEmail struct {
	Template string
	Step     string
	At       time.Time
	// Shows is what the message must say about the license; OrShows what
	// it may say instead, when a change landed before the email went out
	// (emails render the license when they are sent).
	Shows   emailContent
	OrShows *emailContent
}

// emailContent is what a license email shows: the license as it stands
// when the email goes out, and what its template adds (the invoice's
// order, the amount due and the payment link of a failed payment).
type emailContent struct {
	Tier       string
	MaxDomains int
	Expires    time.Time // zero: a lifetime license
	Order      string
	AmountDue  string
	PaymentURL string
}

// The documented windows.
const (
	modelReminder30 = 30 * day
	modelReminder7  = 7 * day
	modelExpiring   = 30 * day // status "expiring" from 30 days before expiry
	modelGrace      = 7 * day  // unless the policy says otherwise
	modelRetention  = 365 * day
	modelMaxYears   = 10 // an expiry given as a date: calendar years ahead
	modelMaxMonths  = 120
	modelMaxDomains = 10000
	// A trial of the example catalog's suite lasts 14 days; its ending is
	// announced 3 days before.
	modelTrialDays         = 14
	modelTrialEndingNotice = 3 * day
)

// Deadline steps; the reminder and expiry steps are also their email templates.
const (
	stepReminder30  = "reminder-30d"
	stepReminder7   = "reminder-7d"
	stepExpired     = "expired"
	stepGraceEnded  = "grace-ended"
	stepRetention   = "retention-ended"
	stepTrialEnding = "trial-ending"
	stepExpiring    = "expiring" // silent: a trial enters its last 30 days
)

// newLifecycleModel is the license right after its purchase at `at`: the
// key delivered, the order invoiced, the first paid period started.
func newLifecycleModel(p workflows.PaidOrder, policy workflows.Policy, at time.Time) *lifecycleModel {
	m := &lifecycleModel{
		orderID: p.OrderID, lifetime: p.Lifetime, tier: p.Tier, maxDomains: p.MaxDomains,
		grace: policy.GracePeriod, retention: policy.Retention,
		handled: map[string]bool{}, refs: map[string]bool{}, now: at,
		// The order as bought, before the key is minted.
		published: ledgerFields{"", string(models.StatusPending), p.Tier, "never", strconv.Itoa(p.MaxDomains), "0", ""},
	}
	if m.grace <= 0 {
		m.grace = modelGrace
	}
	if m.retention <= 0 {
		m.retention = modelRetention
	}
	start := at.Truncate(time.Second)
	m.start = start
	buyer := "order:" + p.OrderID
	if p.Type == models.TypeTrial {
		m.trial = true
		m.startPeriod(start, p.ExpiresAt.Truncate(time.Second))
		m.publish(models.LedgerIssue, buyer, "", "")
		m.send("delivery", "delivery")
		m.shown()
		return m
	}
	if !p.Lifetime {
		m.startPeriod(start, calendarMonthsLater(start, p.Months))
	}
	m.publish(models.LedgerIssue, buyer, "", "")
	m.send("delivery", "delivery")
	m.invoice(p.OrderID)
	m.shown()
	m.publish("invoice", buyer, "", p.OrderID)
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
	m.emails[len(m.emails)-1].Shows.Order = orderID
}

// overtaken says that the change just applied may have landed before the
// emails sent at `at` went out, so they may show the license after it.
func (m *lifecycleModel) overtaken(at time.Time) {
	for i := range m.emails {
		if e := &m.emails[i]; e.At.Equal(at) && e.OrShows == nil {
			later := e.Shows
			later.Tier, later.MaxDomains = m.tier, m.maxDomains
			if !m.lifetime {
				later.Expires = m.expires
			}
			e.OrShows = &later
		}
	}
}

// shown fills in what the emails of the change just applied show: the
// license after the change, since emails go out once it is recorded.
func (m *lifecycleModel) shown() {
	for i := m.sending; i < len(m.emails); i++ {
		c := &m.emails[i].Shows
		c.Tier, c.MaxDomains = m.tier, m.maxDomains
		if !m.lifetime {
			c.Expires = m.expires
		}
	}
	m.sending = len(m.emails)
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
	if m.trial {
		return []modelDeadline{
			{stepExpiring, e.Add(-modelExpiring)},
			{stepTrialEnding, e.Add(-modelTrialEndingNotice)},
			{stepExpired, e},
			{stepGraceEnded, e},
			{stepRetention, e.Add(m.retention)},
		}
	}
	return []modelDeadline{
		{stepReminder30, e.Add(-modelReminder30)},
		{stepReminder7, e.Add(-modelReminder7)},
		{stepExpired, e},
		{stepGraceEnded, e.Add(m.grace)},
		{stepRetention, e.Add(m.grace + m.retention)},
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
		var note string
		switch {
		case d.step == stepGraceEnded, d.step == stepExpiring:
		case stale:
			note = "no email: a later deadline is already due"
		case m.suspended:
			note = "no email: the license is suspended"
		case d.step != stepExpired && d.at.Before(m.remindFrom):
			note = "no email: too early in the paid period for a reminder"
		default:
			template := d.step
			if d.step == stepExpired && m.trial {
				template = "trial-ended"
			}
			m.send(template, d.step+"/"+m.expiryStep())
			note = "email: " + template
		}
		m.shown()
		m.publish(d.step, "timer:"+d.step, note, "")
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
	if s == string(models.StatusExpired) && m.now.Before(m.expires.Add(m.licenseGrace())) {
		return "expired, in grace"
	}
	return s
}

// graceUntil is the end of grace, nil for a lifetime license.
func (m *lifecycleModel) graceUntil() *time.Time {
	if m.lifetime {
		return nil
	}
	g := m.expires.Add(m.licenseGrace())
	return &g
}

// licenseGrace is the license's grace period: none for a trial.
func (m *lifecycleModel) licenseGrace() time.Duration {
	if m.trial {
		return 0
	}
	return m.grace
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

// apply delivers one message at `at` and returns "" when it is accepted,
// or the code it is refused with: a refused message changes nothing (an
// update is answered with the refusal, a signal is dropped and logged). A
// duplicate ref is accepted and changes nothing.
func (m *lifecycleModel) apply(at time.Time, msg any) (refused string) {
	if !m.ahead {
		m.advance(at)
	}
	if m.closed {
		if m.revoked {
			return "closed"
		}
		m.resume(at)
	}
	ref := messageRef(msg)
	if ref != "" && m.refs[ref] {
		return ""
	}
	if p, ok := msg.(models.PatchRequest); ok {
		refused = m.patch(at, p)
	} else if refused = m.refusal(at, msg); refused == "" {
		m.change(at, msg)
	}
	if refused != "" {
		return refused
	}
	if ref != "" {
		m.refs[ref] = true
	}
	m.shown()
	note, invoiceOf := changeNote(msg, m.renewed)
	m.publish(msg.(models.LicenseMessage).MessageName(), models.LedgerSystemActor, note, invoiceOf)
	return ""
}

// changeNote is what the ledger notes beside a change: the reason an
// operator gave for a correction, suspension or revocation, or the invoice
// of a paid renewal.
func changeNote(msg any, renewed bool) (note, invoiceOf string) {
	switch r := msg.(type) {
	case models.RenewRequest:
		return "", r.OrderID
	case models.AddEntitlementRequest:
		return "", r.OrderID
	case models.RemoveEntitlementRequest:
		return r.Reason, ""
	case models.CorrectExpiryRequest:
		return r.Reason, ""
	case models.SuspendRequest:
		return r.Reason, ""
	case models.RevokeRequest:
		return r.Reason, ""
	case models.PatchRequest:
		switch {
		case r.ExpiresAt != nil:
			return r.Reason, ""
		case r.Renew != nil && renewed:
			return "", r.Renew.OrderID
		}
	}
	return "", ""
}

// resume is a message reaching a license whose workflow closed after
// retention: a new run loads the license from the database (status, tier,
// domains, expiry, renewals, the paid period's start and the refs of the
// messages applied as last recorded; every deadline but the end of
// retention reached) and applies the message to it; unless the message
// moved the expiry, the license closes again at once.
func (m *lifecycleModel) resume(at time.Time) {
	m.closed, m.now = false, at
	m.startPeriod(m.periodStart, m.expires)
	for _, d := range m.deadlines() { // reached by the closed run, all but its end
		if d.step != stepRetention && !d.at.After(at) {
			m.handled[d.step] = true
		}
	}
	m.publish(models.LedgerResume, models.LedgerSystemActor, "workflow resumed from the database after it had closed", "")
}

// refusal is the code a message is refused with, "" if it applies: first
// the transition (revoked is final; suspend only what is not suspended,
// reinstate only what is), then the message's own fields, then what only
// the catalog knows (an unknown tier or product).
func (m *lifecycleModel) refusal(at time.Time, msg any) string {
	switch msg.(type) {
	case models.SuspendRequest:
		if m.suspended {
			return "already_suspended"
		}
	case models.ReinstateRequest:
		if !m.suspended {
			return "not_suspended"
		}
	}
	expiry := func(t time.Time) string {
		switch {
		case !t.After(at):
			return "expires_at_in_past"
		case t.After(at.AddDate(modelMaxYears, 0, 0)):
			return "expires_at_too_far"
		}
		return ""
	}
	switch r := msg.(type) {
	case models.RenewRequest:
		switch {
		case m.lifetime:
			return "license_lifetime"
		case m.trial && r.OrderID == "":
			return "trial_needs_payment"
		case r.ExpiresAt == nil && (r.Months < 1 || r.Months > modelMaxMonths):
			return "invalid_months"
		case r.ExpiresAt != nil && r.Months != 0:
			return "ambiguous_renewal"
		case r.ExpiresAt != nil:
			return expiry(*r.ExpiresAt)
		}
	case models.CorrectExpiryRequest:
		switch {
		case m.lifetime:
			return "license_lifetime"
		case r.ExpiresAt.IsZero():
			return "missing_expires_at"
		}
		return expiry(r.ExpiresAt)
	case models.ChangeTierRequest:
		tier := strings.ToLower(strings.TrimSpace(r.Tier))
		switch {
		case tier == "":
			return "missing_tier"
		case tier == m.tier:
			return "same_tier"
		case catalogTier(tier) == nil:
			return "tier_not_found"
		}
	case models.SetMaxDomainsRequest:
		switch {
		case r.MaxDomains < 1 || r.MaxDomains > modelMaxDomains:
			return "invalid_max_domains"
		case r.MaxDomains < r.ActiveDomains:
			return "domains_in_use"
		}
	case models.AddEntitlementRequest:
		code := strings.TrimSpace(r.Product)
		switch {
		case code == "":
			return "missing_product"
		case catalogRepo(code) == "":
			return "product_not_found"
		}
	case models.RemoveEntitlementRequest:
		code := strings.TrimSpace(r.Product)
		switch {
		case code == "":
			return "missing_product"
		case catalogRepo(code) == "":
			return "product_not_found"
		case !slices.Contains(m.custom, code) && slices.Contains(catalogTier(m.tier), code):
			return "not_an_addon"
		}
	}
	return ""
}

// change applies a message refusal let through.
func (m *lifecycleModel) change(at time.Time, msg any) {
	now := at.Truncate(time.Second)
	switch r := msg.(type) {
	case models.RenewRequest:
		if r.OrderID != "" {
			m.invoice(r.OrderID)
		}
		m.trial = false // paid for: a license from now on
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
		to := r.ExpiresAt.Truncate(time.Second)
		if to.Equal(m.expires) {
			return
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
		m.tier = strings.ToLower(strings.TrimSpace(r.Tier))
	case models.SetMaxDomainsRequest:
		m.maxDomains = r.MaxDomains
	case models.SuspendRequest:
		m.suspended = true
	case models.ReinstateRequest:
		m.suspended = false
	case models.RevokeRequest:
		m.revoked, m.closed = true, true
	case models.AddEntitlementRequest:
		code := strings.TrimSpace(r.Product)
		if !slices.Contains(m.custom, code) {
			m.custom = append(m.custom, code)
		}
		if r.OrderID != "" { // bought: invoiced once granted
			m.invoice(r.OrderID)
		}
	case models.RemoveEntitlementRequest:
		code := strings.TrimSpace(r.Product)
		m.custom = slices.DeleteFunc(m.custom, func(c string) bool { return c == code })
	case models.PaymentFailedRequest:
		m.send("payment-failed", "payment-failed/"+r.EventID)
		c := &m.emails[len(m.emails)-1].Shows
		c.AmountDue, c.PaymentURL = r.AmountDue, r.PaymentURL
	default:
		panic("the model does not know the message " + describeMessage(msg))
	}
}

// patch applies a PatchRequest all or nothing: every part is checked
// first, in the documented order (tier, max domains, the renewal unless
// its payment was seen, the correction, the status), then the parts apply
// in that order. Status active only reinstates a suspended license; an
// unknown status is refused before anything else is looked at.
func (m *lifecycleModel) patch(at time.Time, p models.PatchRequest) string {
	if p.Tier == "" && p.MaxDomains == nil && p.Renew == nil && p.ExpiresAt == nil && p.Status == "" {
		return "empty_patch"
	}
	if p.Renew != nil && p.ExpiresAt != nil {
		return "ambiguous_renewal"
	}
	var parts []any
	if p.Tier != "" {
		parts = append(parts, models.ChangeTierRequest{Tier: p.Tier})
	}
	if p.MaxDomains != nil {
		parts = append(parts, *p.MaxDomains)
	}
	if p.Renew != nil && !m.refs[p.Renew.PaymentRef] {
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
		return "invalid_status"
	}
	for _, part := range parts {
		if code := m.refusal(at, part); code != "" && code != "tier_not_found" {
			return code
		}
	}
	// Only the tier's expansion can still fail, after every check passed.
	if p.Tier != "" {
		if code := m.refusal(at, parts[0]); code != "" {
			return code
		}
	}
	m.renewed = false
	for _, part := range parts {
		m.change(at, part)
		if r, ok := part.(models.RenewRequest); ok {
			m.refs[r.PaymentRef] = true
			m.renewed = true
		}
	}
	return ""
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
		if r.OrderID != "" {
			return "addon:" + r.OrderID
		}
		return r.RequestID
	case models.RemoveEntitlementRequest:
		return r.RequestID
	case models.PaymentFailedRequest:
		return r.EventID
	case models.PatchRequest:
		return r.RequestID
	}
	return ""
}

// The example catalog: the data the model reads, and what the test store
// holds.
var catalogProducts, catalogTiers = models.ExampleCatalog()

func catalogTier(key string) []string {
	for _, t := range catalogTiers {
		if t.Key == key {
			return t.Products
		}
	}
	return nil
}

func catalogTierName(key string) string {
	for _, t := range catalogTiers {
		if t.Key == key {
			return t.Name
		}
	}
	return ""
}

func catalogRepo(code string) string {
	for _, p := range catalogProducts {
		if p.Code == code {
			return p.Repo
		}
	}
	return ""
}
