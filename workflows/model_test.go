package workflows_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	var played, mismatches, steps, runs, resumed, raced atomic.Int64
	var endingsMu sync.Mutex
	endings := map[string]int{}
	var reported atomic.Int64
	began := time.Now()
	t.Run("sequences", func(t *testing.T) {
		for w := range workers {
			t.Run(fmt.Sprintf("worker-%d", w), func(t *testing.T) {
				t.Parallel()
				world := newModelWorld(t)
				for i := w; i < int(sequences); i += workers {
					seq := generateSequence(sequenceSeed(uint64(seed), i))
					out := playModel(t, world, seq)
					steps.Add(int64(len(seq.Steps)))
					runs.Add(int64(out.runs))
					resumed.Add(int64(out.resumed))
					raced.Add(int64(out.raced))
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
					minimal, why := shrinkSequence(t, world, seq)
					t.Errorf("model mismatch: LICENSEFLOW_MODEL_SEED=%d, sequence %d (%d steps)\n%s\n\nminimal reproduction (%d steps): %s\n%s",
						seed, i, len(seq.Steps), out.mismatch, len(minimal.Steps), why, minimal.GoString())
				}
			})
		}
	})
	seconds := time.Since(began).Seconds()
	t.Logf("model run: %d sequences (LICENSEFLOW_MODEL_SEED=%d), %d steps, %d workflow runs (%d resuming a closed license), %d updates raced a continue-as-new, %d mismatches, %.1f s; lifecycles ended: %v",
		sequences, seed, steps.Load(), runs.Load(), resumed.Load(), raced.Load(), mismatches.Load(), seconds, endings)
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
	world := newModelWorld(t)
	for name, seq := range modelRegressions {
		t.Run(name, func(t *testing.T) {
			if out := playModel(t, world, seq); out.mismatch != "" {
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

// modelSequence is one generated lifecycle: the purchase at t0 under a
// policy, then steps at fixed offsets from it.
type modelSequence struct {
	Purchase workflows.PaidOrder
	Policy   workflows.Policy
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
	// Racing: an update sent the moment the previous step's update is
	// answered, while the workflow is still busy with what it asked for.
	Racing bool
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
	// resumed counts the times the closed license came back; raced the
	// times a draining run told an update to retry.
	resumed, raced int
	// ending is how the lifecycle ended: at the horizon, revoked, or
	// closed after retention.
	ending    string
	snapshots map[int]modelSnapshot
	// played is the sequence with the ids this play gave it, acts what its
	// activities answered: a re-execution gets both.
	played modelSequence
	acts   *modelActivities
}

// modelSnapshot is everything observable at a worker restart: the state and
// every activity the workflow scheduled so far with its input (the key
// minted, the emails, invoices and projections asked for), in the order
// the workflow scheduled them.
type modelSnapshot struct {
	State     workflows.LicenseState
	Scheduled []string
}

// playModel plays seq in w with ids of its own (see modelWorld.fresh) and
// checks it against the model after every step, then checks every worker
// restart in it (see checkRestarts).
func playModel(t *testing.T, w *modelWorld, seq modelSequence) modelOutcome {
	seq = w.fresh(seq)
	w.recordPurchase(t, seq.Purchase)
	out := executeModel(t, w, seq, -1, newModelActivities(w.acts))
	if out.mismatch == "" && out.ending != "" {
		checkRestarts(t, w, out, func(at time.Time, format string, args ...any) {
			out.mismatch = fmt.Sprintf("at %s: %s", at.Format("2006-01-02 15:04:05.000"), fmt.Sprintf(format, args...))
		})
	}
	return out
}

// executeModel runs seq against LicenseWorkflow, following continue-as-new,
// and checks it against the model after every step. With stopAt >= 0 it is
// a re-execution: it only replays the steps up to that restart step, with
// the activities answering as in the first execution, without checks, and
// stops there.
func executeModel(t *testing.T, w *modelWorld, seq modelSequence, stopAt int, acts *modelActivities) modelOutcome {
	h := &harness{t: t, acts: acts, store: w.store}
	refusedSignals := &signalRefusals{}
	h.SetLogger(refusedSignals)
	m := newLifecycleModel(seq.Purchase, seq.Policy, t0)
	out := modelOutcome{snapshots: map[int]modelSnapshot{}, played: seq, acts: acts}
	orders := map[string]int64{seq.Purchase.OrderID: priceOf(seq.Purchase)}
	var signalsRefused []string // the codes the model refuses signals with, in order
	fail := func(at time.Time, format string, args ...any) {
		if out.mismatch == "" {
			out.mismatch = fmt.Sprintf("at %s (model: %s): %s", at.Format("2006-01-02 15:04:05.000"), m.phase(), fmt.Sprintf(format, args...))
		}
	}
	inFlight := &activitiesInFlight{}
	check := func(env *testsuite.TestWorkflowEnvironment) string {
		if diff := compareRunning(m, query(t, env), w, seq.Purchase.LicenseID, orders, h); diff != "" {
			return diff
		}
		if got := refusedSignals.codes(); !slices.Equal(got, signalsRefused) {
			return fmt.Sprintf("signals refused with %v; the model refuses %v", got, signalsRefused)
		}
		return ""
	}

	type action struct {
		at time.Duration
		do func(env *testsuite.TestWorkflowEnvironment)
		// message: the action delivers a message, which brings a closed
		// license back.
		message bool
	}
	// retry holds updates a draining run told to retry, for the next run;
	// racers the racing steps, started by the answer to the step before.
	var retry []func(env *testsuite.TestWorkflowEnvironment)
	racers := map[int]func(env *testsuite.TestWorkflowEnvironment){}
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
				out.snapshots[i] = modelSnapshot{State: query(t, env), Scheduled: slices.Clone(inFlight.scheduled)}
				if i == stopAt {
					env.CancelWorkflow()
				}
			}, false})
		case viaOutage:
			actions = append(actions, action{s.At, func(env *testsuite.TestWorkflowEnvironment) {
				// The next run starts from the state the worker had, when it is
				// back: timers that fell due meanwhile fire late, all at once.
				back = at.Add(s.For)
				m.outage(at, back)
				st := query(t, env)
				resume = &workflows.LicenseInput{Policy: seq.Policy, State: &st}
				env.CancelWorkflow()
			}, false})
		case viaUpdate:
			if !s.Racing {
				break
			}
			// Sent by the answer to the step before; a draining run's
			// "retry" sends it again to the next run as it starts.
			var send func(env *testsuite.TestWorkflowEnvironment)
			send = func(env *testsuite.TestWorkflowEnvironment) {
				now := env.Now()
				update(env, s.Msg, func(_ workflows.LicenseState, err error) {
					if refusalCode(err) == workflows.RejectRetryLater {
						out.raced++
						retry = append(retry, send)
						return
					}
					refused := m.applyAhead(now, s.Msg)
					if stopAt < 0 && refusalCode(err) != refused {
						fail(now, "step %d %s: the update was answered %q (%v); the model answers %q", i, describeMessage(s.Msg), refusalCode(err), err, refused)
					}
					if refused == "" {
						m.overtaken(now)
					}
				})
			}
			racers[i] = send
		}
		switch {
		case s.Racing:
		case s.Via == viaSignal, s.Via == viaUpdate:
			actions = append(actions, action{s.At, func(env *testsuite.TestWorkflowEnvironment) {
				if r, ok := renewalOf(s.Msg); ok && r.OrderID != "" && stopAt < 0 {
					if _, known := orders[r.OrderID]; !known {
						orders[r.OrderID] = w.recordRenewal(t, seq.Purchase.LicenseID, r)
					}
				}
				if r, ok := s.Msg.(models.AddEntitlementRequest); ok && r.OrderID != "" && stopAt < 0 {
					if _, known := orders[r.OrderID]; !known {
						orders[r.OrderID] = w.recordAddon(t, seq.Purchase.LicenseID, r)
					}
				}
				refused := m.apply(at, s.Msg)
				if s.Via == viaSignal {
					if refused != "" {
						signalsRefused = append(signalsRefused, refused)
					}
					signal(env, s.Msg)
					for range s.Repeat {
						if again := m.apply(at, s.Msg); again != "" {
							signalsRefused = append(signalsRefused, again)
						}
						signal(env, s.Msg)
					}
					return
				}
				update(env, s.Msg, func(st workflows.LicenseState, err error) {
					if race := racers[i+1]; race != nil {
						env.RegisterDelayedCallback(func() { race(env) }, 0)
					}
					if stopAt >= 0 {
						return
					}
					if got := refusalCode(err); got != refused {
						fail(at, "step %d %s: the update was answered %q (%v); the model answers %q", i, describeMessage(s.Msg), got, err, refused)
					} else if err == nil && st.LicenseID != seq.Purchase.LicenseID {
						fail(at, "step %d %s: the update answered no license state: %+v", i, describeMessage(s.Msg), st)
					}
				})
			}, true})
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
			if diff := check(env); diff != "" {
				fail(now, "after step %d %s: %s", i, describeStep(s), diff)
			}
		}, false})
	}
	if stopAt < 0 {
		actions = append(actions, action{modelHorizon + checkDelay, func(env *testsuite.TestWorkflowEnvironment) {
			now := t0.Add(modelHorizon + checkDelay)
			m.advance(now)
			if m.closed {
				fail(now, "at the horizon the workflow still runs; the model has it closed")
			} else if diff := check(env); diff != "" {
				fail(now, "at the horizon: %s", diff)
			}
			env.CancelWorkflow()
		}, false})
	}

	done := make([]bool, len(actions))
	in, start := workflows.LicenseInput{Purchase: seq.Purchase, Policy: seq.Policy}, t0
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
				if time.Since(holdingSince) > modelTimeout {
					fail(env.Now(), "the workflow was still busy with %d activities a minute later", inFlight.n)
					return
				}
				time.Sleep(100 * time.Microsecond) // let the activities have the processor
				env.RegisterDelayedCallback(hold, 0)
			}
			env.SetOnTimerFiredListener(func(string) { env.RegisterDelayedCallback(hold, 0) })
			// A run's first task applies too: a run after an outage reaches every
			// deadline that fell due meanwhile at its start.
			env.RegisterDelayedCallback(hold, 0)
			// The API sends them again 20 ms later; here as the run starts, so
			// when they land does not depend on how long activities take.
			for _, send := range retry {
				env.RegisterDelayedCallback(func() { send(env) }, 0)
			}
			retry = nil
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
						if time.Since(waitingSince) > modelTimeout {
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
		// A license closed after retention comes back with the next message:
		// the API starts a run that loads it from the database, with the
		// message (signal- or update-with-start).
		if next := slices.Index(done, false); next >= 0 && actions[next].message && r.err == nil && r.result.Status != models.StatusRevoked && out.mismatch == "" {
			if stopAt < 0 {
				m.advance(r.end)
				if !m.closed {
					fail(r.end, "the workflow closed (%s, %s); the model has it open", r.result.Status, r.result.Reason)
				} else if diff := compareEffects(m, w, seq.Purchase.LicenseID, orders, h); diff != "" {
					fail(r.end, "when the workflow closed: %s", diff)
				}
			}
			out.resumed++
			in = workflows.LicenseInput{Policy: seq.Policy, Resume: true, Purchase: workflows.PaidOrder{LicenseID: seq.Purchase.LicenseID}}
			start = t0.Add(actions[next].at)
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
			} else if diff := compareEffects(m, w, seq.Purchase.LicenseID, orders, h); diff != "" {
				fail(r.end, "when the workflow closed: %s", diff)
			}
		}
		return out
	}
}

