package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/licenseflow/licenseflow/activities"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/workflows"
)

// slowExpansion is the real activities with a tier's expansion taking a
// while, as a busy database makes it: a tier change holds the license's
// lock that long, and the environment's clock moves on meanwhile.
type slowExpansion struct{ *activities.Activities }

func (s *slowExpansion) ExpandEntitlements(ctx context.Context, in activities.ExpandInput) (activities.ExpandResult, error) {
	time.Sleep(300 * time.Millisecond)
	return s.Activities.ExpandEntitlements(ctx, in)
}

// A renewal (with a tier change, which waits on an activity) that holds the
// lock while the 30-day reminder falls due moves
// the expiry; the reminder that woke the workflow is then no longer the one
// due and must not run: run, it would count the new period's 30-day
// reminder as sent, and that reminder would never go out.
func TestARenewalLandingAsAReminderFallsDueKeepsTheNewPeriodsReminder(t *testing.T) {
	h := newHarness(t)
	h.acts = &slowExpansion{h.acts.(*activities.Activities)}
	in := purchase("crm-race", "pos", 12)
	h.paidOrder(in)
	expires := models.AddMonths(t0, 12)
	renewed := models.AddMonths(expires, 12)
	reminderAt := expires.Add(-30 * day)
	r := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			update(env, models.PatchRequest{Tier: "crm", Renew: &models.RenewRequest{Months: 12, PaymentRef: "pay-race"}},
				func(_ workflows.LicenseState, err error) { require.NoError(t, err) })
		}, reminderAt.Add(-20*time.Millisecond).Sub(t0))
	})
	require.NoError(t, r.err)
	require.NotNil(t, r.next, "a renewal continues as new")
	require.Equal(t, renewed, *r.next.State.ExpiresAt)
	assert.NotContains(t, r.next.State.StepsDone, "reminder-30d", "the new period has reached none of its deadlines")

	r = h.run(*r.next, r.end, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(env.CancelWorkflow, renewed.Add(-29*day).Sub(r.end))
	})
	var keys []string
	for _, e := range h.sent("reminder-30d") {
		keys = append(keys, e.key)
	}
	assert.Contains(t, keys, models.LicenseWorkflowID(in.Purchase.LicenseID)+"/reminder-30d/"+renewed.Format(time.RFC3339),
		"the renewed period's 30-day reminder goes out")
}
