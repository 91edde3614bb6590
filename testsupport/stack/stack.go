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
	"net/netip"
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
	"github.com/licenseflow/licenseflow/lifecycle"
	"github.com/licenseflow/licenseflow/metrics"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payloadcodec"
	"github.com/licenseflow/licenseflow/payments"
	"github.com/licenseflow/licenseflow/payments/paypal"
	"github.com/licenseflow/licenseflow/sealing"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/openapicheck"
	"github.com/licenseflow/licenseflow/usage"
	"github.com/licenseflow/licenseflow/webhooks"
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
	// StripeLivemode acts on live-mode Stripe events instead of test-mode ones.
	StripeLivemode bool
	// PayPal verifies PayPal webhooks (paypaltest's verifier in tests).
	PayPal *paypal.Verifier
	// PayPalOrders creates renewal links' PayPal orders (paypaltest's API).
	PayPalOrders *paypal.Client
	// PaddleSecrets verify Paddle notifications.
	PaddleSecrets []string
	// Payments creates Stripe Checkout Sessions (nil: renewal links are CRM orders).
	Payments *payments.Checkout
	// Embedded runs the dev-mode server (devserver, SQLite file) instead of
	// temporaltest, to measure what `licenseflow dev` does.
	Embedded bool
	// TemporalPostgresURL, with Embedded, persists the dev-mode server to
	// PostgreSQL (a database of its own, created if missing: see
	// devserver.Options.PostgresURL) instead of a SQLite file.
	TemporalPostgresURL string
	// HistoryCacheSize, with Embedded, bounds the server's in-memory
	// workflow states (devserver.Options.HistoryCacheSize).
	HistoryCacheSize int
	// WebUI, with Embedded, serves the Temporal Web UI (Stack.WebUIURL)
	// configured as dev mode configures it: payloads decoded through the
	// API's codec endpoint, with the operator's dashboard cookie.
	WebUI bool
	// WebhookPolicy shapes webhook deliveries; zero fields take
	// TestWebhookPolicy's (retries a test can wait for).
	WebhookPolicy workflows.WebhookPolicy
	// OverdueWebhooks shapes the worker's check for overdue deliveries
	// (zero: the defaults licenseflow runs with).
	OverdueWebhooks app.OverdueWebhooks
	// WithoutWebhookWakeups leaves dispatchers to the overdue check, as if every
	// wake-up after a commit were lost.
	WithoutWebhookWakeups bool
	// MasterLicense creates the master license as a first start does
	// (Stack.MasterKey holds its key).
	MasterLicense bool
}

// TestWebhookPolicy retries quickly, so tests see retries and give-ups
// within seconds.
var TestWebhookPolicy = workflows.WebhookPolicy{
	RetryFor: time.Minute, FirstRetry: 50 * time.Millisecond, MaxRetry: 400 * time.Millisecond, Timeout: 2 * time.Second, Lanes: 8,
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
	// Webhooks are the webhook settings of the API and the worker: every
	// target allowed (receivers listen on loopback), deliveries under the
	// test policy.
	Webhooks app.Webhooks
	// Keys seal stored secrets and encrypt every Temporal payload.
	Keys *sealing.Keyring
	// Token is an admin API token.
	Token string
	// Metrics is what the API and the activities report; GET /metrics serves it.
	Metrics *metrics.Metrics
	// OpenAPI checks the API's answers against its OpenAPI document.
	OpenAPI *openapicheck.Checker
	// MasterKey is the master license's key as first start shows it
	// (Options.MasterLicense only).
	MasterKey string

	embedded *embeddedServer // Options.Embedded only
}

// WorkerOptions are those of the stack's worker: a workflow that panics
// fails at once, so a test sees the bug instead of waiting on retries. The
// SDK also panics when a workflow task runs over its deadlock timeout (1 s
// by default), which a loaded test machine reaches without any deadlock;
// with FailWorkflow that would fail the license for good (production
// workers block and retry the task), so the timeout is the workflow task's.
var WorkerOptions = sdkworker.Options{WorkflowPanicPolicy: sdkworker.FailWorkflow, DeadlockDetectionTimeout: 10 * time.Second}