// priceOf is what recordPurchase charged for the purchase.
func priceOf(p workflows.PaidOrder) int64 {
	amount, _ := tierPrice(p.Tier, p.Months)
	return amount
}

// renewalOf is the renewal a message carries, if any.
func renewalOf(msg models.LicenseMessage) (models.RenewRequest, bool) {
	switch r := msg.(type) {
	case models.RenewRequest:
		return r, true
	case models.PatchRequest:
		if r.Renew != nil {
			return *r.Renew, true
		}
	}
	return models.RenewRequest{}, false
}

// refusalCode is the stable code an update was refused with ("" when it
// was accepted): the code the API answers with.
func refusalCode(err error) string {
	if err == nil {
		return ""
	}
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		return "not an application error: " + err.Error()
	}
	var code, field string
	if app.Details(&code, &field) != nil || code == "" {
		return app.Type()
	}
	return code
}

// signalRefusals is the workflow's logger in the model test: it keeps the
// code of every signal the workflow refused (logged, since a signal has no
// answer), so refusals are compared with the model's, and drops the rest.
type signalRefusals struct {
	mu      sync.Mutex
	refused []string
}

func (l *signalRefusals) codes() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.refused)
}

func (l *signalRefusals) Warn(msg string, keyvals ...any) {
	if msg != "Signal ignored" {
		return
	}
	for i := 0; i+1 < len(keyvals); i += 2 {
		if err, ok := keyvals[i+1].(error); ok && keyvals[i] == "error" {
			l.mu.Lock()
			l.refused = append(l.refused, refusalCode(err))
			l.mu.Unlock()
		}
	}
}

