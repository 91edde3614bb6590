package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/workflows"
)

func TestPurchaseIssuesTheLicenseStepByStep(t *testing.T) {
	h := newHarness(t)
	in := purchase("crm-1", "pos", 12)
	h.paidOrder(in)
	var st workflows.LicenseState
	r := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			st = query(t, env)
			signal(env, models.RevokeRequest{Reason: "end of test"})
		}, time.Hour)
	})
	require.NoError(t, r.err)

	assert.Equal(t, []string{
		"local:MintAndExpand", "local:ProjectLicense", "SendLicenseEmail:delivery",
		"local:IssueInvoice", "SendLicenseEmail:invoice", "local:ProjectLicense",
	}, h.activity[:6], "mint and expand, project, deliver, invoice, project — in that order")
	assert.Equal(t, models.StatusActive, st.Status)
	assert.True(t, st.Issued())
	assert.Equal(t, models.AddMonths(t0, 12), *st.ExpiresAt)
	assert.Equal(t, []string{"stable"}, st.Channels)
	assert.Len(t, st.Entitlements, 2)
	assert.Regexp(t, `^[0-9a-f]{4}…[0-9a-f]{4}$`, st.DLIDMasked, "history and queries only carry the masked key")

	l := h.license(in.Purchase.LicenseID)
	assert.True(t, models.ValidDLID(l.Key()))
	assert.Equal(t, st.DLIDMasked, models.MaskDLID(l.Key()))
	assert.Equal(t, 1, h.outbox(l.ID, "delivery"))
	assert.Equal(t, 1, h.outbox(l.ID, "invoice"))
	msgs, err := h.store.ListEmails(context.Background(), models.EmailFilter{LicenseID: l.ID, Template: "delivery"})
	require.NoError(t, err)
	assert.Contains(t, msgs[0].TextBody, l.Key(), "the delivery email carries the full key")
	assert.Equal(t, models.EmailHeld, msgs[0].Status, "without SMTP the message is held in the outbox")
	invoices, err := h.store.ListInvoices(context.Background(), l.ID)
	require.NoError(t, err)
	require.Len(t, invoices, 1)
	assert.Equal(t, models.StatusRevoked, l.Status)
}

func TestRemindersFireOnceEachAtTheirInstants(t *testing.T) {
	h := newHarness(t)
	in := purchase("crm-2", "pos", 12)
	h.paidOrder(in)
	r := h.run(in, t0, nil)
	require.NoError(t, r.err)
	require.Nil(t, r.next, "no renewal, no continue-as-new")

	expires := models.AddMonths(t0, 12)
	for template, at := range map[string]time.Time{
		"reminder-30d": expires.Add(-30 * day),
		"reminder-7d":  expires.Add(-7 * day),
		"expired":      expires,
	} {
		sent := h.sent(template)
		require.Len(t, sent, 1, template)
		assert.Equal(t, at, sent[0].at, "%s fires at its instant", template)
		assert.Equal(t, 1, h.outbox(in.Purchase.LicenseID, template), template)
	}
	assert.Equal(t, "license-"+in.Purchase.LicenseID+"/reminder-7d/"+expires.Format(time.RFC3339), h.sent("reminder-7d")[0].key,
		"idempotency key = workflow id + step + expiry")
	assert.Equal(t, models.StatusExpired, r.result.Status)
	assert.Contains(t, r.result.Reason, "retention")
	assert.Equal(t, expires.Add(models.DefaultGracePeriod+models.DefaultRetention), r.end, "the workflow closes when retention ends")
	l := h.license(in.Purchase.LicenseID)
	assert.Equal(t, models.StatusExpired, l.Status)
	assert.Equal(t, expires.Add(models.DefaultGracePeriod), *l.GraceUntil)
}

func TestGraceEndsAtItsInstantWithoutAnEmail(t *testing.T) {
	h := newHarness(t)
	in := purchase("crm-grace", "pos", 12)
	h.paidOrder(in)
	r := h.run(in, t0, nil)
	require.NoError(t, r.err)
	expires := models.AddMonths(t0, 12)
	events, err := h.store.LicenseLedger(context.Background(), models.LedgerFilter{LicenseID: in.Purchase.LicenseID, Limit: 500})
	require.NoError(t, err)
	var graceEnded []models.LicenseEvent
	for _, e := range events {
		if e.Action == workflows.StepGraceEnded {
			graceEnded = append(graceEnded, e)
		}
	}
	require.Len(t, graceEnded, 1, "the end of grace is reached once")
	assert.Equal(t, expires.Add(models.DefaultGracePeriod), graceEnded[0].At)
	assert.Equal(t, "timer:"+workflows.StepGraceEnded, graceEnded[0].Actor)
	assert.Len(t, h.sent("expired"), 1, "the expiry email goes out once")
	assert.Len(t, h.emails, 5, "delivery, invoice, two reminders and the expiry: nothing at the end of grace")
}