// OperatorEmail may sign in to the dashboard by magic link.
const OperatorEmail = "ops@vendor.example"

// AdminToken is the admin token every stack accepts.
const AdminToken = "lft_integration-test-admin-token"

// Start runs a stack on store until the test ends.
func Start(t testing.TB, store *store.Store, opts Options) *Stack {
	t.Helper()
	var (
		ts        *temporaltest.TestServer
		embedded  *embeddedServer
		c         client.Client
		namespace string
	)
	// One keyring seals stored secrets and encrypts every Temporal payload,
	// as in production.
	keys := testsupport.SecretKeys(t)
	// The API listens before Temporal starts: the Web UI is told its codec
	// endpoint, and the API which origin that UI has.
	srv := httptest.NewUnstartedServer(nil)
	apiURL := "http://" + srv.Listener.Addr().String() // srv.URL once started
	var codecOrigins []string
	if opts.Embedded {
		e := devserver.Options{PostgresURL: opts.TemporalPostgresURL, HistoryCacheSize: opts.HistoryCacheSize, UIPort: -1}
		if opts.WebUI {
			e.UIPort, e.CodecEndpoint = 0, apiURL+"/codec"
		}
		embedded = startEmbedded(t, e, keys)
		c, namespace = embedded.client, "default"
		if opts.WebUI {
			codecOrigins = []string{embedded.webUIURL()}
		}
	} else if opts.WebUI {
		t.Fatal("stack: WebUI needs Embedded (temporaltest serves no Web UI)")
	} else {
		ts, c, namespace = startTestServer(t, keys)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := worker.EnsureSearchAttributes(ctx, c, namespace); err != nil {
		t.Fatalf("register search attributes: %v", err)
	}
	hooks := app.Webhooks{Targets: webhooks.AnyTarget(), Secrets: webhooks.NewSecretBox(keys), Policy: webhookPolicy(opts.WebhookPolicy)}
	m := metrics.New()
	acts, err := app.NewActivities(store, app.ActivityOptions{
		Sender: opts.Sender, From: "licenses@vendor.example", PublicURL: "https://licenses.vendor.example",
		Seller: invoicepdf.Seller{Name: "Moko Consulting", Address: "1 Main Street\nSpringfield"}, Metrics: m,
		Webhooks: hooks,
	})
	if err != nil {
		t.Fatal(err)
	}
	w := sdkworker.New(c, workflows.TaskQueue, WorkerOptions)
	worker.Register(w, acts)
	if err := w.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	t.Cleanup(w.Stop)
	if _, err := store.EnsureToken(ctx, "integration-admin", AdminToken, models.StringList{"admin"}); err != nil {
		t.Fatal(err)
	}
	var masterKey string
	if opts.MasterLicense {
		if masterKey, err = store.EnsureMasterLicense(ctx, time.Now()); err != nil || masterKey == "" {
			t.Fatalf("create the master license: key shown %t, %v", masterKey != "", err)
		}
	}
	if opts.UpdateTimeout == 0 {
		opts.UpdateTimeout = 10 * time.Second
	}
	gin.SetMode(gin.TestMode)
	recorder := usage.NewRecorder(store, nil, 50*time.Millisecond)
	lastSeen := usage.NewLastSeen(store, nil, usage.LastSeenOptions{Interval: 50 * time.Millisecond})
	// Every JSON answer under /api/v1 is checked against the OpenAPI
	// document; mismatches fail the test when the stack stops.
	checker, err := openapicheck.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, p := range checker.Problems() {
			t.Error(p)
		}
	})
	srv.Config.Handler = checker.Wrap(app.NewRouter(app.Deps{
		Store: store, Seller: invoicepdf.Seller{Name: "Moko Consulting", Address: "1 Main Street\nSpringfield"},
		Lifecycle: lifecycle.New(c, lifecycle.Options{Namespace: namespace, WebUIURL: "http://localhost:8233",
			Policy: opts.Policy, UpdateTimeout: opts.UpdateTimeout, ReleaseEmailsPerMinute: 6000}),
		PublicURL: "https://licenses.vendor.example", WebhookSecrets: opts.WebhookSecrets, StripeLivemode: opts.StripeLivemode, PayPal: opts.PayPal, PayPalOrders: opts.PayPalOrders, PaddleSecrets: opts.PaddleSecrets, Payments: opts.Payments,
		Usage: recorder, LastSeen: lastSeen, DomainSilence: 30 * 24 * time.Hour, ReleasesDir: filepath.Join(t.TempDir(), "releases"),
		SiteCacheTTL: time.Minute, // the worker writes through the same store: every change invalidates
		AdminEmails:  []string{OperatorEmail}, Webhooks: hooks,
		Staging: models.DefaultStagingRule(),
		Metrics: m, ServeMetrics: true, SecretKeys: keys, CodecOrigins: codecOrigins,
	}))
	srv.Start()
	t.Cleanup(recorder.Close)
	t.Cleanup(lastSeen.Close)
	t.Cleanup(srv.Close)
	if !opts.WithoutWebhookWakeups {
		t.Cleanup(app.WakeWebhookDispatchers(store, c, hooks.Policy, nil).Close)
	}
	t.Cleanup(app.WatchOverdueWebhooks(store, c, hooks.Policy, opts.OverdueWebhooks, nil).Close)
	return &Stack{t: t, Store: store, Server: ts, Temporal: c, Worker: w, Acts: acts, API: srv, Token: AdminToken, Keys: keys,
		Metrics: m, OpenAPI: checker, embedded: embedded, Webhooks: hooks, MasterKey: masterKey}
}

