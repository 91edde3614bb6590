package workflows_test

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/workflows"
)

// TestModelLifecycle drives LicenseWorkflow through generated five-year
// lifecycles on the time-skipping test environment and compares it after
// every step with lifecycleModel, a small model written from the documented
// rules. LICENSEFLOW_MODEL_SEQUENCES sets how many lifecycles (default 200),
// LICENSEFLOW_MODEL_SEED the seed they are generated from; a mismatch
// prints the seed, the sequence's index and the shortest sequence of steps
// that still mismatches, ready to paste into TestModelRegressions.
func TestModelLifecycle(t *testing.T) {
	sequences := envNumber(t, "LICENSEFLOW_MODEL_SEQUENCES", 200)
	if sequences == 0 {
		t.Fatal("LICENSEFLOW_MODEL_SEQUENCES=0 would check nothing; unset it for the default of 200")
	}
	// A fixed seed would play the same lifecycles in every run; each run
	// draws a fresh one unless one is given to reproduce a report.
	seed := envNumber(t, "LICENSEFLOW_MODEL_SEED", time.Now().UnixNano()%1_000_000_000_000)
	t.Logf("model run: LICENSEFLOW_MODEL_SEED=%d LICENSEFLOW_MODEL_SEQUENCES=%d", seed, sequences)
	const workers = 2 // the sequences are independent: each is generated from its own seed
	var played, mismatches, steps, runs atomic.Int64
	var endingsMu sync.Mutex
	endings := map[string]int{}
	var reported atomic.Int64
	began := time.Now()
	t.Run("sequences", func(t *testing.T) {
		for w := range workers {
			t.Run(fmt.Sprintf("worker-%d", w), func(t *testing.T) {
				t.Parallel()
				for i := w; i < int(sequences); i += workers {
					seq := generateSequence(sequenceSeed(uint64(seed), i))
					out := playModel(t, seq, -1)
					steps.Add(int64(len(seq.Steps)))
					runs.Add(int64(out.runs))
					endingsMu.Lock()
					endings[out.ending]++
					endingsMu.Unlock()
					if n := played.Add(1); n%1000 == 0 { // a long run shows how far it got
						t.Logf("%d sequences, %d mismatches, %.0f s", n, mismatches.Load(), time.Since(began).Seconds())
					}
					if out.mismatch == "" {
						continue
					}
					mismatches.Add(1)
					if reported.Add(1) > 3 { // shrinking takes a while; three examples are plenty
						t.Errorf("seed %d, sequence %d: %s", seed, i, out.mismatch)
						continue
					}
					minimal, why := shrinkSequence(t, seq)
					t.Errorf("model mismatch: LICENSEFLOW_MODEL_SEED=%d, sequence %d (%d steps)\n%s\n\nminimal reproduction (%d steps): %s\n%s",
						seed, i, len(seq.Steps), out.mismatch, len(minimal.Steps), why, minimal.GoString())
				}
			})
		}
	})
	seconds := time.Since(began).Seconds()
	t.Logf("model run: %d sequences (LICENSEFLOW_MODEL_SEED=%d), %d steps, %d workflow runs, %d mismatches, %.1f s; lifecycles ended: %v",
		sequences, seed, steps.Load(), runs.Load(), mismatches.Load(), seconds, endings)
	if played.Load() != sequences {
		t.Errorf("played %d of %d sequences", played.Load(), sequences)
	}
	if path := os.Getenv("LICENSEFLOW_MODEL_REPORT"); path != "" {
		writeModelReport(t, path, modelReport{Seed: seed, Sequences: played.Load(), Steps: steps.Load(), Runs: runs.Load(),
			Mismatches: mismatches.Load(), Seconds: seconds, Endings: endings})
	}
}