func TestRenewalBeforeReminderRearmsTimersOnTheSameDLID(t *testing.T) {
	h := newHarness(t)
	in := purchase("crm-3", "pos", 12)
	h.paidOrder(in)
	dlid := ""
	var answer workflows.LicenseState
	first := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			dlid = h.license(in.Purchase.LicenseID).Key()
			update(env, models.RenewRequest{Months: 12, PaymentRef: "pay-1"}, func(st workflows.LicenseState, err error) {
				require.NoError(t, err)
				answer = st
			})
		}, 300*day)
	})
	require.NoError(t, first.err)
	require.NotNil(t, first.next, "a renewal continues as new")
	newExpiry := models.AddMonths(models.AddMonths(t0, 12), 12)
	assert.Equal(t, newExpiry, *answer.ExpiresAt, "the update answers with the new state")
	assert.Equal(t, 1, answer.Renewals)

	second := h.run(*first.next, first.end, nil)
	require.NoError(t, second.err)
	for template, at := range map[string]time.Time{
		"reminder-30d": newExpiry.Add(-30 * day),
		"reminder-7d":  newExpiry.Add(-7 * day),
		"expired":      newExpiry,
	} {
		sent := h.sent(template)
		require.Len(t, sent, 1, "%s fires once, for the new expiry only", template)
		assert.Equal(t, at, sent[0].at, template)
	}
	assert.Len(t, h.sent("renewed"), 1)
	l := h.license(in.Purchase.LicenseID)
	assert.Equal(t, dlid, l.Key(), "renewal keeps the DLID")
	assert.Equal(t, newExpiry, *l.ExpiresAt)
}

func TestRenewalAfterExpiryExtendsFromTheRenewalDate(t *testing.T) {
	h := newHarness(t)
	in := purchase("crm-4", "pos", 12)
	h.paidOrder(in)
	expires := models.AddMonths(t0, 12)
	renewedAt := expires.Add(3 * day)
	var afterExpiry workflows.LicenseState
	first := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			afterExpiry = query(t, env)
			signal(env, models.RenewRequest{Months: 12, PaymentRef: "pay-late"})
		}, renewedAt.Sub(t0))
	})
	require.NoError(t, first.err)
	require.NotNil(t, first.next)
	assert.Equal(t, models.StatusExpired, afterExpiry.Status)
	st := first.next.State
	assert.Equal(t, models.AddMonths(renewedAt, 12), *st.ExpiresAt, "expired licenses renew from the renewal date")
	assert.Equal(t, models.StatusActive, st.Status)
	assert.Equal(t, models.StatusActive, h.license(in.Purchase.LicenseID).Status)
}

func TestDuplicateRenewalSignalsAreHarmless(t *testing.T) {
	h := newHarness(t)
	in := purchase("crm-5", "pos", 12)
	h.paidOrder(in)
	first := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			for range 3 { // a webhook delivered three times
				signal(env, models.RenewRequest{Months: 12, PaymentRef: "evt-1"})
			}
		}, 100*day)
	})
	require.NoError(t, first.err)
	require.NotNil(t, first.next)
	once := models.AddMonths(models.AddMonths(t0, 12), 12)
	assert.Equal(t, once, *first.next.State.ExpiresAt)
	assert.Equal(t, 1, first.next.State.Renewals)

	// The same payment again, in the next run: still ignored.
	second := h.run(*first.next, first.end, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			signal(env, models.RenewRequest{Months: 12, PaymentRef: "evt-1"})
		}, day)
		env.RegisterDelayedCallback(func() {
			st := query(t, env)
			assert.Equal(t, once, *st.ExpiresAt)
			assert.Equal(t, 1, st.Renewals)
			signal(env, models.RevokeRequest{})
		}, 2*day)
	})
	require.NoError(t, second.err)
	assert.Len(t, h.sent("renewed"), 1)
}

func TestRevokeStopsAllTimers(t *testing.T) {
	h := newHarness(t)
	in := purchase("crm-6", "pos", 12)
	h.paidOrder(in)
	r := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			update(env, models.RevokeRequest{Reason: "chargeback"}, func(st workflows.LicenseState, err error) {
				require.NoError(t, err)
				assert.Equal(t, models.StatusRevoked, st.Status)
			})
		}, 10*day)
	})
	require.NoError(t, r.err)
	assert.Equal(t, t0.Add(10*day), r.end, "the workflow ends at the revocation")
	assert.Equal(t, models.StatusRevoked, r.result.Status)
	assert.Empty(t, h.sent("reminder-30d"))
	assert.Empty(t, h.sent("expired"))
	assert.Equal(t, models.StatusRevoked, h.license(in.Purchase.LicenseID).Status)
}