// webhookPolicy fills the zero fields of p from TestWebhookPolicy.
func webhookPolicy(p workflows.WebhookPolicy) workflows.WebhookPolicy {
	d := TestWebhookPolicy
	if p.RetryFor > 0 {
		d.RetryFor = p.RetryFor
	}
	if p.FirstRetry > 0 {
		d.FirstRetry = p.FirstRetry
	}
	if p.MaxRetry > 0 {
		d.MaxRetry = p.MaxRetry
	}
	if p.Timeout > 0 {
		d.Timeout = p.Timeout
	}
	if p.Lanes > 0 {
		d.Lanes = p.Lanes
	}
	return d
}

func startTestServer(t testing.TB, keys *sealing.Keyring) (*temporaltest.TestServer, client.Client, string) {
	var clientOpts client.Options
	payloadcodec.Install(&clientOpts, keys)
	if tt, ok := t.(*testing.T); ok {
		clientOpts.Logger = warningsLogger{tt}
	}
	serverOpts := []temporaltest.TestServerOption{temporaltest.WithBaseClientOptions(clientOpts)}
	if tt, ok := t.(*testing.T); ok {
		serverOpts = append(serverOpts, temporaltest.WithT(tt))
	}
	ts := temporaltest.NewServer(serverOpts...)
	if _, ok := t.(*testing.T); !ok {
		t.Cleanup(ts.Stop)
	}
	return ts, ts.GetDefaultClient(), ts.GetDefaultNamespace()
}

// warningsLogger writes the worker's and client's warnings and errors to
// the test's output and drops the rest: at debug level every activity and
// timer is a line, thousands per test, which buried a failed test's own
// lines and held its output in memory.
type warningsLogger struct{ t *testing.T }