// modelReport is the figure of one model run, written where
// LICENSEFLOW_MODEL_REPORT points so a long run can be cited and re-run
// from its seed.
type modelReport struct {
	Seed       int64          `json:"seed"`
	Sequences  int64          `json:"sequences"`
	Steps      int64          `json:"steps"`
	Runs       int64          `json:"workflow_runs"`
	Mismatches int64          `json:"mismatches"`
	Seconds    float64        `json:"seconds"`
	Endings    map[string]int `json:"endings"`
}

func writeModelReport(t *testing.T, path string, r modelReport) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatalf("LICENSEFLOW_MODEL_REPORT: %v", err)
	}
}

// TestModelRegressions replays minimal sequences the model once found
// mismatching, each a regression test of its own.
func TestModelRegressions(t *testing.T) {
	for name, seq := range modelRegressions {
		t.Run(name, func(t *testing.T) {
			if out := playModel(t, seq, -1); out.mismatch != "" {
				t.Error(out.mismatch)
			}
		})
	}
}

// modelRegressions are sequences pasted from mismatch reports, and a few
// the model found telling when the workflow was deliberately broken.
var modelRegressions = map[string]modelSequence{
	// A worker down across the 7-day reminder and the expiry sends only the
	// expiry email when it is back: the reminder is no longer current.
	"outage-sends-only-the-current-email": {
		Purchase: workflows.PaidOrder{LicenseID: "lic_16d11e4e7ae2e07779d3", OrderID: "model-76juxp2h5", CustomerEmail: "customer@example.com", Tier: "restaurant", MaxDomains: 9, Months: 12, Lifetime: false, Type: "commercial"},
		Steps: []modelStep{
			{At: 57763705250 * time.Millisecond, Via: viaUpdate, Msg: models.RenewRequest{ExpiresAt: timeAt(76574920463 * time.Millisecond), PaymentRef: "pay-9"}}, // 2027-11-09 22:28:25.250
			{At: 74456573250 * time.Millisecond, Via: viaOutage, Msg: nil, For: 2236792 * time.Second},                                                             // 2028-05-21 03:22:53.250
		},
	},
	// A worker down across the expiry of a monthly license still sends the
	// expiry email when it is back: the end of grace, due too, sends nothing.
	"outage-across-expiry-and-grace": {
		Purchase: workflows.PaidOrder{LicenseID: "lic_da74a8ba515144724030", OrderID: "model-76juxp2io", CustomerEmail: "customer@example.com", Tier: "suite-monthly", MaxDomains: 3, Months: 1, Lifetime: false, Type: "commercial"},
		Steps: []modelStep{
			{At: 2630194250 * time.Millisecond, Via: viaOutage, Msg: nil, For: 1342119 * time.Second}, // 2026-02-09 19:36:34.250
		},
	},
}

func envNumber(t *testing.T, name string, def int64) int64 {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a non-negative whole number", name, v)
	}
	return n
}

func sequenceSeed(seed uint64, i int) uint64 { return seed*1_000_003 + uint64(i) }

// modelSequence is one generated lifecycle: the purchase at t0, then steps
// at fixed offsets from it.
type modelSequence struct {
	Purchase workflows.PaidOrder
	Steps    []modelStep
}

// modelStep is a message delivered as a signal or an update (a signal
// Repeat more times at once, as a webhook delivered in a burst), a moment
// to look at the license, a worker restart, or a worker outage of length
// For. Steps fall 250 ms after a whole second and every step is checked
// 500 ms later; deadlines fall on whole seconds, so neither ever ties with a
// timer.
type modelStep struct {
	At     time.Duration
	Via    string
	Msg    models.LicenseMessage
	For    time.Duration
	Repeat int
}

const (
	viaSignal  = "signal"
	viaUpdate  = "update"
	viaObserve = "observe"
	viaRestart = "restart"
	viaOutage  = "outage"
)

// modelHorizon is how long each lifecycle is followed.
const modelHorizon = 5 * 365 * day

const checkDelay = 500 * time.Millisecond