func (*signalRefusals) Debug(string, ...any) {}
func (*signalRefusals) Info(string, ...any)  {}
func (*signalRefusals) Error(string, ...any) {}

// checkRestarts stands for worker restarts. The test environment keeps no
// history to hand to worker.NewWorkflowReplayer, so a restart at a step is
// checked the way a replay works: a fresh worker re-executes the workflow
// from its inputs alone (the same messages at the same instants; every
// activity answers as it did the first time), and must arrive at the same
// state having scheduled the same activities with the same inputs in the
// same order. Anything that does not follow from history (map order,
// wall-clock time, state kept outside the workflow) shows up as a
// difference. The recorded histories in testdata are replayed for real by
// replay_test.go.
func checkRestarts(t *testing.T, w *modelWorld, primary modelOutcome, fail func(time.Time, string, ...any)) {
	for i, s := range primary.played.Steps {
		want, ok := primary.snapshots[i]
		if s.Via != viaRestart || !ok {
			continue
		}
		got := executeModel(t, w, primary.played, i, primary.acts.again()).snapshots[i]
		if diff := snapshotDiff(want, got); diff != "" {
			fail(t0.Add(s.At), "a worker restarted at step %d re-executes differently: %s", i, diff)
			return
		}
	}
}

// snapshotDiff names the first part of two snapshots that differs.
func snapshotDiff(first, again modelSnapshot) string {
	if !reflect.DeepEqual(first.State, again.State) {
		return fmt.Sprintf("state: first %+v, again %+v", first.State, again.State)
	}
	for k := range min(len(first.Scheduled), len(again.Scheduled)) {
		if first.Scheduled[k] != again.Scheduled[k] {
			return fmt.Sprintf("activity %d: first %s, again %s", k, first.Scheduled[k], again.Scheduled[k])
		}
	}
	if len(first.Scheduled) != len(again.Scheduled) {
		return fmt.Sprintf("first %d activities, again %d", len(first.Scheduled), len(again.Scheduled))
	}
	return ""
}

