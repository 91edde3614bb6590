package integration

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
)

func ledger(t *testing.T, s *stack.Stack, licenseID string) []api.LedgerLineView {
	t.Helper()
	r := s.Call(http.MethodGet, "/api/v1/licensing/licenses/"+licenseID+"/events?limit=500", nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var page struct {
		Data []api.LedgerLineView `json:"data"`
	}
	r.JSON(t, &page)
	return page.Data
}

// Moving any license's expiry to 30 days and a few seconds from now sends
// exactly one 30-day reminder when they have passed, and
// the correction is not a renewal.
func TestMovingTheExpiryThroughTheAPISendsOneThirtyDayReminder(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		s := stack.Start(t, st, stack.Options{})
		v := issue(t, s, `{"user_email":"corrected@example.com","tier":"pos","expires_months":12}`)
		to := time.Now().Add(30*24*time.Hour + 3*time.Second).UTC().Truncate(time.Second)
		r := s.Call(http.MethodPatch, "/api/v1/licensing/licenses/"+v.ID, `{"expires_at":"`+to.Format(time.RFC3339)+`","reason":"goodwill"}`)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		var after api.LicenseView
		r.JSON(t, &after)
		assert.Equal(t, to, after.ExpiresAt.UTC())
		assert.Equal(t, 0, after.Workflow.Renewals, "a correction is not a renewal")
		assert.Equal(t, v.DLID, after.DLID)

		s.WaitFor("the 30-day reminder", time.Minute, func() bool { return emailCount(t, s, v.ID, "reminder-30d") >= 1 })
		s.WaitFor("the reminder's ledger line", 10*time.Second, func() bool {
			for _, l := range ledger(t, s, v.ID) {
				if l.Action == "reminder-30d" {
					return true
				}
			}
			return false
		})
		// "Exactly one" holds only once a second 30-day reminder can no longer
		// come: move the expiry to seven days and a few seconds out, so the
		// workflow passes the 30-day point again and sends the 7-day
		// reminder after it; a repeated 30-day reminder would come before.
		to7 := time.Now().Add(7*24*time.Hour + 3*time.Second).UTC().Truncate(time.Second)
		r = s.Call(http.MethodPatch, "/api/v1/licensing/licenses/"+v.ID, `{"expires_at":"`+to7.Format(time.RFC3339)+`","reason":"goodwill"}`)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		s.WaitFor("the 7-day reminder", time.Minute, func() bool { return emailCount(t, s, v.ID, "reminder-7d") >= 1 })
		s.WaitFor("the 7-day reminder's ledger line", 10*time.Second, func() bool {
			for _, l := range ledger(t, s, v.ID) {
				if l.Action == "reminder-7d" {
					return true
				}
			}
			return false
		})
		assert.Equal(t, 1, emailCount(t, s, v.ID, "reminder-30d"), "exactly one 30-day reminder")
		assert.Equal(t, 1, emailCount(t, s, v.ID, "reminder-7d"), "exactly one 7-day reminder")
		assert.Zero(t, emailCount(t, s, v.ID, "renewed"))
		invoices, err := st.ListInvoices(ctx, v.ID)
		require.NoError(t, err)
		assert.Len(t, invoices, 1, "a correction invoices nothing")
	})
}

func TestTheLedgerShowsEveryChangeWithItsActor(t *testing.T) {
	s := stripeStack(t, testsupport.SQLite(t))
	v := purchaseByCheckout(t, s, "cs_ledger")
	require.Equal(t, http.StatusOK, s.Call(http.MethodPost, "/api/v1/licensing/licenses/"+v.ID+"/suspend", `{"reason":"fraud check"}`).Status)
	require.Equal(t, http.StatusOK, s.Call(http.MethodPost, "/api/v1/licensing/licenses/"+v.ID+"/reinstate", nil).Status)
	inv := subscriptionInvoice("in_ledger", "sub_cs_ledger", time.Now().AddDate(1, 0, 0))
	a := answer(t, deliver(s, stripeEvent("evt_ledger_failed", payments.InvoicePaymentFailed, inv)))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)

	var lines []api.LedgerLineView
	s.WaitFor("the dunning line", 10*time.Second, func() bool {
		lines = ledger(t, s, v.ID)
		return len(lines) > 0 && lines[0].Action == "payment-failed"
	})
	type entry struct{ action, actor, field, old, new string }
	var got []entry
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		got = append(got, entry{l.Action, l.Actor, l.Field, l.Old, l.New})
		assert.NotContains(t, l.Old+l.New+l.Note, v.DLID, "never the full key")
	}
	assert.Contains(t, got, entry{"issue", "stripe:evt_cs_ledger", "status", "pending", "active"})
	assert.Contains(t, got, entry{"suspend", "token:integration-admin", "status", "active", "suspended"})
	assert.Contains(t, got, entry{"reinstate", "token:integration-admin", "status", "suspended", "active"})
	assert.Contains(t, got, entry{"payment-failed", "stripe:evt_ledger_failed", "", "", ""})
	assert.True(t, strings.HasPrefix(lines[len(lines)-1].Action, "issue"), "oldest line last")

	bad := s.Call(http.MethodGet, "/api/v1/licensing/licenses/"+v.ID+"/events?cursor=abc", nil)
	assert.Equal(t, http.StatusUnprocessableEntity, bad.Status)
	assert.Equal(t, "invalid_cursor", bad.Error(t).Code)
	assert.Equal(t, http.StatusNotFound, s.Call(http.MethodGet, "/api/v1/licensing/licenses/lic_nope/events", nil).Status)
}
