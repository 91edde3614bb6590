package workflows_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/workflows"
)

// generateSequence draws one lifecycle from seed: a purchase (yearly,
// monthly, a custom term or lifetime) and up to maxModelSteps steps over
// five years. Times are drawn around the license's own deadlines (a model
// runs beside the generator to know them): early, late and after-grace
// renewals, corrections, tier and domain changes, add-ons, suspensions,
// revocation, failed payments, redelivered messages, restarts. Terms,
// domain counts and explicit expiries reach their limits and step just past
// them, and a third of the licenses run under a grace period and retention
// of their own.
func generateSequence(seed uint64) modelSequence {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	order := "model-" + strconv.FormatUint(seed, 36)
	p := workflows.PaidOrder{
		LicenseID: models.LicenseIDForOrder(order), OrderID: order, CustomerEmail: "customer@example.com",
		MaxDomains: 1 + rng.IntN(10), Type: models.TypeCommercial,
	}
	if rng.IntN(10) == 0 {
		p.MaxDomains = pick(rng, modelMaxDomains, 1+rng.IntN(modelMaxDomains))
	}
	switch k := rng.IntN(10); {
	case k < 4:
		p.Tier, p.Months = pick(rng, "pos", "restaurant", "crm", "erp", "suite"), 12
	case k < 7:
		p.Tier, p.Months = "suite-monthly", 1
	case k < 9:
		p.Tier, p.Months = "suite", pick(rng, 1+rng.IntN(36), 1+rng.IntN(modelMaxMonths), modelMaxMonths)
	default:
		p.Tier, p.Lifetime = "suite-lifetime", true
	}
	if rng.IntN(8) == 0 { // a free trial of the suite, paid for or not
		ends := t0.Add(modelTrialDays * day)
		p.Tier, p.Type, p.Months, p.Lifetime, p.ExpiresAt = "suite", models.TypeTrial, 0, false, &ends
	}
	var policy workflows.Policy
	if rng.IntN(3) == 0 {
		policy.GracePeriod = time.Duration(1+rng.IntN(30)) * day
		policy.Retention = time.Duration(30+rng.IntN(700)) * day
	}
	g := &generator{rng: rng, m: newLifecycleModel(p, policy, t0), purchaseMonths: max(p.Months, 1), churn: modelHorizon}
	if rng.IntN(3) == 0 { // a customer who stops paying at some point
		g.churn = g.uniform(0, modelHorizon)
	}
	for len(g.steps) < maxModelSteps {
		s, ok := g.next()
		if !ok {
			break
		}
		g.steps = append(g.steps, s)
	}
	return modelSequence{Purchase: p, Policy: policy, Steps: g.steps}
}

const maxModelSteps = 150

type generator struct {
	rng            *rand.Rand
	m              *lifecycleModel
	purchaseMonths int
	// churn is when the customer stops renewing (and operators stop moving
	// the expiry), so the license runs out and its workflow closes.
	churn time.Duration
	steps []modelStep
	ids   int
	// recent are the last messages that carry a ref, for redeliveries.
	recent []modelStep
	// resumed: a message already brought the closed license back.
	resumed bool
	// racing is the update to send right after the renewal just drawn.
	racing *modelStep
}

func pick[T any](rng *rand.Rand, xs ...T) T { return xs[rng.IntN(len(xs))] }

func (g *generator) id(prefix string) string {
	g.ids++
	return fmt.Sprintf("%s-%d", prefix, g.ids)
}

func (g *generator) uniform(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(g.rng.Int64N(int64(hi-lo)+1))
}

// last is when the previous step ended (a worker outage lasts a while).
func (g *generator) last() time.Duration {
	if len(g.steps) == 0 {
		return 0
	}
	s := g.steps[len(g.steps)-1]
	return s.At + s.For
}

