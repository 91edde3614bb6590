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

// trial starts a free trial of the example catalog's suite (14 days), with
// its order recorded as the API records it.
func (h *harness) trial(orderID string) (workflows.LicenseInput, time.Time) {
	tier, err := h.store.GetTier(context.Background(), "suite")
	require.NoError(h.t, err)
	require.Equal(h.t, 14, tier.TrialDays, "the example catalog's suite offers a 14-day trial")
	ends := tier.TrialEnds(t0)
	_, _, _, err = h.store.RecordPurchase(context.Background(), models.Purchase{
		OrderID: orderID, Email: "customer@example.com", Tier: tier, MaxDomains: 3,
		ExpiresAt: &ends, Type: models.TypeTrial, Currency: tier.Currency, PaidAt: t0,
	})
	require.NoError(h.t, err)
	return workflows.LicenseInput{Purchase: workflows.PaidOrder{
		LicenseID: models.LicenseIDForOrder(orderID), OrderID: orderID, CustomerEmail: "customer@example.com",
		Tier: "suite", MaxDomains: 3, ExpiresAt: &ends, Type: models.TypeTrial,
	}}, ends
}

// renewalOrder records a paid renewal order, as the API and the payment
// webhooks do before the renewal reaches the workflow.
func (h *harness) renewalOrder(licenseID, orderID string, months int) models.RenewRequest {
	l := h.license(licenseID)
	o, err := h.store.RecordLicenseOrder(context.Background(), models.LicenseOrder{
		OrderID: orderID, License: l, Months: months, AmountCents: 59900, Currency: "EUR", PaymentRef: "pay-" + orderID, PaidAt: t0,
	})
	require.NoError(h.t, err)
	return models.RenewRequest{Months: months, PaymentRef: o.PaymentRef, OrderID: o.ID}
}

func TestATrialIsNeverInvoicedAndEndsWithoutGrace(t *testing.T) {
	h := newHarness(t)
	in, ends := h.trial("trial-1")
	id := in.Purchase.LicenseID
	r := h.run(in, t0, nil)
	require.NoError(t, r.err)
	require.Nil(t, r.next)

	assert.Equal(t, []string{"local:MintAndExpand", "local:ProjectLicense", "SendLicenseEmail:delivery"}, h.activity[:3])
	assert.NotContains(t, h.activity, "local:IssueInvoice", "a trial is never invoiced")
	invoices, err := h.store.ListInvoices(context.Background(), id)
	require.NoError(t, err)
	assert.Empty(t, invoices)

	for template, at := range map[string]time.Time{
		"trial-ending": ends.Add(-models.TrialEndingNotice),
		"trial-ended":  ends,
	} {
		sent := h.sent(template)
		require.Len(t, sent, 1, template)
		assert.Equal(t, at, sent[0].at, "%s goes out at its instant", template)
	}
	for _, template := range []string{"invoice", "reminder-30d", "reminder-7d", "expired"} {
		assert.Empty(t, h.sent(template), "a trial gets no %s email", template)
	}
	msgs, err := h.store.ListEmails(context.Background(), models.EmailFilter{LicenseID: id, Template: "delivery"})
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.Equal(t, "Your Complete Suite trial key", msgs[0].Subject)
	assert.Contains(t, msgs[0].TextBody, "Your trial runs until")

	l := h.license(id)
	assert.Equal(t, models.TypeTrial, l.Type)
	assert.Equal(t, ends, *l.ExpiresAt)
	assert.Equal(t, ends, *l.GraceUntil, "a trial ends without grace: sites stop validating when it ends")
	assert.Equal(t, ends.Add(models.DefaultRetention), r.end, "the workflow closes when retention ends")
	assert.Equal(t, models.StatusExpired, r.result.Status)
}

func TestPayingForATrialConvertsItOnTheSameDLIDWithOneInvoice(t *testing.T) {
	h := newHarness(t)
	in, ends := h.trial("trial-2")
	id := in.Purchase.LicenseID
	var dlid string
	var answer workflows.LicenseState
	first := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			dlid = h.license(id).Key()
			update(env, h.renewalOrder(id, "buy-2", 12), func(st workflows.LicenseState, err error) {
				require.NoError(t, err)
				answer = st
			})
		}, 5*day)
	})
	require.NoError(t, first.err)
	require.NotNil(t, first.next, "the paid renewal continues as new")
	paidUntil := models.AddMonths(ends, 12)
	assert.Equal(t, models.TypeCommercial, answer.Type, "paying converts the trial")
	assert.Equal(t, paidUntil, *answer.ExpiresAt, "the paid period starts when the trial ends: no trial day is lost")

	second := h.run(*first.next, first.end, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() { signal(env, models.RevokeRequest{Reason: "end of test"}) }, 400*day)
	})
	require.NoError(t, second.err)
	assert.Empty(t, h.sent("trial-ending"), "a converted trial is not told it ends")
	assert.Len(t, h.sent("reminder-30d"), 1, "a converted trial is reminded as a license")
	invoices, err := h.store.ListInvoices(context.Background(), id)
	require.NoError(t, err)
	require.Len(t, invoices, 1, "exactly one invoice: the order that converted the trial")
	assert.Equal(t, "buy-2", invoices[0].OrderID)
	assert.Len(t, h.sent("invoice"), 1)

	l := h.license(id)
	assert.Equal(t, dlid, l.Key(), "the same DLID")
	assert.Equal(t, models.TypeCommercial, l.Type, "the database holds the conversion")
	assert.Equal(t, paidUntil.Add(models.DefaultGracePeriod), *l.GraceUntil, "a paid license has its grace again")
}

func TestATrialIsNotRenewedWithoutPayment(t *testing.T) {
	h := newHarness(t)
	in, ends := h.trial("trial-3")
	var free, corrected error
	var after workflows.LicenseState
	r := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			update(env, models.RenewRequest{Months: 12, PaymentRef: "goodwill"}, func(_ workflows.LicenseState, err error) { free = err })
		}, day)
		env.RegisterDelayedCallback(func() {
			update(env, models.CorrectExpiryRequest{ExpiresAt: ends.Add(7 * day), Reason: "longer trial"}, func(st workflows.LicenseState, err error) {
				corrected, after = err, st
			})
		}, 2*day)
		env.RegisterDelayedCallback(func() { signal(env, models.RevokeRequest{Reason: "end of test"}) }, 3*day)
	})
	require.NoError(t, r.err)
	assert.Equal(t, "trial_needs_payment", rejectionCode(t, free, workflows.RejectConflict))
	require.NoError(t, corrected, "an operator may lengthen a trial by correcting its expiry")
	assert.Equal(t, models.TypeTrial, after.Type, "a correction does not convert it")
	assert.Equal(t, ends.Add(7*day), *after.GraceUntil, "still no grace")
	assert.Equal(t, 0, after.Renewals)
}
