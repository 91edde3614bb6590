package workflows_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/workflows"
)

// A license whose workflow closed after retention and is brought back by a
// message carries on from what it was: its renewals, the start of its paid
// period (where its reminders count from), and the payments it has already
// applied, so a payment redelivered after the resume renews nothing.
func TestAResumedLicenseCarriesItsRenewalsPeriodAndPayments(t *testing.T) {
	h := newHarness(t)
	in := purchase("crm-resume", "pos", 12)
	h.paidOrder(in)
	id := in.Purchase.LicenseID
	renewedAt := t0.Add(100 * day)
	first := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			update(env, models.RenewRequest{Months: 12, PaymentRef: "pay-before-close"}, func(_ workflows.LicenseState, err error) { require.NoError(t, err) })
		}, renewedAt.Sub(t0))
	})
	require.NoError(t, first.err)
	require.NotNil(t, first.next)
	period := first.next.State.PeriodStart
	assert.Equal(t, models.AddMonths(t0, 12), period, "the renewal's period starts at the old expiry")
	closed := h.run(*first.next, first.end, nil)
	require.NoError(t, closed.err)
	require.Nil(t, closed.next, "no renewal: retention closes the workflow")

	var again workflows.LicenseState
	var againErr error
	resumed := h.run(workflows.LicenseInput{Resume: true, Purchase: workflows.PaidOrder{LicenseID: id}}, closed.end.Add(day),
		func(env *testsuite.TestWorkflowEnvironment) {
			env.RegisterDelayedCallback(func() {
				update(env, models.RenewRequest{Months: 12, PaymentRef: "pay-before-close"}, func(st workflows.LicenseState, err error) {
					again, againErr = st, err
				})
			}, 0)
		})
	require.NoError(t, resumed.err)
	require.NoError(t, againErr)
	assert.Equal(t, 1, again.Renewals, "the payment applied before the workflow closed renews nothing again")
	assert.Contains(t, again.ProcessedRefs, "pay-before-close")
	assert.Equal(t, period, again.PeriodStart, "the paid period's start is carried, not the purchase's")
	assert.Nil(t, resumed.next, "nothing moved the expiry: the license closes again")
	assert.Equal(t, 1, h.license(id).Renewals)
}