// modelOutcome is what playing a sequence found.
type modelOutcome struct {
	mismatch string
	runs     int
	// ending is how the lifecycle ended: at the horizon, revoked, or
	// closed after retention.
	ending    string
	snapshots map[int]modelSnapshot
}

// modelSnapshot is everything observable at a worker restart: the state and
// every side effect so far, in order.
type modelSnapshot struct {
	State       workflows.LicenseState
	Activities  []string
	Emails      []sentEmail
	Invoiced    []string
	Projections []models.Projection
}

// playModel runs seq against LicenseWorkflow, following continue-as-new,
// and checks it against the model after every step. With stopAt >= 0 it
// only re-executes the steps up to that restart step, without checks, and
// stops there (see checkRestarts).
func playModel(t *testing.T, seq modelSequence, stopAt int) modelOutcome {
	rec := newRecordingActivities()
	h := &harness{t: t, acts: rec}
	// Refused messages are logged by design; the model judges them instead.
	h.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	m := newLifecycleModel(seq.Purchase, t0)
	out := modelOutcome{snapshots: map[int]modelSnapshot{}}
	fail := func(at time.Time, format string, args ...any) {
		if out.mismatch == "" {
			out.mismatch = fmt.Sprintf("at %s (model: %s): %s", at.Format("2006-01-02 15:04:05.000"), m.phase(), fmt.Sprintf(format, args...))
		}
	}

	type action struct {
		at time.Duration
		do func(env *testsuite.TestWorkflowEnvironment)
	}
	var actions []action
	var resume *workflows.LicenseInput // set by a worker outage
	var back time.Time
	for i, s := range seq.Steps {
		if stopAt >= 0 && i > stopAt {
			break
		}
		at := t0.Add(s.At)
		switch s.Via {
		case viaRestart:
			actions = append(actions, action{s.At, func(env *testsuite.TestWorkflowEnvironment) {
				m.advance(at)
				out.snapshots[i] = snapshot(t, env, h, rec)
				if i == stopAt {
					env.CancelWorkflow()
				}
			}})
		case viaOutage:
			actions = append(actions, action{s.At, func(env *testsuite.TestWorkflowEnvironment) {
				// The next run starts from the state the worker had, when it is
				// back: timers that fell due meanwhile fire late, all at once.
				back = at.Add(s.For)
				m.outage(at, back)
				st := query(t, env)
				resume = &workflows.LicenseInput{State: &st}
				env.CancelWorkflow()
			}})
		case viaSignal, viaUpdate:
			actions = append(actions, action{s.At, func(env *testsuite.TestWorkflowEnvironment) {
				accepted := m.apply(at, s.Msg)
				if s.Via == viaSignal {
					signal(env, s.Msg)
					for range s.Repeat {
						m.apply(at, s.Msg)
						signal(env, s.Msg)
					}
					return
				}
				update(env, s.Msg, func(_ workflows.LicenseState, err error) {
					if stopAt < 0 && (err == nil) != accepted {
						fail(at, "step %d %s: the update answered %v; the model accepts it: %v", i, describeMessage(s.Msg), err, accepted)
					}
				})
			}})
		}
		if stopAt >= 0 {
			continue
		}
		actions = append(actions, action{s.At + s.For + checkDelay, func(env *testsuite.TestWorkflowEnvironment) {
			now := at.Add(s.For + checkDelay)
			m.advance(now)
			if m.closed {
				fail(now, "after step %d the workflow still runs; the model has it closed", i)
				return
			}
			if diff := compareRunning(m, query(t, env), rec, h); diff != "" {
				fail(now, "after step %d %s: %s", i, describeStep(s), diff)
			}
		}})
	}
	if stopAt < 0 {
		actions = append(actions, action{modelHorizon + checkDelay, func(env *testsuite.TestWorkflowEnvironment) {
			now := t0.Add(modelHorizon + checkDelay)
			m.advance(now)
			if m.closed {
				fail(now, "at the horizon the workflow still runs; the model has it closed")
			} else if diff := compareRunning(m, query(t, env), rec, h); diff != "" {
				fail(now, "at the horizon: %s", diff)
			}
			env.CancelWorkflow()
		}})
	}

	done := make([]bool, len(actions))
	in, start := workflows.LicenseInput{Purchase: seq.Purchase}, t0
	inFlight := &activitiesInFlight{}
	for {
		out.runs++
		inFlight.n = 0
		r := h.run(in, start, func(env *testsuite.TestWorkflowEnvironment) {
			env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{inFlight}})
			// While the workflow applies a step or a deadline, the clock stands
			// still: a callback due at once is always the next timer, so the
			// environment never skips ahead to a later one by the wall clock.
			var hold func()
			holdingSince := time.Time{}
			hold = func() {
				if inFlight.n == 0 {
					holdingSince = time.Time{}
					return
				}
				if holdingSince.IsZero() {
					holdingSince = time.Now()
				}
				if time.Since(holdingSince) > time.Minute {
					fail(env.Now(), "the workflow was still busy with %d activities a minute later", inFlight.n)
					return
				}
				time.Sleep(100 * time.Microsecond) // let the activities have the processor
				env.RegisterDelayedCallback(hold, 0)
			}
			env.SetOnTimerFiredListener(func(string) { env.RegisterDelayedCallback(hold, 0) })
			for k, a := range actions {
				if done[k] {
					continue
				}
				var settled func()
				waitingSince := time.Time{}
				settled = func() {
					if inFlight.n > 0 { // the previous step is still being applied: look again at once
						if waitingSince.IsZero() {
							waitingSince = time.Now()
						}
						if time.Since(waitingSince) > time.Minute {
							fail(env.Now(), "the workflow was still busy with %d activities a minute later", inFlight.n)
						} else {
							env.RegisterDelayedCallback(settled, 0)
							return
						}
					}
					done[k] = true
					if out.mismatch != "" { // nothing more to learn from this sequence
						env.CancelWorkflow()
						return
					}
					if env.IsWorkflowCompleted() { // it ended at this very instant
						if err := env.GetWorkflowError(); err != nil {
							fail(env.Now(), "the workflow ended: %v", err)
						} else {
							fail(env.Now(), "the workflow has closed; the model has it open (%s)", m.phase())
						}
						return
					}
					a.do(env)
					env.RegisterDelayedCallback(hold, 0)
				}
				env.RegisterDelayedCallback(settled, t0.Add(a.at).Sub(start))
			}
		})
		if r.next != nil {
			in, start = *r.next, r.end
			continue
		}
		if resume != nil {
			in, start, resume = *resume, back, nil
			continue
		}
		if out.mismatch != "" || stopAt >= 0 {
			return out
		}
		var canceled *temporal.CanceledError
		switch {
		case errors.As(r.err, &canceled):
			out.ending = "at the horizon"
		case r.err != nil:
			fail(r.end, "the workflow failed: %v", r.err)
		default:
			out.ending = r.result.Reason
			m.advance(r.end)
			if !m.closed {
				fail(r.end, "the workflow closed (%s, %s); the model has it open", r.result.Status, r.result.Reason)
			} else if r.result.Status != m.status() {
				fail(r.end, "the workflow closed as %s; the model says %s", r.result.Status, m.status())
			} else if diff := compareEffects(m, rec, h); diff != "" {
				fail(r.end, "when the workflow closed: %s", diff)
			}
		}
		if out.mismatch == "" {
			checkRestarts(t, seq, out, fail)
		}
		return out
	}
}

