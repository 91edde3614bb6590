package devserver_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/licenseflow/licenseflow/devserver"
	"github.com/licenseflow/licenseflow/testsupport"
)

// tierKey is a custom search attribute the test workflow upserts: the
// server on PostgreSQL must offer advanced visibility, as licenseflow
// filters licenses by such attributes.
var tierKey = temporal.NewSearchAttributeKeyKeyword("LicenseTier")

const queue = "devserver-test"

// waitForRelease upserts the tier and waits for a "release" signal.
func waitForRelease(ctx workflow.Context, tier string) (string, error) {
	if err := workflow.UpsertTypedSearchAttributes(ctx, tierKey.ValueSet(tier)); err != nil {
		return "", err
	}
	var by string
	workflow.GetSignalChannel(ctx, "release").Receive(ctx, &by)
	return by, nil
}

// running is a server on PostgreSQL with a client and a worker for
// waitForRelease.
type running struct {
	server *devserver.Server
	client client.Client
	worker sdkworker.Worker
}

func start(t *testing.T, opts devserver.Options) *running {
	t.Helper()
	srv, err := devserver.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(client.Options{HostPort: srv.FrontendAddress(), Namespace: opts.Namespace})
	if err != nil {
		srv.Stop()
		t.Fatal(err)
	}
	w := sdkworker.New(c, queue, sdkworker.Options{})
	w.RegisterWorkflow(waitForRelease)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	return &running{server: srv, client: c, worker: w}
}

func (r *running) stop() {
	r.worker.Stop()
	r.client.Close()
	r.server.Stop()
}

func TestServerOnPostgresKeepsWorkflowsAndSearchAttributesAcrossARestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := devserver.Options{
		PostgresURL: testsupport.PostgresDatabaseURL(t), Namespace: "licenses", UIPort: -1,
		SearchAttributes: map[string]enumspb.IndexedValueType{tierKey.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD},
	}
	first := start(t, opts)
	run, err := first.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "license-pg-1", TaskQueue: queue}, waitForRelease, "pos")
	if err != nil {
		first.stop()
		t.Fatal(err)
	}
	waitListed(ctx, t, first.client, `LicenseTier = "pos"`, run.GetID())
	first.stop()

	second := start(t, opts) // same databases: schema and namespace are left as they are
	defer second.stop()
	d, err := second.client.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
	if err != nil {
		t.Fatal(err)
	}
	if got := d.WorkflowExecutionInfo.Status; got != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("after the restart the workflow is %s, want running", got)
	}
	waitListed(ctx, t, second.client, `LicenseTier = "pos" AND ExecutionStatus = "Running"`, run.GetID())
	if err := second.client.SignalWorkflow(ctx, run.GetID(), run.GetRunID(), "release", "second server"); err != nil {
		t.Fatal(err)
	}
	var by string
	if err := second.client.GetWorkflow(ctx, run.GetID(), run.GetRunID()).Get(ctx, &by); err != nil {
		t.Fatal(err)
	}
	if by != "second server" {
		t.Fatalf("workflow returned %q", by)
	}
}

// waitListed waits until the visibility query finds exactly the workflow
// id (visibility is written after the history, so it may trail a moment).
func waitListed(ctx context.Context, t *testing.T, c client.Client, query, id string) {
	t.Helper()
	var last string
	for ctx.Err() == nil {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil {
			t.Fatalf("list %s: %v", query, err)
		}
		if len(resp.Executions) == 1 && resp.Executions[0].Execution.WorkflowId == id {
			return
		}
		last = fmt.Sprint(len(resp.Executions), " executions")
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never listed only %s (last: %s)", query, id, last)
}
