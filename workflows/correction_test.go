package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/workflows"
)

// correctAt sends a correction of the expiry to `to`, `after` the run starts.
func correctAt(t *testing.T, env *testsuite.TestWorkflowEnvironment, after time.Duration, to func() time.Time, got *workflows.LicenseState) {
	env.RegisterDelayedCallback(func() {
		update(env, models.CorrectExpiryRequest{ExpiresAt: to(), Actor: "token:ops"},
			func(st workflows.LicenseState, err error) {
				require.NoError(t, err)
				*got = st
			})
	}, after)
}

func TestMovingTheExpiryCloseSendsTheThirtyDayReminderOnce(t *testing.T) {
	for name, age := range map[string]time.Duration{
		"a year-old license": 340 * day,
		"a new license":      time.Hour,
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			in := purchase("crm-correct-"+name, "pos", 13)
			h.paidOrder(in)
			movedAt := t0.Add(age)
			to := movedAt.Add(30*day + 20*time.Second)
			var answer workflows.LicenseState
			r := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
				correctAt(t, env, age, func() time.Time { return env.Now().Add(30*day + 20*time.Second) }, &answer)
			})
			require.NoError(t, r.err)
			require.Nil(t, r.next, "a correction is not a renewal: no continue-as-new")

			assert.Equal(t, to, *answer.ExpiresAt)
			assert.Equal(t, 0, answer.Renewals, "a correction counts no renewal")
			assert.Equal(t, t0, answer.PeriodStart, "the paid period keeps its start")
			sent := h.sent("reminder-30d")
			require.Len(t, sent, 1, "exactly one 30-day reminder")
			assert.Equal(t, movedAt.Add(20*time.Second), sent[0].at, "at its deadline, 20 s after the move")
			assert.Len(t, h.sent("reminder-7d"), 1)
			assert.Len(t, h.sent("expired"), 1)
			assert.Empty(t, h.sent("renewed"), "no renewal email")
			assert.Equal(t, to, *h.license(in.Purchase.LicenseID).ExpiresAt)
		})
	}
}

func TestShorteningIsACorrectionAndRemindersAlreadyDueStayQuiet(t *testing.T) {
	h := newHarness(t)
	in := purchase("crm-shorten", "pos", 12)
	h.paidOrder(in)
	var answer workflows.LicenseState
	r := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		correctAt(t, env, 100*day, func() time.Time { return env.Now().Add(20 * day) }, &answer)
	})
	require.NoError(t, r.err)
	expires := t0.Add(120 * day)
	assert.Equal(t, expires, *answer.ExpiresAt)
	assert.Equal(t, 0, answer.Renewals)
	assert.Empty(t, h.sent("reminder-30d"), "its deadline had passed when the expiry moved")
	sent := h.sent("reminder-7d")
	require.Len(t, sent, 1)
	assert.Equal(t, expires.Add(-7*day), sent[0].at)
	assert.Len(t, h.sent("expired"), 1)
}

func TestMovingTheExpiryOutAgainRemindsForTheNewExpiry(t *testing.T) {
	h := newHarness(t)
	in := purchase("crm-move-out", "pos", 12)
	h.paidOrder(in)
	first := models.AddMonths(t0, 12)
	var answer workflows.LicenseState
	r := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		// After the 30-day reminder of the first expiry went out.
		correctAt(t, env, first.Sub(t0)-20*day, func() time.Time { return first.Add(60 * day) }, &answer)
	})
	require.NoError(t, r.err)
	sent := h.sent("reminder-30d")
	require.Len(t, sent, 2, "one for each expiry")
	assert.Equal(t, first.Add(-30*day), sent[0].at)
	assert.Equal(t, first.Add(30*day), sent[1].at)
	assert.NotEqual(t, sent[0].key, sent[1].key)
}

