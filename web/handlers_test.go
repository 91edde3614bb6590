package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/lifecycle/lifecyclefake"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/testsupport"
)

// An operator's manual action goes to the license's workflow as an
// update; when the workflow refuses it, the page says why and nothing else
// happens.
func TestAnActionTheWorkflowRefusesIsShownWithItsReason(t *testing.T) {
	st := testsupport.SQLite(t)
	ctx := context.Background()
	tier, err := st.GetTier(ctx, "pos")
	require.NoError(t, err)
	_, l, _, err := st.RecordPurchase(ctx, models.Purchase{OrderID: "web-1", Email: "buyer@example.com", Tier: tier,
		MaxDomains: 2, Months: 12, Type: models.TypeCommercial, PaidAt: time.Now()})
	require.NoError(t, err)

	flows := &lifecyclefake.Fake{WebUIURL: "http://temporal.example"}
	flows.UpdateErr = &models.Problem{Kind: models.ErrConflict, Code: "not_suspended", Field: "", Message: "the license is pending, not suspended; only a suspended license can be reinstated"}
	b := signedInOperator(t, st, flows)

	_, licensePage := b.get("/admin/licenses/" + l.ID)
	assert.Contains(t, licensePage, "http://temporal.example/"+l.WorkflowID, "the license links to its workflow")
	csrf := b.csrf("/admin/licenses/" + l.ID)
	resp, _ := b.post("/admin/licenses/"+l.ID+"/action", url.Values{"csrf": {csrf}, "action": {"reinstate"}})
	assert.Equal(t, "/admin/licenses/"+l.ID, resp.Header.Get("Location"), "no notice in the URL")
	assert.Equal(t, "Not done: the license is pending, not suspended; only a suspended license can be reinstated", b.notice(resp))
	_, again := b.get("/admin/licenses/" + l.ID)
	assert.NotContains(t, again, "Not done", "a notice is shown once")

	updates := flows.Updates()
	require.Len(t, updates, 1)
	assert.Equal(t, string(models.ActionReinstate), updates[0].Name)
	assert.Equal(t, l.ID, updates[0].License.ID)
	assert.Equal(t, "token:admin", updates[0].Msg.(*models.ReinstateRequest).Actor, "the ledger names the operator")

	// Correcting the expiry sends a correction, not a renewal.
	flows.UpdateErr = nil
	resp, _ = b.post("/admin/licenses/"+l.ID+"/action", url.Values{"csrf": {csrf}, "action": {"correct-expiry"},
		"expires_at": {"2027-03-01T12:30"}, "reason": {"goodwill"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	updates = flows.Updates()
	require.Len(t, updates, 2)
	assert.Equal(t, string(models.ActionCorrectExpiry), updates[1].Name)
	assert.Equal(t, &models.CorrectExpiryRequest{ExpiresAt: time.Date(2027, 3, 1, 12, 30, 0, 0, time.UTC), Reason: "goodwill", Actor: "token:admin"},
		updates[1].Msg)
	resp, _ = b.post("/admin/licenses/"+l.ID+"/action", url.Values{"csrf": {csrf}, "action": {"correct-expiry"}, "expires_at": {"next week"}})
	assert.Contains(t, b.notice(resp), "Give the new expiry as a date and time (UTC).")
	assert.Len(t, flows.Updates(), 2, "an unreadable date sends nothing")
	_, licensePage = b.get("/admin/licenses/" + l.ID)
	assert.Contains(t, licensePage, `id="ledger"`, "the license page shows its ledger")
}
