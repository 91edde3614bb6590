package integration

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/licenseflow/licenseflow/activities"
	"github.com/licenseflow/licenseflow/devserver"
	"github.com/licenseflow/licenseflow/email"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payloadcodec"
	"github.com/licenseflow/licenseflow/sealing"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/worker"
	"github.com/licenseflow/licenseflow/workflows"
)

// devProcess is what `licenseflow dev` runs, minus the HTTP API: the
// embedded server (state in a file), a client and a worker.
type devProcess struct {
	server *devserver.Server
	client client.Client
	worker sdkworker.Worker
}

func startDev(t *testing.T, dir string, store *store.Store) *devProcess {
	t.Helper()
	return startDevWith(t, dir, store, devserver.Options{})
}

// startDevWith starts a dev process whose server takes opts (the data
// directory, namespace, search attributes and archive are filled in).
func startDevWith(t *testing.T, dir string, store *store.Store, opts devserver.Options) *devProcess {
	t.Helper()
	opts.DatabaseFile, opts.Namespace = filepath.Join(dir, "temporal.db"), "default"
	opts.SearchAttributes, opts.ArchiveDir = workflows.SearchAttributes(), filepath.Join(dir, "archive")
	srv, err := devserver.Start(opts)
	require.NoError(t, err)
	clientOpts := client.Options{HostPort: srv.FrontendAddress(), Namespace: "default"}
	payloadcodec.Install(&clientOpts, devKeys(t, dir))
	c, err := client.Dial(clientOpts)
	require.NoError(t, err)
	require.NoError(t, worker.EnsureSearchAttributes(ctx, c, "default"))
	renderer, err := email.NewRenderer()
	require.NoError(t, err)
	w := worker.New(c, &activities.Activities{Store: store, Renderer: renderer, PublicURL: "http://localhost:8080"}, worker.Options{})
	require.NoError(t, w.Start())
	return &devProcess{server: srv, client: c, worker: w}
}

// devKeys are the data directory's keyring, generated at its first start
// and read again at the next, as dev mode keeps it.
func devKeys(t *testing.T, dir string) *sealing.Keyring {
	t.Helper()
	file := filepath.Join(dir, "secret-keys")
	spec, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		s, err := sealing.NewKeySpec(time.Now())
		require.NoError(t, err)
		spec = []byte(s)
		require.NoError(t, os.WriteFile(file, spec, 0o600))
	} else {
		require.NoError(t, err)
	}
	keys, err := sealing.Parse(string(spec))
	require.NoError(t, err)
	return keys
}

func (p *devProcess) stop() {
	p.worker.Stop()
	p.client.Close()
	p.server.Stop()
}

func TestDevModeKeepsLicensesAndTimersAcrossARestart(t *testing.T) {
	dir := t.TempDir()
	store := testsupport.SQLiteAt(t, filepath.Join(dir, "licenseflow.db"))
	first := startDev(t, dir, store)

	// The Web UI is served and talks to the embedded server.
	resp, err := http.Get("http://" + first.server.UIAddress() + "/api/v1/namespaces/default")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Contains(t, string(body), `"LicenseTier"`, "the namespace carries licenseflow's search attributes")

	licenseID := models.LicenseIDForOrder("dev-1")
	in := workflows.LicenseInput{Purchase: workflows.PaidOrder{
		LicenseID: licenseID, OrderID: "dev-1", CustomerEmail: "dev@example.com", Tier: "pos", MaxDomains: 2, Months: 12,
		Type: models.TypeCommercial,
	}}
	tier, err := store.GetTier(ctx, "pos")
	require.NoError(t, err)
	_, _, _, err = store.RecordPurchase(ctx, models.Purchase{OrderID: "dev-1", Email: "dev@example.com", Tier: tier,
		MaxDomains: 2, Months: 12, AmountCents: 100, Currency: "EUR", PaidAt: time.Now()})
	require.NoError(t, err)
	_, err = first.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: models.LicenseWorkflowID(licenseID), TaskQueue: workflows.TaskQueue},
		workflows.LicenseWorkflow, in)
	require.NoError(t, err)
	var before workflows.LicenseState
	waitState(t, first.client, licenseID, func(st workflows.LicenseState) bool { before = st; return st.Issued() })
	first.stop()

	second := startDev(t, dir, store)
	defer second.stop()
	d, err := second.client.DescribeWorkflowExecution(ctx, models.LicenseWorkflowID(licenseID), "")
	require.NoError(t, err)
	assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, d.WorkflowExecutionInfo.Status, "the workflow survived the restart")
	var after workflows.LicenseState
	waitState(t, second.client, licenseID, func(st workflows.LicenseState) bool { after = st; return true })
	assert.Equal(t, before, after)

	h, err := second.client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: models.LicenseWorkflowID(licenseID),
		UpdateName: string(models.ActionSuspend), Args: []any{models.SuspendRequest{Reason: "after restart"}}, WaitForStage: client.WorkflowUpdateStageCompleted})
	require.NoError(t, err)
	var suspended workflows.LicenseState
	require.NoError(t, h.Get(ctx, &suspended))
	assert.Equal(t, models.StatusSuspended, suspended.Status)

	// The history shows the pending expiry timer by its summary (encrypted
	// like every payload; the Web UI decodes it through the codec endpoint).
	it := second.client.GetWorkflowHistory(ctx, models.LicenseWorkflowID(licenseID), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var summaries []string
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		if e.GetEventType() == enumspb.EVENT_TYPE_TIMER_STARTED && e.GetUserMetadata().GetSummary() != nil {
			var summary string
			require.NoError(t, payloadcodec.DataConverter(devKeys(t, dir)).FromPayload(e.GetUserMetadata().GetSummary(), &summary))
			summaries = append(summaries, summary)
		}
	}
	assert.Contains(t, summaries, workflows.StepReminder30)
}

