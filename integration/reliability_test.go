package integration

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
	"github.com/licenseflow/licenseflow/worker"
	"github.com/licenseflow/licenseflow/workflows"
)

// The worker dies right after minting the key; another one finishes the
// purchase: same DLID, one delivery email, one invoice.
func TestWorkerStoppedMidIssueLosesAndDuplicatesNothing(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	var created api.LicenseView
	r := s.Call(http.MethodPost, "/api/v1/licensing/licenses", crmOrder)
	require.Equal(t, http.StatusAccepted, r.Status)
	r.JSON(t, &created)

	var minted string
	s.WaitFor("the DLID to be minted", 10*time.Second, func() bool {
		l, err := s.Store.GetLicense(ctx, created.ID)
		require.NoError(t, err)
		minted = l.Key()
		return minted != ""
	})
	s.Worker.Stop()
	time.Sleep(300 * time.Millisecond) // nothing runs the license now

	replacement := sdkworker.New(s.Temporal, workflows.TaskQueue, stack.WorkerOptions)
	worker.Register(replacement, s.Acts)
	require.NoError(t, replacement.Start())
	t.Cleanup(replacement.Stop)

	v := s.WaitIssued(created.ID)
	assert.Equal(t, minted, v.DLID, "the key minted before the stop is the key")
	for _, template := range []string{"delivery", "invoice"} {
		msgs, err := s.Store.ListEmails(ctx, models.EmailFilter{LicenseID: v.ID, Template: template})
		require.NoError(t, err)
		assert.Len(t, msgs, 1, template)
	}
	invoices, err := s.Store.ListInvoices(ctx, v.ID)
	require.NoError(t, err)
	assert.Len(t, invoices, 1)
}