// compareRunning compares the running workflow's state, and what it did so
// far, with the model; it returns the first difference.
func compareRunning(m *lifecycleModel, st workflows.LicenseState, w *modelWorld, licenseID string, orders map[string]int64, h *harness) string {
	l, err := w.store.GetLicense(context.Background(), licenseID)
	if err != nil {
		return fmt.Sprintf("the license is not in the database: %v", err)
	}
	if want := maskedKey(l.Key()); st.DLIDMasked != want {
		return fmt.Sprintf("the workflow shows the DLID as %s; the key minted is %s", st.DLIDMasked, want)
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
		return fmt.Sprintf("the workflow's entitlements %v; the model says %v", ents, want)
	}
	return compareEffects(m, w, licenseID, orders, h)
}

// compareEffects compares what the database holds for the license (the
// projected license, its entitlements, invoices and outbox) and the emails
// the workflow sent, with the model.
func compareEffects(m *lifecycleModel, w *modelWorld, licenseID string, orders map[string]int64, h *harness) string {
	ctx := context.Background()
	l, err := w.store.GetLicense(ctx, licenseID)
	if err != nil {
		return fmt.Sprintf("the license is not in the database: %v", err)
	}
	var wantExpiry time.Time
	if !m.lifetime {
		wantExpiry = m.expires
	}
	if l.Status != m.status() || !deref(l.ExpiresAt).Equal(wantExpiry) || !deref(l.GraceUntil).Equal(deref(m.graceUntil())) ||
		l.TierKey != m.tier || l.MaxDomains != m.maxDomains {
		return fmt.Sprintf("the database shows %s, tier %s, max %d, expires %s, grace until %s; the model says %s, tier %s, max %d, expires %s, grace until %s",
			l.Status, l.TierKey, l.MaxDomains, stamp(deref(l.ExpiresAt)), stamp(deref(l.GraceUntil)),
			m.status(), m.tier, m.maxDomains, stamp(wantExpiry), stamp(deref(m.graceUntil())))
	}
	stored, err := w.store.GetEntitlements(ctx, licenseID)
	if err != nil {
		return err.Error()
	}
	var ents []string
	for _, e := range stored {
		if e.Repo != catalogRepo(e.ProductCode) {
			return fmt.Sprintf("the database entitles %s to repo %s; the catalog says %s", e.ProductCode, e.Repo, catalogRepo(e.ProductCode))
		}
		ents = append(ents, e.ProductCode+":"+string(e.Source))
	}
	slices.Sort(ents)
	if want := m.entitlements(); !slices.Equal(ents, want) {
		return fmt.Sprintf("the database's entitlements %v; the model says %v", ents, want)
	}
	invoices, err := w.store.ListInvoices(ctx, licenseID)
	if err != nil {
		return err.Error()
	}
	numbers := map[string]models.Invoice{} // by order
	var invoiced []string
	for _, inv := range invoices {
		invoiced = append(invoiced, inv.OrderID)
		numbers[inv.OrderID] = inv
		if amount := orders[inv.OrderID]; inv.TotalCents != amount {
			return fmt.Sprintf("invoice %s for order %s totals %s; the order was paid %s", inv.Number, inv.OrderID,
				money(inv.TotalCents, inv.Currency), money(amount, inv.Currency))
		}
	}
	slices.Sort(invoiced)
	if want := slices.Sorted(slices.Values(m.invoices)); !slices.Equal(invoiced, want) {
		return fmt.Sprintf("invoiced orders %v; the model says %v", invoiced, want)
	}
	if got, want := sentByWorkflow(h), sortedEmails(m.emails); !slices.Equal(withoutContent(got), withoutContent(want)) {
		return "emails differ:\n" + emailDiff(withoutContent(got), withoutContent(want))
	}
	if diff := compareLedger(m, w, licenseID, numbers); diff != "" {
		return diff
	}
	return compareOutbox(m, w, l, numbers)
}