// soon is a moment shortly after the previous step: minutes to weeks.
func (g *generator) soon() time.Duration {
	return g.last() + time.Second + time.Duration(g.rng.ExpFloat64()*float64(6*day))
}

// aroundExpiry is a moment relative to the current expiry, or soon if that
// lies behind the previous step.
func (g *generator) aroundExpiry(lo, hi time.Duration) time.Duration {
	if g.m.lifetime {
		return g.soon()
	}
	at := g.m.expires.Sub(t0) + g.uniform(lo, hi)
	if at <= g.last()+time.Second {
		return g.soon()
	}
	return at
}

// next draws one step, or reports that the lifecycle is over.
func (g *generator) next() (modelStep, bool) {
	if r := g.racing; r != nil { // an update hard on the heels of a renewal
		g.racing = nil
		r.At = g.last() + time.Millisecond
		if r.At >= modelHorizon {
			return modelStep{}, false
		}
		g.m.apply(t0.Add(r.At), r.Msg)
		return *r, true
	}
	s := modelStep{Via: viaSignal}
	if g.rng.IntN(5) < 2 {
		s.Via = viaUpdate
	}
	var at time.Duration
	switch k := g.rng.IntN(100); {
	case k < 30 && g.last() < g.churn:
		at = g.renewalTime()
		s.Msg = g.renewal(t0.Add(at))
	case k < 37 && g.last() < g.churn:
		at = pick(g.rng, g.soon(), g.aroundExpiry(-60*day, 10*day))
		s.Msg = g.correction(t0.Add(at))
	case k < 43:
		at = g.soon()
		s.Msg = models.ChangeTierRequest{Tier: pick(g.rng, "pos", "restaurant", "crm", "erp", "suite", " Suite ", "gold", g.m.tier), RequestID: g.maybeID("req")}
	case k < 48:
		at = g.soon()
		product := pick(g.rng, "crm", "erp", "hrm", "pos", "shop", "child", "nosuch", "")
		switch k := g.rng.IntN(4); {
		case k == 0: // taken back: a refunded add-on, or a grant withdrawn
			s.Msg = models.RemoveEntitlementRequest{Product: product, Reason: "refunded", RequestID: g.maybeID("req")}
		case k == 1: // bought: its paid order is invoiced
			s.Msg = models.AddEntitlementRequest{Product: product, OrderID: g.id("addon"), RequestID: g.maybeID("req")}
		default:
			s.Msg = models.AddEntitlementRequest{Product: product, RequestID: g.maybeID("req")}
		}
	case k < 54:
		at = g.soon()
		r := models.SetMaxDomainsRequest{MaxDomains: g.domains(), RequestID: g.maybeID("req")}
		if g.rng.IntN(10) == 0 {
			r.ActiveDomains = r.MaxDomains + 1
		}
		s.Msg = r
	case k < 59:
		at = g.soon()
		s.Msg = models.SuspendRequest{Reason: "refund", RequestID: g.maybeID("req")}
	case k < 64:
		at = pick(g.rng, g.soon(), g.aroundExpiry(-35*day, 3*day))
		s.Msg = models.ReinstateRequest{RequestID: g.maybeID("req")}
	case k < 65 && g.rng.IntN(2) == 0:
		at = g.soon()
		s.Msg = models.RevokeRequest{Reason: "chargeback", RequestID: g.maybeID("req")}
	case k < 71:
		at = g.aroundExpiry(-10*day, 5*day)
		r := models.PaymentFailedRequest{EventID: g.id("evt"), AmountDue: "149.00 EUR"}
		if g.rng.IntN(2) == 0 {
			r.PaymentURL = "https://pay.example.com/" + r.EventID
		}
		s.Msg = r
	case k < 76:
		at = g.soon()
		s.Msg = g.patch(t0.Add(at))
	case k < 82 && len(g.recent) > 0: // the same message delivered again
		dup := g.recent[g.rng.IntN(len(g.recent))]
		at, s.Via, s.Msg = g.last()+g.uniform(time.Second, 2*day), pick(g.rng, viaSignal, viaUpdate), dup.Msg
	case k < 85:
		at, s.Via = g.soon(), viaRestart
	case k < 88: // the worker is down across some deadlines
		at, s.Via = g.aroundExpiry(-35*day, 10*day), viaOutage
		s.For = g.uniform(time.Hour, 40*day).Truncate(time.Second)
	default: // look at the license around a deadline
		at, s.Via = pick(g.rng,
			g.aroundExpiry(-30*day-2*time.Second, -30*day+2*time.Second),
			g.aroundExpiry(-7*day-2*time.Second, -7*day+2*time.Second),
			g.aroundExpiry(-2*time.Second, 2*time.Second),
			g.aroundExpiry(7*day-2*time.Second, 7*day+2*time.Second),
			g.soon()), viaObserve
	}
	switch s.Msg.(type) {
	case models.PaymentFailedRequest:
		s.Via = viaSignal // payment webhooks only signal
	case models.PatchRequest:
		s.Via = viaUpdate // the API's PATCH only updates
	}
	if s.Via == viaSignal && s.Msg != nil && messageRef(s.Msg) != "" && g.rng.IntN(8) == 0 {
		s.Repeat = 1 + g.rng.IntN(2)
	}
	s.At = at.Truncate(time.Second) + 250*time.Millisecond
	if s.At <= g.last() {
		s.At = g.last() + time.Second
	}
	if s.At+s.For >= modelHorizon {
		return modelStep{}, false
	}
	if s.Via == viaOutage {
		g.m.outage(t0.Add(s.At), t0.Add(s.At+s.For))
	}
	g.m.advance(t0.Add(s.At))
	if g.m.closed {
		// A license whose workflow closed after retention comes back when a
		// message reaches it (most often a late renewal), once a sequence.
		if g.m.revoked || g.resumed || s.Via == viaOutage {
			return modelStep{}, false
		}
		g.resumed = true
		s.Via, s.Repeat = pick(g.rng, viaSignal, viaUpdate), 0
		switch k := g.rng.IntN(10); {
		case k < 6:
			s.Msg = g.renewal(t0.Add(s.At))
		case k < 8:
			s.Msg = g.correction(t0.Add(s.At))
		default:
			s.Msg = models.SuspendRequest{Reason: "refund", RequestID: g.maybeID("req")}
		}
	}
	if _, renewal := s.Msg.(models.RenewRequest); renewal && s.Via == viaUpdate && g.rng.IntN(3) == 0 {
		// The renewal makes the run continue as new; an update sent the
		// moment it is answered meets the run draining, is told to retry,
		// and is sent again to the next run, as the API does.
		r := modelStep{Via: viaUpdate, Racing: true}
		switch k := g.rng.IntN(4); {
		case k == 0:
			r.Msg = models.SetMaxDomainsRequest{MaxDomains: g.domains(), RequestID: g.maybeID("req")}
		case k == 1:
			r.Msg = models.ChangeTierRequest{Tier: pick(g.rng, "pos", "restaurant", "crm", "erp", "suite"), RequestID: g.maybeID("req")}
		case k == 2:
			r.Msg = models.SuspendRequest{Reason: "refund", RequestID: g.maybeID("req")}
		default:
			r.Msg = g.correction(t0.Add(s.At))
		}
		g.racing = &r
	}
	if s.Msg != nil {
		for range 1 + s.Repeat {
			g.m.apply(t0.Add(s.At), s.Msg)
		}
		if messageRef(s.Msg) != "" {
			g.recent = append(g.recent, s)
			if len(g.recent) > 5 {
				g.recent = g.recent[1:]
			}
		}
	}
	return s, true
}