// checkRestarts stands for worker restarts. The test environment keeps no
// history to hand to worker.NewWorkflowReplayer, so a restart at a step is
// checked the way a replay works: a fresh worker re-executes the workflow
// from its inputs alone (the same messages at the same instants; every
// activity answers as before), and must arrive at the same state having
// issued the same activities, emails, invoices and projections in the same
// order. Anything that does not follow from history (map order, wall-clock
// time, state kept outside the workflow) shows up as a difference. The
// recorded histories in testdata are replayed for real by replay_test.go.
func checkRestarts(t *testing.T, seq modelSequence, primary modelOutcome, fail func(time.Time, string, ...any)) {
	for i, s := range seq.Steps {
		want, ok := primary.snapshots[i]
		if s.Via != viaRestart || !ok {
			continue
		}
		got := playModel(t, seq, i).snapshots[i]
		if diff := snapshotDiff(want, got); diff != "" {
			fail(t0.Add(s.At), "a worker restarted at step %d re-executes differently: %s", i, diff)
			return
		}
	}
}

// snapshotDiff names the first part of two snapshots that differs.
func snapshotDiff(first, again modelSnapshot) string {
	a, b := reflect.ValueOf(first), reflect.ValueOf(again)
	for i := range a.NumField() {
		x, y := a.Field(i), b.Field(i)
		if reflect.DeepEqual(x.Interface(), y.Interface()) {
			continue
		}
		if x.Kind() == reflect.Slice {
			for k := range min(x.Len(), y.Len()) {
				if !reflect.DeepEqual(x.Index(k).Interface(), y.Index(k).Interface()) {
					return fmt.Sprintf("%s[%d]: first %+v, again %+v", a.Type().Field(i).Name, k, x.Index(k).Interface(), y.Index(k).Interface())
				}
			}
			return fmt.Sprintf("%s: first %d, again %d", a.Type().Field(i).Name, x.Len(), y.Len())
		}
		return fmt.Sprintf("%s: first %+v, again %+v", a.Type().Field(i).Name, x.Interface(), y.Interface())
	}
	return ""
}