// compareLedger compares the license's ledger, line by line in the order
// it was written, with the lines the model expects.
func compareLedger(m *lifecycleModel, w *modelWorld, licenseID string, invoices map[string]models.Invoice) string {
	var got []models.LicenseEvent
	for before := uint64(0); ; {
		page, err := w.store.LicenseLedger(context.Background(), models.LedgerFilter{LicenseID: licenseID, Before: before, Limit: 500})
		if err != nil {
			return err.Error()
		}
		got = append(got, page...)
		if len(page) < 500 {
			break
		}
		before = page[len(page)-1].ID
	}
	slices.Reverse(got) // newest first -> as written
	line := func(e models.LicenseEvent) string {
		return fmt.Sprintf("%s %s %s %s %q -> %q (%s)", stamp(e.At), e.Actor, e.Action, e.Field, e.Old, e.New, e.Note)
	}
	for i := range max(len(got), len(m.ledger)) {
		var want models.LicenseEvent
		if i < len(m.ledger) {
			l := m.ledger[i]
			want = models.LicenseEvent{At: l.At, Actor: l.Actor, Action: l.Action, Field: l.Field, Old: l.Old, New: l.New, Note: l.Note}
			if l.InvoiceOf != "" {
				want.Note = "invoice " + invoices[l.InvoiceOf].Number
			}
		}
		switch {
		case i >= len(got):
			return fmt.Sprintf("ledger line %d missing: %s", i, line(want))
		case i >= len(m.ledger):
			return fmt.Sprintf("ledger line %d not in the model: %s", i, line(got[i]))
		case line(got[i]) != line(want):
			return fmt.Sprintf("ledger line %d is %s; the model says %s", i, line(got[i]), line(want))
		}
	}
	return ""
}