func (g *generator) maybeID(prefix string) string {
	if g.rng.IntN(5) == 0 {
		return ""
	}
	return g.id(prefix)
}

// renewalTime: early (up to 40 days before expiry), late (in grace), after
// grace, or at any moment.
func (g *generator) renewalTime() time.Duration {
	switch k := g.rng.IntN(10); {
	case k < 5:
		return g.aroundExpiry(-40*day, 0)
	case k < 7:
		return g.aroundExpiry(0, g.m.grace)
	case k < 8:
		return g.aroundExpiry(g.m.grace, 120*day)
	}
	return g.soon()
}

func (g *generator) renewal(at time.Time) models.RenewRequest {
	r := models.RenewRequest{PaymentRef: g.id("pay"), Months: pick(g.rng, g.purchaseMonths, g.purchaseMonths, 1, 12)}
	if g.rng.IntN(10) == 0 { // the longest term, and one month more (refused)
		r.Months = pick(g.rng, modelMaxMonths, modelMaxMonths+1)
	}
	if g.rng.IntN(2) == 0 {
		r.OrderID = g.id("renewal")
	}
	switch k := g.rng.IntN(20); {
	case k < 3: // a payment provider's period end, sometimes before the current expiry
		base := at
		if g.m.expires.After(at) {
			base = g.m.expires
		}
		to := base.Add(g.uniform(-60*day, 400*day))
		r.Months, r.ExpiresAt = 0, &to
	case k < 4: // refused: no term
		r.Months = 0
	}
	return r
}