func snapshot(t *testing.T, env *testsuite.TestWorkflowEnvironment, h *harness, rec *recordingActivities) modelSnapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	// Emails go out from concurrent workflow goroutines; their commands are
	// ordered in history, but the test environment starts their activities
	// in any order, so side effects are compared as sorted lists.
	emails := slices.SortedFunc(slices.Values(h.emails), func(a, b sentEmail) int {
		return cmp.Or(a.at.Compare(b.at), strings.Compare(a.key, b.key))
	})
	return modelSnapshot{
		State: query(t, env), Activities: slices.Sorted(slices.Values(h.activity)), Emails: emails,
		Invoiced: slices.Sorted(slices.Values(rec.invoiced)), Projections: slices.Clone(rec.projections),
	}
}

// compareRunning compares the running workflow's state, and what it did so
// far, with the model; it returns the first difference.
func compareRunning(m *lifecycleModel, st workflows.LicenseState, rec *recordingActivities, h *harness) string {
	if st.DLIDMasked != models.MaskDLID(rec.dlid) {
		return fmt.Sprintf("DLID %s, minted as %s", st.DLIDMasked, models.MaskDLID(rec.dlid))
	}
	var wantExpiry time.Time
	if !m.lifetime {
		wantExpiry = m.expires
	}
	if got := deref(st.ExpiresAt); !got.Equal(wantExpiry) {
		return fmt.Sprintf("expires_at %s; the model says %s", stamp(got), stamp(wantExpiry))
	}
	if got, want := deref(st.GraceUntil), deref(m.graceUntil()); !got.Equal(want) {
		return fmt.Sprintf("grace_until %s; the model says %s", stamp(got), stamp(want))
	}
	if st.Status != m.status() {
		return fmt.Sprintf("status %s; the model says %s", st.Status, m.status())
	}
	if !m.lifetime && !st.PeriodStart.Equal(m.periodStart) {
		return fmt.Sprintf("paid period starts %s; the model says %s", stamp(st.PeriodStart), stamp(m.periodStart))
	}
	if st.Renewals != m.renewals {
		return fmt.Sprintf("%d renewals; the model says %d", st.Renewals, m.renewals)
	}
	if st.Tier != m.tier || st.MaxDomains != m.maxDomains {
		return fmt.Sprintf("tier %s, max %d domains; the model says tier %s, max %d", st.Tier, st.MaxDomains, m.tier, m.maxDomains)
	}
	var ents []string
	for _, e := range st.Entitlements {
		ents = append(ents, e.Product+":"+string(e.Source))
	}
	slices.Sort(ents)
	if want := m.entitlements(); !slices.Equal(ents, want) {
		return fmt.Sprintf("entitlements %v; the model says %v", ents, want)
	}
	return compareEffects(m, rec, h)
}