func TestSuspendAndReinstate(t *testing.T) {
	h := newHarness(t)
	in := purchase("crm-7", "pos", 12)
	h.paidOrder(in)
	expires := models.AddMonths(t0, 12)
	var steps []string
	r := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			update(env, models.SuspendRequest{Reason: "refund"}, func(st workflows.LicenseState, err error) {
				require.NoError(t, err)
				steps = append(steps, string(st.Status))
				assert.Equal(t, models.StatusSuspended, h.license(in.Purchase.LicenseID).Status, "projected before the answer")
			})
		}, 10*day)
		env.RegisterDelayedCallback(func() {
			update(env, models.SuspendRequest{}, func(_ workflows.LicenseState, err error) {
				steps = append(steps, rejectionCode(t, err, workflows.RejectConflict))
			})
		}, 11*day)
		env.RegisterDelayedCallback(func() {
			update(env, models.ReinstateRequest{}, func(st workflows.LicenseState, err error) {
				require.NoError(t, err)
				steps = append(steps, string(st.Status))
			})
		}, expires.Add(-10*day).Sub(t0)) // after the 30-day reminder, which a suspended license does not get
		env.RegisterDelayedCallback(func() {
			update(env, models.ReinstateRequest{}, func(_ workflows.LicenseState, err error) {
				steps = append(steps, rejectionCode(t, err, workflows.RejectConflict))
			})
			signal(env, models.RevokeRequest{})
		}, expires.Add(-8*day).Sub(t0))
	})
	require.NoError(t, r.err)
	assert.Equal(t, []string{"suspended", "already_suspended", "expiring", "not_suspended"}, steps)
	assert.Empty(t, h.sent("reminder-30d"), "no reminder while suspended")
}

func TestIllegalChangesAreRejectedBeforeTheyEnterHistory(t *testing.T) {
	h := newHarness(t)
	in := purchase("crm-8", "pos", 12)
	h.paidOrder(in)
	var codes []string
	collect := func(kind string) func(workflows.LicenseState, error) {
		return func(_ workflows.LicenseState, err error) { codes = append(codes, rejectionCode(t, err, kind)) }
	}
	r := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			update(env, models.ReinstateRequest{}, collect(workflows.RejectConflict))
			update(env, models.RenewRequest{Months: 0}, collect(workflows.RejectInvalidValue))
			past := t0
			update(env, models.RenewRequest{ExpiresAt: &past}, collect(workflows.RejectInvalidValue))
			update(env, models.SetMaxDomainsRequest{MaxDomains: 2, ActiveDomains: 4}, collect(workflows.RejectConflict))
			update(env, models.ChangeTierRequest{Tier: "pos"}, collect(workflows.RejectConflict))
			update(env, models.ChangeTierRequest{Tier: "gold"}, collect(workflows.RejectInvalidValue))
		}, day)
		env.RegisterDelayedCallback(func() {
			st := query(t, env)
			assert.Equal(t, 5, st.MaxDomains)
			assert.Equal(t, "pos", st.Tier)
			assert.Equal(t, models.AddMonths(t0, 12), *st.ExpiresAt)
			signal(env, models.RevokeRequest{})
		}, 2*day)
	})
	require.NoError(t, r.err)
	assert.Equal(t, []string{"not_suspended", "invalid_months", "expires_at_in_past", "domains_in_use", "same_tier", "tier_not_found"}, codes)
}

func TestChangeTierRebuildsEntitlementsAndKeepsCustomOnes(t *testing.T) {
	h := newHarness(t)
	in := purchase("crm-9", "pos", 12)
	h.paidOrder(in)
	var st workflows.LicenseState
	r := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			_, err := h.store.AddCustomEntitlement(context.Background(), in.Purchase.LicenseID, "crm")
			require.NoError(t, err)
			update(env, models.ChangeTierRequest{Tier: "suite"}, func(got workflows.LicenseState, err error) {
				require.NoError(t, err)
				st = got
			})
		}, day)
		env.RegisterDelayedCallback(func() {
			update(env, models.ChangeTierRequest{Tier: "pos"}, func(got workflows.LicenseState, err error) {
				require.NoError(t, err)
				st = got
			})
			signal(env, models.RevokeRequest{})
		}, 2*day)
	})
	require.NoError(t, r.err)
	assert.Equal(t, "pos", st.Tier)
	repos := map[string]models.EntitlementSource{}
	for _, e := range st.Entitlements {
		repos[e.Repo] = e.Source
	}
	assert.Equal(t, map[string]models.EntitlementSource{
		"MokoSuite": models.SourceTier, "MokoSuitePOS": models.SourceTier, "MokoSuiteCRM": models.SourceCustom,
	}, repos)
	assert.Equal(t, []string{"stable"}, st.Channels)
	l := h.license(in.Purchase.LicenseID)
	assert.Equal(t, "pos", l.TierKey)
}

