// Package stack starts the whole of licenseflow for integration tests and
// benchmarks: an in-process Temporal server (temporaltest) with the search
// attributes registered, a worker running the real activities, and the API
// on a loopback HTTP server. It links the Temporal server, so only the
// integration package imports it.
package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"

	"github.com/licenseflow/licenseflow/activities"
	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/app"
	"github.com/licenseflow/licenseflow/devserver"
	"github.com/licenseflow/licenseflow/email"
	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/invoicepdf"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/usage"
	"github.com/licenseflow/licenseflow/worker"
	"github.com/licenseflow/licenseflow/workflows"
)

// Options shape a stack.
type Options struct {
	// Sender delivers email; nil keeps messages in the outbox.
	Sender email.Sender
	// Policy overrides the lifecycle windows (short ones make retention testable).
	Policy workflows.Policy
	// UpdateTimeout bounds API updates (default 10s).
	UpdateTimeout time.Duration
	// WebhookSecrets verify Stripe webhooks.
	WebhookSecrets []string
	// Payments creates Stripe Checkout Sessions (nil: renewal links are CRM orders).
	Payments *payments.Checkout
	// Embedded runs the dev-mode server (devserver, SQLite file) instead of
	// temporaltest, to measure what `licenseflow dev` does.
	Embedded bool
}

// Stack is a running licenseflow.
type Stack struct {
	t        testing.TB
	Store    *store.Store
	Server   *temporaltest.TestServer
	Temporal client.Client
	Worker   sdkworker.Worker
	Acts     *activities.Activities
	API      *httptest.Server
	// Token is an admin API token.
	Token string
}

// OperatorEmail may sign in to the dashboard by magic link.
const OperatorEmail = "ops@vendor.example"

// AdminToken is the admin token every stack accepts.
const AdminToken = "lft_integration-test-admin-token"

// Start runs a stack on store until the test ends.
func Start(t testing.TB, store *store.Store, opts Options) *Stack {
	t.Helper()
	var (
		ts        *temporaltest.TestServer
		c         client.Client
		namespace string
	)
	if opts.Embedded {
		c, namespace = startEmbedded(t)
	} else {
		ts, c, namespace = startTestServer(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := worker.EnsureSearchAttributes(ctx, c, namespace); err != nil {
		t.Fatalf("register search attributes: %v", err)
	}
	acts, err := app.NewActivities(store, app.ActivityOptions{
		Sender: opts.Sender, From: "licenses@vendor.example", PublicURL: "https://licenses.vendor.example",
		Seller: invoicepdf.Seller{Name: "Moko Consulting", Address: "1 Main Street\nSpringfield"},
	})
	if err != nil {
		t.Fatal(err)
	}
	w := sdkworker.New(c, workflows.TaskQueue, sdkworker.Options{WorkflowPanicPolicy: sdkworker.FailWorkflow})
	worker.Register(w, acts)
	if err := w.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	t.Cleanup(w.Stop)
	if _, err := store.EnsureToken(ctx, "integration-admin", AdminToken, models.StringList{"admin"}); err != nil {
		t.Fatal(err)
	}
	if opts.UpdateTimeout == 0 {
		opts.UpdateTimeout = 10 * time.Second
	}
	gin.SetMode(gin.TestMode)
	recorder := usage.NewRecorder(store, nil, 50*time.Millisecond)
	srv := httptest.NewServer(app.NewRouter(app.Deps{
		Store: store, Temporal: c, Namespace: namespace, WebUIURL: "http://localhost:8233",
		Policy: opts.Policy, UpdateTimeout: opts.UpdateTimeout,
		PublicURL: "https://licenses.vendor.example", WebhookSecrets: opts.WebhookSecrets, Payments: opts.Payments,
		Usage: recorder, ReleasesDir: filepath.Join(t.TempDir(), "releases"), ReleaseEmailsPerMinute: 6000,
		SiteCacheTTL: time.Minute, // the worker writes through the same store: every change invalidates
		AdminEmails:  []string{OperatorEmail},
	}))
	t.Cleanup(recorder.Close)
	t.Cleanup(srv.Close)
	return &Stack{t: t, Store: store, Server: ts, Temporal: c, Worker: w, Acts: acts, API: srv, Token: AdminToken}
}

func startTestServer(t testing.TB) (*temporaltest.TestServer, client.Client, string) {
	serverOpts := []temporaltest.TestServerOption{}
	if tt, ok := t.(*testing.T); ok {
		serverOpts = append(serverOpts, temporaltest.WithT(tt))
	}
	ts := temporaltest.NewServer(serverOpts...)
	if _, ok := t.(*testing.T); !ok {
		t.Cleanup(ts.Stop)
	}
	return ts, ts.GetDefaultClient(), ts.GetDefaultNamespace()
}

func startEmbedded(t testing.TB) (client.Client, string) {
	srv, err := devserver.Start(devserver.Options{
		DatabaseFile: filepath.Join(t.TempDir(), "temporal.db"), Namespace: "default", UIPort: -1,
		SearchAttributes: workflows.SearchAttributes(),
	})
	if err != nil {
		t.Fatalf("start embedded Temporal server: %v", err)
	}
	t.Cleanup(srv.Stop)
	c, err := client.Dial(client.Options{HostPort: srv.FrontendAddress(), Namespace: "default",
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	if err != nil {
		t.Fatalf("dial embedded Temporal server: %v", err)
	}
	t.Cleanup(c.Close)
	return c, "default"
}

// Response is an API answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Error decodes an error answer.
func (r Response) Error(t testing.TB) httpx.Error {
	t.Helper()
	var body struct {
		Error httpx.Error `json:"error"`
	}
	r.JSON(t, &body)
	return body.Error
}

// Call sends a request with the admin token; body is JSON-encoded unless it
// is a string (sent as is) or nil. headers are name, value pairs.
func (s *Stack) Call(method, path string, body any, headers ...string) Response {
	s.t.Helper()
	return s.CallAs(s.Token, method, path, body, headers...)
}

// CallAs sends a request with the given token ("" for none).
func (s *Stack) CallAs(token, method, path string, body any, headers ...string) Response {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.API.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// License fetches a license through the API.
func (s *Stack) License(id string) api.LicenseView {
	s.t.Helper()
	r := s.Call(http.MethodGet, "/api/v1/licensing/licenses/"+id, nil)
	if r.Status != http.StatusOK {
		s.t.Fatalf("GET license %s: %d %s", id, r.Status, r.Body)
	}
	var v api.LicenseView
	r.JSON(s.t, &v)
	return v
}

// WaitFor polls cond every 20 ms until it holds, failing after timeout.
func (s *Stack) WaitFor(what string, timeout time.Duration, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// IssueTimeout bounds how long issuing a license may take on a loaded
// machine when nothing goes wrong (it takes well under a second idle).
const IssueTimeout = 15 * time.Second

// WaitIssued waits until a license's workflow has delivered and invoiced it
// and the database shows the workflow's latest revision.
func (s *Stack) WaitIssued(id string) api.LicenseView {
	s.t.Helper()
	return s.WaitIssuedWithin(id, IssueTimeout)
}

// WaitIssuedWithin is WaitIssued with its own bound.
func (s *Stack) WaitIssuedWithin(id string, timeout time.Duration) api.LicenseView {
	s.t.Helper()
	var v api.LicenseView
	s.WaitFor("license "+id+" to be issued", timeout, func() bool {
		v = s.License(id)
		return v.Workflow != nil && v.Workflow.Issued && v.Revision >= v.Workflow.Revision
	})
	return v
}