// compareEffects compares the side effects so far (mint, emails, invoices,
// the database projection) with the model.
func compareEffects(m *lifecycleModel, rec *recordingActivities, h *harness) string {
	rec.mu.Lock()
	mints, invoiced := rec.mints, slices.Clone(rec.invoiced)
	rec.mu.Unlock()
	if mints != 1 {
		return fmt.Sprintf("the DLID was minted %d times", mints)
	}
	slices.Sort(invoiced)
	wantInvoiced := slices.Sorted(slices.Values(m.invoices))
	if !slices.Equal(invoiced, wantInvoiced) {
		return fmt.Sprintf("invoiced orders %v; the model says %v", invoiced, wantInvoiced)
	}
	if got, want := sentByWorkflow(h), sortedEmails(m.emails); !slices.Equal(got, want) {
		return "emails differ:\n" + emailDiff(got, want)
	}
	p, ok := rec.lastProjection()
	if !ok {
		return "the license was never projected"
	}
	var wantExpiry time.Time
	if !m.lifetime {
		wantExpiry = m.expires
	}
	if p.Status != m.status() || !deref(p.ExpiresAt).Equal(wantExpiry) || !deref(p.GraceUntil).Equal(deref(m.graceUntil())) ||
		p.TierKey != m.tier || p.MaxDomains != m.maxDomains {
		return fmt.Sprintf("the database shows %s, tier %s, max %d, expires %s, grace until %s; the model says %s, tier %s, max %d, expires %s",
			p.Status, p.TierKey, p.MaxDomains, stamp(deref(p.ExpiresAt)), stamp(deref(p.GraceUntil)),
			m.status(), m.tier, m.maxDomains, stamp(wantExpiry))
	}
	return ""
}

// sentByWorkflow lists the emails the workflow sent as the model names
// them: the idempotency key without the workflow id.
func sentByWorkflow(h *harness) []modelEmail {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]modelEmail, len(h.emails))
	for i, e := range h.emails {
		_, step, _ := strings.Cut(e.key, "/")
		out[i] = modelEmail{Template: e.template, Step: step, At: e.at}
	}
	return sortedEmails(out)
}

func sortedEmails(es []modelEmail) []modelEmail {
	return slices.SortedFunc(slices.Values(es), func(a, b modelEmail) int {
		return cmp.Or(a.At.Compare(b.At), strings.Compare(a.Template, b.Template), strings.Compare(a.Step, b.Step))
	})
}

// emailDiff lists the emails only one side sent.
func emailDiff(got, want []modelEmail) string {
	var b strings.Builder
	extra, missing := slices.Clone(got), slices.Clone(want)
	for i := 0; i < len(extra); i++ {
		if j := slices.Index(missing, extra[i]); j >= 0 {
			missing = slices.Delete(missing, j, j+1)
			extra = slices.Delete(extra, i, i+1)
			i--
		}
	}
	for _, e := range extra {
		fmt.Fprintf(&b, "  sent, not in the model: %s %s at %s\n", e.Template, e.Step, stamp(e.At))
	}
	for _, e := range missing {
		fmt.Fprintf(&b, "  in the model, not sent: %s %s at %s\n", e.Template, e.Step, stamp(e.At))
	}
	return strings.TrimRight(b.String(), "\n")
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05.000")
}