func TestContinueAsNewCarriesTheState(t *testing.T) {
	h := newHarness(t)
	in := purchase("crm-10", "pos", 12)
	h.paidOrder(in)
	first := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			signal(env, models.SetMaxDomainsRequest{MaxDomains: 9, RequestID: "r-1"})
			signal(env, models.RenewRequest{Months: 1, PaymentRef: "pay-9"})
		}, 50*day)
	})
	require.NoError(t, first.err)
	require.NotNil(t, first.next)
	before := *first.next.State
	assert.Equal(t, first.end, t0.Add(50*day), "the run continues as new right after the renewal")
	var after workflows.LicenseState
	var details string
	second := h.run(*first.next, first.end, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			after = query(t, env)
			v, err := env.QueryWorkflow("__temporal_workflow_metadata")
			require.NoError(t, err)
			var meta sdkpb.WorkflowMetadata
			require.NoError(t, v.Get(&meta))
			details = meta.GetCurrentDetails()
			signal(env, models.RevokeRequest{})
		}, time.Minute)
	})
	require.NoError(t, second.err)
	assert.Contains(t, details, "Point of Sale license for customer@example.com", "a continued run shows its summary before any change")
	assert.Contains(t, details, "**active**")
	assert.Contains(t, details, "1 renewals")
	assert.Contains(t, details, "Run 2 · [all runs](/namespaces/")
	assert.Equal(t, before.Run+1, after.Run)
	after.Run = before.Run
	assert.Equal(t, before, after, "the next run starts exactly where the last one stopped")
	assert.Equal(t, 9, after.MaxDomains)
	assert.Equal(t, []string{"r-1", "pay-9"}, after.ProcessedRefs)
}

func TestLifetimeLicenseHasNoTimers(t *testing.T) {
	h := newHarness(t)
	in := purchase("crm-11", "suite-lifetime", 0)
	in.Purchase.Lifetime = true
	h.paidOrder(in)
	var st workflows.LicenseState
	r := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			st = query(t, env)
			update(env, models.RenewRequest{Months: 12}, func(_ workflows.LicenseState, err error) {
				assert.Equal(t, "license_lifetime", rejectionCode(t, err, workflows.RejectConflict))
			})
			signal(env, models.RevokeRequest{})
		}, 3000*day)
	})
	require.NoError(t, r.err)
	assert.Nil(t, st.ExpiresAt)
	assert.Equal(t, models.StatusActive, st.Status)
	assert.Empty(t, h.sent("reminder-30d"))
	assert.Empty(t, h.sent("expired"))
	assert.Nil(t, h.license(in.Purchase.LicenseID).ExpiresAt)
}

// A term bought as a date (seed 001: a custom end date at purchase) expires
// then, with its reminders before it, not after the months that price it.
func TestExpiryBoughtAsADateIsTheExpiry(t *testing.T) {
	h := newHarness(t)
	in := purchase("crm-date", "pos", 5)
	end := t0.Add(140*day + 3*time.Hour)
	in.Purchase.ExpiresAt = &end
	h.paidOrder(in)
	var st workflows.LicenseState
	r := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() { st = query(t, env) }, time.Hour)
	})
	require.NoError(t, r.err)
	require.NotNil(t, st.ExpiresAt)
	assert.Equal(t, end, *st.ExpiresAt)
	require.Len(t, h.sent("reminder-30d"), 1)
	require.Len(t, h.sent("expired"), 1)
	assert.Equal(t, end.Add(-30*day), h.sent("reminder-30d")[0].at, "30 days before the date bought")
	assert.Equal(t, end, h.sent("expired")[0].at)
	assert.Equal(t, end, *h.license(in.Purchase.LicenseID).ExpiresAt)
}

func TestMonthlyLicenseSkipsTheThirtyDayReminder(t *testing.T) {
	h := newHarness(t)
	in := purchase("crm-12", "suite-monthly", 1)
	h.paidOrder(in)
	r := h.run(in, t0, nil)
	require.NoError(t, r.err)
	assert.Empty(t, h.sent("reminder-30d"), "30 days before expiry is the day after purchase")
	assert.Len(t, h.sent("reminder-7d"), 1)
	assert.Len(t, h.sent("expired"), 1)
}