// compareOutbox reads each email the model sent from the outbox and checks
// what it says: the license as it stood (plan, domains, expiry), the key in
// the delivery email, the invoice's number and total, a failed payment's
// amount and link.
func compareOutbox(m *lifecycleModel, w *modelWorld, l models.License, invoices map[string]models.Invoice) string {
	msgs, err := w.store.ListEmails(context.Background(), models.EmailFilter{LicenseID: l.ID, Limit: 1000})
	if err != nil {
		return err.Error()
	}
	byKey := map[string]models.EmailMessage{}
	for _, msg := range msgs {
		byKey[msg.IdempotencyKey] = msg
	}
	// An email asked for again under its key (a payment event redelivered
	// after the license had closed and forgotten it) is stored once.
	keys := map[string]bool{}
	for _, e := range m.emails {
		keys[e.Step] = true
	}
	if len(msgs) != len(keys) {
		return fmt.Sprintf("the outbox holds %d emails for the license; the model sent %d distinct ones", len(msgs), len(keys))
	}
	checked := map[string]bool{}
	for _, e := range m.emails {
		if checked[e.Step] { // the outbox keeps the first message of a key
			continue
		}
		checked[e.Step] = true
		key := models.LicenseWorkflowID(l.ID) + "/" + e.Step
		msg, ok := byKey[key]
		if !ok {
			return fmt.Sprintf("no %s email %s in the outbox", e.Template, key)
		}
		if msg.Template != e.Template || msg.To != l.Customer.Email {
			return fmt.Sprintf("outbox email %s is %s to %s; the model sent %s to %s", key, msg.Template, msg.To, e.Template, l.Customer.Email)
		}
		c := e.Shows
		shows := func(c emailContent) []string {
			out := []string{
				"Plan:      " + catalogTierName(c.Tier) + " (" + c.Tier + ")",
				fmt.Sprintf("Domains:   up to %d", c.MaxDomains),
				"Expires:   never (lifetime license)",
			}
			if !c.Expires.IsZero() {
				out[2] = "Expires:   " + c.Expires.UTC().Format("2 January 2006")
			}
			return out
		}
		want := shows(c)
		if e.OrShows != nil && !containsAll(msg.TextBody, want) {
			want = shows(*e.OrShows)
		}
		switch e.Template {
		case "delivery":
			want = append(want, l.Key())
		case "invoice":
			inv, ok := invoices[c.Order]
			if !ok {
				return fmt.Sprintf("email %s names order %s, which has no invoice", key, c.Order)
			}
			want = append(want, fmt.Sprintf("invoice %s (%s)", inv.Number, money(inv.TotalCents, inv.Currency)))
			if msg.InvoiceNumber != inv.Number {
				return fmt.Sprintf("email %s attaches invoice %q; the order's invoice is %s", key, msg.InvoiceNumber, inv.Number)
			}
		case "payment-failed":
			if c.AmountDue != "" {
				want = append(want, "could not collect "+c.AmountDue)
			}
			if c.PaymentURL != "" {
				want = append(want, "pay or update your payment method here: "+c.PaymentURL)
			}
		}
		if e.Template != "delivery" && strings.Contains(msg.TextBody, l.Key()) {
			return fmt.Sprintf("email %s shows the full key; only the delivery email may", key)
		}
		for _, line := range want {
			if !strings.Contains(msg.TextBody, line) {
				return fmt.Sprintf("email %s does not say %q:\n%s", key, line, msg.TextBody)
			}
		}
	}
	return ""
}