func waitState(t *testing.T, c client.Client, licenseID string, done func(workflows.LicenseState) bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		v, err := c.QueryWorkflow(ctx, models.LicenseWorkflowID(licenseID), "", workflows.QueryState)
		if err == nil {
			var st workflows.LicenseState
			require.NoError(t, v.Get(&st))
			if done(st) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("license %s did not reach the expected state: %v", licenseID, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// purchaseOnDev records a purchase and starts its license's workflow on a
// dev process, returning the license id.
func purchaseOnDev(t *testing.T, p *devProcess, store *store.Store, orderID string) string {
	t.Helper()
	licenseID := models.LicenseIDForOrder(orderID)
	tier, err := store.GetTier(ctx, "pos")
	require.NoError(t, err)
	_, _, _, err = store.RecordPurchase(ctx, models.Purchase{OrderID: orderID, Email: "dev@example.com", Tier: tier,
		MaxDomains: 2, Months: 12, AmountCents: 100, Currency: "EUR", PaidAt: time.Now()})
	require.NoError(t, err)
	_, err = p.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: models.LicenseWorkflowID(licenseID), TaskQueue: workflows.TaskQueue},
		workflows.LicenseWorkflow, workflows.LicenseInput{Purchase: workflows.PaidOrder{
			LicenseID: licenseID, OrderID: orderID, CustomerEmail: "dev@example.com", Tier: "pos", MaxDomains: 2, Months: 12,
			Type: models.TypeCommercial,
		}})
	require.NoError(t, err)
	waitState(t, p.client, licenseID, func(st workflows.LicenseState) bool { return st.Issued() })
	return licenseID
}

func TestDevModeArchivesRunsThatRetentionDeleted(t *testing.T) {
	dir := t.TempDir()
	store := testsupport.SQLiteAt(t, filepath.Join(dir, "licenseflow.db"))
	dev := startDevWith(t, dir, store, devserver.Options{Retention: 2 * time.Second})
	defer dev.stop()
	history, visibility := dev.server.ArchiveURIs()
	require.NotEmpty(t, history)
	// What `licenseflow dev` applies on every start: a no-op on a namespace
	// created with these settings.
	require.NoError(t, worker.ConfigureNamespace(ctx, dev.client, "default", worker.NamespaceSettings{
		Retention: 2 * time.Second, HistoryArchiveURI: history, VisibilityArchiveURI: visibility,
	}))

	licenseID := purchaseOnDev(t, dev, store, "archive-1")
	workflowID := models.LicenseWorkflowID(licenseID)
	d, err := dev.client.DescribeWorkflowExecution(ctx, workflowID, "")
	require.NoError(t, err)
	firstRun := d.WorkflowExecutionInfo.Execution.RunId
	h, err := dev.client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflowID,
		UpdateName: string(models.ActionRenew), Args: []any{models.RenewRequest{Months: 12, PaymentRef: "archive-renewal"}},
		WaitForStage: client.WorkflowUpdateStageCompleted})
	require.NoError(t, err)
	require.NoError(t, h.Get(ctx, nil))

	// The renewal closed the first run (continue-as-new); retention then
	// deletes it from the server's own store.
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := dev.client.DescribeWorkflowExecution(ctx, workflowID, firstRun)
		var gone *serviceerror.NotFound
		if errors.As(err, &gone) {
			break
		}
		require.NoError(t, err, "only a run that is not found counts as deleted")
		require.True(t, time.Now().Before(deadline), "the first run was not deleted after its retention")
		time.Sleep(200 * time.Millisecond)
	}

	// Its history is still readable: the server reads it from the archive.
	it := dev.client.GetWorkflowHistory(ctx, workflowID, firstRun, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var events []string
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err, "history of the deleted run, from the archive")
		events = append(events, e.GetEventType().String())
	}
	require.NotEmpty(t, events)
	assert.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED.String(), events[0])
	assert.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW.String(), events[len(events)-1])

	// And the Web UI's Archive lists it.
	archived, err := dev.client.ListArchivedWorkflow(ctx, &workflowservice.ListArchivedWorkflowExecutionsRequest{
		Namespace: "default", PageSize: 10, Query: fmt.Sprintf("WorkflowId = '%s'", workflowID),
	})
	require.NoError(t, err)
	var runs []string
	for _, e := range archived.GetExecutions() {
		runs = append(runs, e.GetExecution().GetRunId())
	}
	assert.Contains(t, runs, firstRun)
}