// patch combines some of: a tier (as the API sends it: a sellable one), max
// domains, a renewal or a correction (rarely both, refused), a status.
func (g *generator) patch(at time.Time) models.PatchRequest {
	p := models.PatchRequest{Reason: "by hand", RequestID: g.maybeID("req")}
	some := func() bool { return g.rng.IntN(3) == 0 }
	if some() {
		p.Tier = pick(g.rng, "pos", "restaurant", "crm", "erp", "suite", g.m.tier)
	}
	if some() {
		p.MaxDomains = &models.SetMaxDomainsRequest{MaxDomains: g.domains()}
	}
	paying := g.last() < g.churn
	if paying && some() {
		r := g.renewal(at)
		p.Renew = &r
	}
	if paying && (p.Renew == nil || g.rng.IntN(10) == 0) && some() {
		to := g.correction(at).ExpiresAt
		p.ExpiresAt = &to
	}
	if some() {
		p.Status = pick(g.rng, models.StatusActive, models.StatusSuspended, models.StatusSuspended, models.StatusExpired)
		if g.rng.IntN(10) == 0 {
			p.Status = models.StatusRevoked
		}
	}
	return p
}

func (g *generator) correction(at time.Time) models.CorrectExpiryRequest {
	r := models.CorrectExpiryRequest{Reason: "goodwill", RequestID: g.maybeID("req")}
	switch k := g.rng.IntN(11); {
	case k < 3: // the README's example: 30 days and 20 seconds from now
		r.ExpiresAt = at.Add(30*day + 20*time.Second)
	case k < 5: // close: shortens most licenses
		r.ExpiresAt = at.Add(g.uniform(time.Hour, 10*day))
	case k < 9:
		r.ExpiresAt = at.Add(g.uniform(time.Hour, 400*day))
	case k < 10: // the furthest allowed, and a second further (refused)
		r.ExpiresAt = at.AddDate(modelMaxYears, 0, 0).Add(pick(g.rng, time.Duration(0), time.Second))
	default: // refused: in the past
		r.ExpiresAt = at.Add(-time.Hour)
	}
	return r
}

// domains is a max_domains to ask for: mostly a few, sometimes the limit,
// one past it (refused) or none (refused).
func (g *generator) domains() int {
	if g.rng.IntN(8) == 0 {
		return pick(g.rng, 0, modelMaxDomains, modelMaxDomains+1, 1+g.rng.IntN(modelMaxDomains))
	}
	return 1 + g.rng.IntN(20)
}