func TestMessagesSentDuringIssuingWaitForIt(t *testing.T) {
	h := newHarness(t)
	in := purchase("crm-13", "pos", 12)
	h.paidOrder(in)
	var answer workflows.LicenseState
	r := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			update(env, models.SetMaxDomainsRequest{MaxDomains: 7}, func(st workflows.LicenseState, err error) {
				require.NoError(t, err)
				answer = st
			})
			signal(env, models.RevokeRequest{})
		}, 0)
	})
	require.NoError(t, r.err)
	assert.True(t, answer.Issued(), "the update waited for the license to be issued")
	assert.Equal(t, 7, answer.MaxDomains)
	assert.Equal(t, models.StatusRevoked, r.result.Status)
}

// rejectionCode checks err is a rejection of the given kind and returns its code.
func rejectionCode(t *testing.T, err error, kind string) string {
	t.Helper()
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		t.Errorf("want a %s rejection, got %v", kind, err)
		return ""
	}
	assert.Equal(t, kind, app.Type(), app.Message())
	var code, field string
	require.NoError(t, app.Details(&code, &field))
	return code
}

// A license's name (seed 003) is bought with it and changed by a patch like
// any other field: projected to the database, one ledger line, and a name
// that cannot be kept is refused before it enters history.
func TestTheLicenseNameIsBoughtAndPatched(t *testing.T) {
	h := newHarness(t)
	in := purchase("crm-name", "pos", 12)
	in.Purchase.Name = "Shop A"
	h.paidOrder(in)
	var bought, renamed workflows.LicenseState
	var projected string
	var refused error
	r := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			bought = query(t, env)
			projected = h.license(in.Purchase.LicenseID).Name
			update(env, models.PatchRequest{Name: ptr("Shop\nB")}, func(_ workflows.LicenseState, err error) { refused = err })
			update(env, models.PatchRequest{Name: ptr("Shop B")}, func(st workflows.LicenseState, err error) {
				require.NoError(t, err)
				renamed = st
			})
		}, day)
		env.RegisterDelayedCallback(func() { signal(env, models.RevokeRequest{}) }, 2*day)
	})
	require.NoError(t, r.err)
	assert.Equal(t, "Shop A", bought.Name)
	assert.Equal(t, "Shop A", projected, "the first projection writes the name bought")
	assert.Equal(t, "invalid_text", rejectionCode(t, refused, workflows.RejectInvalidValue))
	assert.Equal(t, "Shop B", renamed.Name)
	assert.Equal(t, bought.Revision+1, renamed.Revision, "the refused patch changed nothing")
	assert.Equal(t, "Shop B", h.license(in.Purchase.LicenseID).Name)
}

func TestPatchAppliesEverythingOrNothing(t *testing.T) {
	h := newHarness(t)
	in := purchase("crm-14", "pos", 12)
	h.paidOrder(in)
	var failed error
	var after workflows.LicenseState
	var before workflows.LicenseState
	r := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			before = query(t, env)
			update(env, models.PatchRequest{Tier: "gold", MaxDomains: &models.SetMaxDomainsRequest{MaxDomains: 9}},
				func(_ workflows.LicenseState, err error) { failed = err })
		}, day)
		env.RegisterDelayedCallback(func() {
			assert.Equal(t, before.MaxDomains, query(t, env).MaxDomains, "a failed patch changes nothing")
			update(env, models.PatchRequest{
				Tier: "suite", MaxDomains: &models.SetMaxDomainsRequest{MaxDomains: 9},
				Renew: &models.RenewRequest{Months: 1}, Status: models.StatusSuspended, Reason: "audit",
			}, func(st workflows.LicenseState, err error) {
				require.NoError(t, err)
				after = st
			})
		}, 2*day)
	})
	require.NoError(t, r.err)
	assert.Equal(t, "tier_not_found", rejectionCode(t, failed, workflows.RejectInvalidValue))
	assert.Equal(t, "suite", after.Tier)
	assert.Equal(t, 9, after.MaxDomains)
	assert.Equal(t, models.AddMonths(models.AddMonths(t0, 12), 1), *after.ExpiresAt)
	assert.Equal(t, models.StatusSuspended, after.Status)
	assert.Equal(t, before.Revision+1, after.Revision, "one change, one revision")
	require.NotNil(t, r.next, "the renewal inside the patch continues as new")
}

func ptr[T any](v T) *T { return &v }