// shrinkSequence drops steps one at a time while the sequence still
// mismatches, pass after pass until no step can go (a step kept for an
// earlier one, a reinstatement for a suspension, may go once that has), and
// returns the shortest sequence it found and its mismatch.
func shrinkSequence(t *testing.T, seq modelSequence) (modelSequence, string) {
	why := playModel(t, seq, -1).mismatch
	if why == "" {
		return seq, "none: played again, the sequence matches the model (the mismatch depends on something besides the steps)"
	}
	for dropped := true; dropped; {
		dropped = false
		for i := len(seq.Steps) - 1; i >= 0; i-- {
			shorter := modelSequence{Purchase: seq.Purchase, Steps: slices.Delete(slices.Clone(seq.Steps), i, i+1)}
			if out := playModel(t, shorter, -1); out.mismatch != "" {
				seq, why, dropped = shorter, out.mismatch, true
			}
		}
	}
	return seq, why
}

// GoString prints the sequence as Go, to paste into modelRegressions.
func (s modelSequence) GoString() string {
	var b strings.Builder
	p := s.Purchase
	fmt.Fprintf(&b, "{\n\tPurchase: workflows.PaidOrder{LicenseID: %q, OrderID: %q, CustomerEmail: %q, Tier: %q, MaxDomains: %d, Months: %d, Lifetime: %v, Type: %q},\n\tSteps: []modelStep{\n",
		p.LicenseID, p.OrderID, p.CustomerEmail, p.Tier, p.MaxDomains, p.Months, p.Lifetime, p.Type)
	for _, st := range s.Steps {
		msg := "nil"
		if st.Msg != nil {
			msg = describeMessage(st.Msg)
		}
		via := map[string]string{viaSignal: "viaSignal", viaUpdate: "viaUpdate", viaObserve: "viaObserve", viaRestart: "viaRestart", viaOutage: "viaOutage"}[st.Via]
		extra := ""
		if st.For != 0 {
			extra += fmt.Sprintf(", For: %d * time.Second", st.For/time.Second)
		}
		if st.Repeat != 0 {
			extra += fmt.Sprintf(", Repeat: %d", st.Repeat)
		}
		fmt.Fprintf(&b, "\t\t{At: %d * time.Millisecond, Via: %s, Msg: %s%s}, // %s\n", st.At.Milliseconds(), via, msg, extra, stamp(t0.Add(st.At)))
	}
	b.WriteString("\t},\n}")
	return b.String()
}

func describeStep(s modelStep) string {
	if s.Msg == nil {
		return s.Via
	}
	return s.Via + " " + describeMessage(s.Msg)
}

// describeMessage prints a message as a Go literal; times are offsets from t0.
func describeMessage(msg any) string {
	return goLiteral(reflect.ValueOf(msg))
}

func goLiteral(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case time.Time:
		return fmt.Sprintf("t0.Add(%d * time.Millisecond)", x.Sub(t0).Milliseconds())
	case *time.Time:
		return fmt.Sprintf("timeAt(%d * time.Millisecond)", x.Sub(t0).Milliseconds())
	}
	switch v.Kind() {
	case reflect.Pointer:
		return "&" + goLiteral(v.Elem())
	case reflect.String:
		return strconv.Quote(v.String())
	case reflect.Struct:
		var fields []string
		for i := range v.NumField() {
			if !v.Field(i).IsZero() {
				fields = append(fields, v.Type().Field(i).Name+": "+goLiteral(v.Field(i)))
			}
		}
		return fmt.Sprintf("%s{%s}", v.Type(), strings.Join(fields, ", "))
	}
	return fmt.Sprint(v.Interface())
}

// timeAt is t0 + d, as a pointer (RenewRequest.ExpiresAt).
func timeAt(d time.Duration) *time.Time {
	t := t0.Add(d)
	return &t
}