func TestCorrectionIsRefusedForPastFarAndMissingDates(t *testing.T) {
	h := newHarness(t)
	in := purchase("crm-refuse", "pos", 12)
	h.paidOrder(in)
	var errs []error
	r := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			for _, to := range []time.Time{env.Now().Add(-time.Hour), env.Now().Add(11 * 365 * day), {}} {
				update(env, models.CorrectExpiryRequest{ExpiresAt: to}, func(_ workflows.LicenseState, err error) {
					errs = append(errs, err)
				})
			}
			signal(env, models.RevokeRequest{})
		}, day)
	})
	require.NoError(t, r.err)
	require.Len(t, errs, 3)
	for _, err := range errs {
		assert.Error(t, err)
	}
}

func TestARearmedTimerIsCancelled(t *testing.T) {
	h := newHarness(t)
	in := purchase("crm-timers", "pos", 12)
	h.paidOrder(in)
	var started, cancelled, fired int
	r := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		env.SetOnTimerScheduledListener(func(string, time.Duration) { started++ })
		env.SetOnTimerCanceledListener(func(string) { cancelled++ })
		env.SetOnTimerFiredListener(func(string) { fired++ })
		for i, name := range []string{"a", "b", "c", "d"} {
			env.RegisterDelayedCallback(func() {
				update(env, models.SetMaxDomainsRequest{MaxDomains: 6 + i, RequestID: name}, func(_ workflows.LicenseState, err error) {
					require.NoError(t, err)
				})
			}, time.Duration(i+1)*day)
		}
		env.RegisterDelayedCallback(func() {
			assert.Equal(t, 1, started-cancelled-fired, "one live timer after four messages")
			signal(env, models.RevokeRequest{})
		}, 10*day)
	})
	require.NoError(t, r.err)
	assert.Equal(t, 5, started, "the first timer and one per message")
	assert.Equal(t, 5, cancelled, "each re-armed timer is cancelled, and the last one at revocation")
	assert.Zero(t, fired)
}

func TestTheLedgerRecordsEveryChangeWithItsActor(t *testing.T) {
	h := newHarness(t)
	in := purchase("crm-ledger", "pos", 12)
	in.Purchase.Actor = "token:crm"
	h.paidOrder(in)
	r := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			update(env, models.SuspendRequest{Reason: "chargeback", Actor: "stripe:evt_1"}, func(_ workflows.LicenseState, err error) {
				require.NoError(t, err)
			})
			update(env, models.ReinstateRequest{Actor: "admin:ops@vendor.example"}, func(_ workflows.LicenseState, err error) {
				require.NoError(t, err)
			})
		}, day)
		env.RegisterDelayedCallback(func() {
			signal(env, models.RevokeRequest{Reason: "done", Actor: "token:crm"})
		}, 340*day)
	})
	require.NoError(t, r.err)
	events, err := h.store.LicenseLedger(context.Background(), models.LedgerFilter{LicenseID: in.Purchase.LicenseID, Limit: 500})
	require.NoError(t, err)
	type line struct{ actor, action, field, old, new string }
	var got []line
	for i := len(events) - 1; i >= 0; i-- { // oldest first
		e := events[i]
		got = append(got, line{e.Actor, e.Action, e.Field, e.Old, e.New})
	}
	expires := models.AddMonths(t0, 12).Format(time.RFC3339)
	assert.Equal(t, []line{
		{"token:crm", "issue", "status", "pending", "active"},
		{"token:crm", "issue", "expires_at", "never", expires},
		{"token:crm", "issue", "entitlements", "", "base,pos"},
		{"token:crm", "invoice", "", "", ""},
		{"stripe:evt_1", "suspend", "status", "active", "suspended"},
		{"admin:ops@vendor.example", "reinstate", "status", "suspended", "active"},
		{"timer:reminder-30d", "reminder-30d", "status", "active", "expiring"},
		{"token:crm", "revoke", "status", "expiring", "revoked"},
	}, got)
	for _, e := range events {
		l := h.license(in.Purchase.LicenseID)
		assert.NotContains(t, e.Old+e.New+e.Note, l.Key(), "the ledger never holds the full key")
	}
}