func (l warningsLogger) Debug(string, ...any) {}
func (l warningsLogger) Info(string, ...any)  {}
func (l warningsLogger) Warn(msg string, keyvals ...any) {
	l.t.Log(append([]any{"WARN ", msg}, keyvals...)...)
}
func (l warningsLogger) Error(msg string, keyvals ...any) {
	l.t.Log(append([]any{"ERROR", msg}, keyvals...)...)
}

// embeddedServer is the dev-mode Temporal server of an Options.Embedded
// stack; it can be stopped and started again on the same file and port.
type embeddedServer struct {
	t      testing.TB
	opts   devserver.Options
	server *devserver.Server // nil while stopped
	client client.Client
}

// startEmbedded starts a dev-mode server with opts (its database file,
// namespace and search attributes filled in).
func startEmbedded(t testing.TB, opts devserver.Options, keys *sealing.Keyring) *embeddedServer {
	opts.DatabaseFile, opts.Namespace = filepath.Join(t.TempDir(), "temporal.db"), "default"
	opts.SearchAttributes = workflows.SearchAttributes()
	e := &embeddedServer{t: t, opts: opts}
	e.start()
	t.Cleanup(e.stop)
	// A restart keeps the port, so this client (and the worker and API on
	// it) reconnect by themselves.
	frontend, err := netip.ParseAddrPort(e.server.FrontendAddress())
	if err != nil {
		t.Fatalf("embedded Temporal server's address: %v", err)
	}
	e.opts.FrontendPort = int(frontend.Port())
	if ui, err := netip.ParseAddrPort(e.server.UIAddress()); err == nil {
		e.opts.UIPort = int(ui.Port()) // the API's codec origins name it
	}
	clientOpts := client.Options{HostPort: e.server.FrontendAddress(), Namespace: "default",
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}
	payloadcodec.Install(&clientOpts, keys)
	c, err := client.Dial(clientOpts)
	if err != nil {
		t.Fatalf("dial embedded Temporal server: %v", err)
	}
	t.Cleanup(c.Close)
	e.client = c
	return e
}

// webUIURL is the Web UI's origin, http://host:port.
func (e *embeddedServer) webUIURL() string { return "http://" + e.server.UIAddress() }

func (e *embeddedServer) start() {
	srv, err := devserver.Start(e.opts)
	if err != nil {
		e.t.Fatalf("start embedded Temporal server: %v", err)
	}
	e.server = srv
}

func (e *embeddedServer) stop() {
	if e.server != nil {
		e.server.Stop()
		e.server = nil
	}
}

// StopTemporal stops the embedded Temporal server (Options.Embedded) while
// the API and the worker keep running: a Temporal outage.
func (s *Stack) StopTemporal() {
	s.t.Helper()
	if s.embedded == nil {
		s.t.Fatal("StopTemporal needs a stack started with Options.Embedded")
	}
	s.embedded.stop()
}

// StartTemporal starts the embedded Temporal server again after
// StopTemporal, on the same database file and frontend port.
func (s *Stack) StartTemporal() {
	s.t.Helper()
	if s.embedded == nil || s.embedded.server != nil {
		s.t.Fatal("StartTemporal needs an embedded Temporal server that StopTemporal stopped")
	}
	s.embedded.start()
}

// WebUIURL is the origin of the Temporal Web UI (Options.WebUI).
func (s *Stack) WebUIURL() string {
	s.t.Helper()
	if s.embedded == nil || s.embedded.server == nil || s.embedded.server.UIAddress() == "" {
		s.t.Fatal("WebUIURL needs a running stack started with Options.Embedded and Options.WebUI")
	}
	return s.embedded.webUIURL()
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
	r, err := s.Send(token, method, path, body, headers...)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// Send is CallAs returning what goes wrong instead of failing the test,
// for clients on goroutines of their own. It gives up after 30 seconds.
func (s *Stack) Send(token, method, path string, body any, headers ...string) (Response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return Response{}, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.API.URL+path, rd)
	if err != nil {
		return Response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}, err
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
