package integration

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/proto"

	"github.com/licenseflow/licenseflow/activities"
	"github.com/licenseflow/licenseflow/devserver"
	"github.com/licenseflow/licenseflow/email"
	"github.com/licenseflow/licenseflow/lifecycle"
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
	dev := startArchivingDev(t, dir, store)
	defer dev.stop()

	licenseID := purchaseOnDev(t, dev, store, "archive-1")
	workflowID := models.LicenseWorkflowID(licenseID)
	firstRun := renewOnDev(t, dev, licenseID, "archive-renewal")
	waitRunDeleted(t, dev, workflowID, firstRun)

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

// Nothing readable by those who only inspect Temporal: after a purchase, a
// renewal and two sign-ins, the Temporal database and the archive hold no
// full key and no sign-in token anywhere, and no payload of any history
// (live or archived) holds a customer's or operator's address, a key or a
// token. (Search attributes stay searchable: LicenseCustomerEmail holds
// the address by design, so they are left out of the payload scan.)
func TestTemporalStoresAndArchivesNoAddressKeyOrSignInToken(t *testing.T) {
	dir := t.TempDir()
	store := testsupport.SQLiteAt(t, filepath.Join(dir, "licenseflow.db"))
	dev := startArchivingDev(t, dir, store)
	defer dev.stop()

	licenseID := purchaseOnDev(t, dev, store, "scan-1")
	workflowID := models.LicenseWorkflowID(licenseID)
	firstRun := renewOnDev(t, dev, licenseID, "scan-renewal")
	flows := lifecycle.New(dev.client, lifecycle.Options{})
	signInRuns := map[string]string{} // workflow id -> run id, to read them from the archive later
	for ref, to := range map[string]string{"scan-customer": "dev@example.com", "scan-operator": "ops@example.com"} {
		aud := models.AudienceCustomer
		if ref == "scan-operator" {
			aud = models.AudienceAdmin
		}
		require.NoError(t, flows.SendSignIn(ctx, ref, to, aud))
		d, err := dev.client.DescribeWorkflowExecution(ctx, workflows.SignInWorkflowID(ref), "")
		require.NoError(t, err)
		signInRuns[workflows.SignInWorkflowID(ref)] = d.WorkflowExecutionInfo.Execution.RunId
	}

	var tokens []string
	token := regexp.MustCompile(`token=([A-Za-z0-9_-]{20,})`)
	deadline := time.Now().Add(30 * time.Second)
	for len(tokens) < 2 {
		require.True(t, time.Now().Before(deadline), "the two sign-in emails were not written")
		msgs, err := store.ListEmails(ctx, models.EmailFilter{Template: email.TemplateMagicLink})
		require.NoError(t, err)
		tokens = tokens[:0]
		for _, m := range msgs {
			if found := token.FindStringSubmatch(m.TextBody); found != nil {
				tokens = append(tokens, found[1])
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitRunDeleted(t, dev, workflowID, firstRun)
	l, err := store.GetLicense(ctx, licenseID)
	require.NoError(t, err)
	secrets := append([]string{l.Key()}, tokens...)
	require.Len(t, secrets, 3)

	// The bytes of the Temporal database (with its write-ahead log) and of
	// every archived file.
	files, err := filepath.Glob(filepath.Join(dir, "temporal.db*"))
	require.NoError(t, err)
	require.NoError(t, filepath.WalkDir(filepath.Join(dir, "archive"), func(path string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			files = append(files, path)
		}
		return err
	}))
	archived, readable := 0, false
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		if strings.Contains(f, string(filepath.Separator)+"archive"+string(filepath.Separator)) {
			archived++
		}
		readable = readable || bytes.Contains(raw, []byte(workflowID)) // the scan reads what is there in clear
		for _, secret := range secrets {
			assert.False(t, bytes.Contains(raw, []byte(secret)), "%s holds a key or sign-in token", f)
		}
	}
	assert.NotZero(t, archived, "the archive holds files")
	assert.True(t, readable, "the workflow id is found in clear, so a secret in clear would be too")

	// Every payload of every history, the archived run's included.
	people := []string{"dev@example.com", "ops@example.com"}
	runs := []struct{ id, run string }{{workflowID, firstRun}, {workflowID, ""}}
	for id, run := range signInRuns {
		runs = append(runs, struct{ id, run string }{id, run})
	}
	for _, r := range runs {
		it := dev.client.GetWorkflowHistory(ctx, r.id, r.run, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		n := 0
		for it.HasNext() {
			e, err := it.Next()
			require.NoError(t, err)
			n++
			if e.GetEventType() == enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES {
				continue
			}
			if started := e.GetWorkflowExecutionStartedEventAttributes(); started != nil {
				started.SearchAttributes = nil
			}
			if continued := e.GetWorkflowExecutionContinuedAsNewEventAttributes(); continued != nil {
				continued.SearchAttributes = nil // the next run's
			}
			raw, err := proto.Marshal(e)
			require.NoError(t, err)
			for _, clear := range append(people, secrets...) {
				assert.False(t, bytes.Contains(raw, []byte(clear)), "event %d (%s) of %s holds %q", e.GetEventId(), e.GetEventType(), r.id, clear)
			}
		}
		assert.NotZero(t, n, "history of %s %s", r.id, r.run)
	}
}

// startArchivingDev starts a dev process whose runs are archived and then
// deleted 2 s after they close, configured as `licenseflow dev` does on
// every start (a no-op on a namespace created with these settings).
func startArchivingDev(t *testing.T, dir string, store *store.Store) *devProcess {
	t.Helper()
	dev := startDevWith(t, dir, store, devserver.Options{Retention: 2 * time.Second})
	history, visibility := dev.server.ArchiveURIs()
	require.NotEmpty(t, history)
	require.NoError(t, worker.ConfigureNamespace(ctx, dev.client, "default", worker.NamespaceSettings{
		Retention: 2 * time.Second, HistoryArchiveURI: history, VisibilityArchiveURI: visibility,
	}))
	return dev
}

// renewOnDev renews a license by update, which closes its current run
// (continue-as-new), and returns that run's id.
func renewOnDev(t *testing.T, dev *devProcess, licenseID, paymentRef string) string {
	t.Helper()
	workflowID := models.LicenseWorkflowID(licenseID)
	d, err := dev.client.DescribeWorkflowExecution(ctx, workflowID, "")
	require.NoError(t, err)
	h, err := dev.client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflowID,
		UpdateName: string(models.ActionRenew), Args: []any{models.RenewRequest{Months: 12, PaymentRef: paymentRef}},
		WaitForStage: client.WorkflowUpdateStageCompleted})
	require.NoError(t, err)
	require.NoError(t, h.Get(ctx, nil))
	return d.WorkflowExecutionInfo.Execution.RunId
}

// waitRunDeleted waits until retention has deleted a closed run from the
// server's own store: only a not-found answer counts.
func waitRunDeleted(t *testing.T, dev *devProcess, workflowID, run string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := dev.client.DescribeWorkflowExecution(ctx, workflowID, run)
		var gone *serviceerror.NotFound
		if errors.As(err, &gone) {
			return
		}
		require.NoError(t, err, "only a run that is not found counts as deleted")
		require.True(t, time.Now().Before(deadline), "run %s was not deleted after its retention", run)
		time.Sleep(200 * time.Millisecond)
	}
}