func containsAll(text string, lines []string) bool {
	for _, l := range lines {
		if !strings.Contains(text, l) {
			return false
		}
	}
	return true
}

// maskedKey is how a DLID may be shown: its first and last four characters.
func maskedKey(dlid string) string {
	if len(dlid) < 8 {
		return "(no key: " + dlid + ")"
	}
	return dlid[:4] + "…" + dlid[len(dlid)-4:]
}

func money(cents int64, currency string) string {
	return fmt.Sprintf("%d.%02d %s", cents/100, cents%100, currency)
}

// withoutContent keeps what the workflow's activity calls show of an email:
// template, step and time.
func withoutContent(es []modelEmail) []modelEmail {
	out := make([]modelEmail, len(es))
	for i, e := range es {
		out[i] = modelEmail{Template: e.Template, Step: e.Step, At: e.At}
	}
	return out
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
func shrinkSequence(t *testing.T, w *modelWorld, seq modelSequence) (modelSequence, string) {
	why := playModel(t, w, seq).mismatch
	if why == "" {
		return seq, "none: played again, the sequence matches the model (the mismatch depends on something besides the steps)"
	}
	for dropped := true; dropped; {
		dropped = false
		for i := len(seq.Steps) - 1; i >= 0; i-- {
			shorter := modelSequence{Purchase: seq.Purchase, Policy: seq.Policy, Steps: slices.Delete(slices.Clone(seq.Steps), i, i+1)}
			if out := playModel(t, w, shorter); out.mismatch != "" {
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
	expires := "" // a trial's end
	if p.ExpiresAt != nil {
		expires = fmt.Sprintf(", ExpiresAt: timeAt(%d * time.Millisecond)", p.ExpiresAt.Sub(t0).Milliseconds())
	}
	fmt.Fprintf(&b, "{\n\tPurchase: workflows.PaidOrder{LicenseID: %q, OrderID: %q, CustomerEmail: %q, Tier: %q, MaxDomains: %d, Months: %d, Lifetime: %v, Type: %q%s},\n\tSteps: []modelStep{\n",
		p.LicenseID, p.OrderID, p.CustomerEmail, p.Tier, p.MaxDomains, p.Months, p.Lifetime, p.Type, expires)
	if s.Policy != (workflows.Policy{}) {
		fmt.Fprintf(&b, "\tPolicy: workflows.Policy{GracePeriod: %d * time.Hour, Retention: %d * time.Hour},\n", s.Policy.GracePeriod/time.Hour, s.Policy.Retention/time.Hour)
	}
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
		if st.Racing {
			extra += ", Racing: true"
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
