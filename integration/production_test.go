package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/server/temporaltest"

	"github.com/licenseflow/licenseflow/cmd/licenseflow/config"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/sealing"
	"github.com/licenseflow/licenseflow/testsupport"
)

// The production tests run licenseflow as the README's Production section
// deploys it: the production binary (-tags nodev), `migrate`, then `api`
// and `worker` as separate processes, each started from the variables the
// README says it requires (config.Required) and nothing else from this
// test's environment; the machine adds only free ports, the test SMTP
// server's port and plain SMTP, the Temporal test server's namespace and a
// known admin token.

var licenseflowBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "licenseflow-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "licenseflow")
	build := exec.Command("go", "build", "-tags", "nodev", "-o", bin, "./cmd/licenseflow")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// deployment is one production-shaped installation: its database, its
// Temporal server, its mail server, and the variables every process gets.
type deployment struct {
	t    *testing.T
	db   *testsupport.IsolatedPostgres
	mail *testsupport.MailServer
	// values the README's required variables take here
	values map[string]string
	// machine are the variables the test machine adds (ports, plain SMTP).
	machine map[string]string
}

const productionAdminToken = "lft_production-test-admin-token"

func newDeployment(t *testing.T) *deployment {
	t.Helper()
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	return newDeploymentOn(t, ts.GetFrontendHostPort(), ts.GetDefaultNamespace())
}

// newDeploymentOn is a deployment on the Temporal server at address.
func newDeploymentOn(t *testing.T, address, namespace string) *deployment {
	t.Helper()
	if _, err := licenseflowBinary(); err != nil {
		t.Fatal(err)
	}
	db := testsupport.NewIsolatedPostgres(t)
	mail := testsupport.StartSMTP(t)
	keys, err := sealing.NewKeySpec(time.Now())
	require.NoError(t, err)
	return &deployment{
		t: t, db: db, mail: mail,
		values: map[string]string{
			"DATABASE_URL": db.URL, "LICENSEFLOW_SECRET_KEYS": keys, "TEMPORAL_ADDRESS": address,
			"LICENSEFLOW_PUBLIC_URL": "https://licenses.vendor.example", "SMTP_HOST": mail.Host,
			"SMTP_FROM": "licenses@vendor.example", "LICENSEFLOW_VENDOR_NAME": "Moko Consulting",
		},
		machine: map[string]string{
			"TEMPORAL_NAMESPACE": namespace, "SMTP_PORT": fmt.Sprint(mail.Port), "SMTP_TLS": "none",
			"LICENSEFLOW_ADMIN_TOKEN": productionAdminToken, "LICENSEFLOW_LOG_FORMAT": "json",
		},
	}
}

// env is what a process of role is started with: the variables role
// requires, the machine's, and overrides (a value "" leaves one out).
func (d *deployment) env(role config.Role, overrides map[string]string) map[string]string {
	env := map[string]string{}
	for _, name := range config.Required(role) {
		v, ok := d.values[name]
		require.True(d.t, ok, "the test has no value for %s, which `licenseflow %s` requires", name, role)
		env[name] = v
	}
	for k, v := range d.machine {
		env[k] = v
	}
	for k, v := range overrides {
		env[k] = v
	}
	return env
}

// process is a licenseflow process.
type process struct {
	role string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	code int
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs `licenseflow role` with exactly env (and PATH), in a
// directory of its own; it is killed when the test ends.
func (d *deployment) start(role config.Role, env map[string]string) *process {
	d.t.Helper()
	bin, err := licenseflowBinary()
	require.NoError(d.t, err)
	cmd := exec.Command(bin, string(role))
	cmd.Dir = d.t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + cmd.Dir}
	for k, v := range env {
		if v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	p := &process{role: string(role), cmd: cmd, out: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	require.NoError(d.t, cmd.Start())
	go func() {
		_ = cmd.Wait()
		p.code = cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	d.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if d.t.Failed() {
			d.t.Logf("output of licenseflow %s:\n%s", role, p.out)
		}
	})
	return p
}

// exited waits for the process to end and returns its exit code.
func (p *process) exited(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(timeout):
		t.Fatalf("licenseflow %s still running after %s:\n%s", p.role, timeout, p.out)
		return -1
	}
}

// ready waits until url answers 200, failing if the process ends first.
func (p *process) ready(t *testing.T, url string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-p.done:
			t.Fatalf("licenseflow %s exited (%d) before it was ready:\n%s", p.role, p.code, p.out)
		default:
		}
		if r, err := http.Get(url); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("licenseflow %s not ready at %s after %s:\n%s", p.role, url, timeout, p.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// runAPIAndWorker migrates, then starts an API and a worker, both ready.
func (d *deployment) runAPIAndWorker(t *testing.T) (api string, apiProc, workerProc *process) {
	t.Helper()
	d.migrate(t)
	api, apiProc = d.startAPI(t)
	return api, apiProc, d.startWorker(t)
}

func (d *deployment) migrate(t *testing.T) {
	t.Helper()
	require.Equal(t, 0, d.start(config.RoleMigrate, d.env(config.RoleMigrate, nil)).exited(t, 2*time.Minute), "migrate succeeds")
}

// startAPI starts an API process on a port of its own and waits until it
// is ready; it returns the API's base URL.
func (d *deployment) startAPI(t *testing.T) (string, *process) {
	t.Helper()
	addr := freeAddr(t)
	p := d.start(config.RoleAPI, d.env(config.RoleAPI, map[string]string{"LICENSEFLOW_HTTP_ADDR": addr}))
	p.ready(t, "http://"+addr+"/readyz", 2*time.Minute)
	return "http://" + addr, p
}

// startWorker starts a worker process and waits until it is ready.
func (d *deployment) startWorker(t *testing.T) *process {
	t.Helper()
	addr := freeAddr(t)
	p := d.start(config.RoleWorker, d.env(config.RoleWorker, map[string]string{"LICENSEFLOW_WORKER_HEALTH_ADDR": addr}))
	p.ready(t, "http://"+addr+"/readyz", 2*time.Minute)
	return p
}

func buyThrough(t *testing.T, api, order string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"user_email": order + "@example.com", "tier": "pos", "max_domains": 3, "expires_months": 12, "order_id": order})
	req, err := http.NewRequest(http.MethodPost, api+"/api/v1/licensing/licenses", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+productionAdminToken)
	req.Header.Set("Content-Type", "application/json")
	for attempt := 1; ; attempt++ {
		r, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		raw, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode == http.StatusServiceUnavailable && attempt < 20 {
			// A busy Temporal server: the order is recorded; the CRM sends
			// the same request again, as the answer asks.
			time.Sleep(time.Second)
			req.Body = io.NopCloser(bytes.NewReader(body))
			continue
		}
		require.Contains(t, []int{http.StatusOK, http.StatusAccepted}, r.StatusCode, "%s", raw)
		var v struct{ ID string }
		require.NoError(t, json.Unmarshal(raw, &v))
		return v.ID
	}
}

func TestTheProductionShapeRunsFromTheReadmesVariables(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	api, _, _ := d.runAPIAndWorker(t)
	id := buyThrough(t, api, "prod-1")
	mails := d.mail.WaitFor(t, 2, time.Minute)
	st := d.db.Store(t, 2)
	l, err := st.GetLicense(context.Background(), id)
	require.NoError(t, err)
	assert.Equal(t, models.StatusActive, l.Status)
	for _, m := range mails {
		assert.Equal(t, []string{"prod-1@example.com"}, m.To)
		assert.Contains(t, m.Data, "https://licenses.vendor.example/portal", "links follow LICENSEFLOW_PUBLIC_URL")
	}
	assert.Contains(t, mails[0].Data+mails[1].Data, l.Key(), "the delivery email carries the key")
}

// Issue 21: a mistyped or missing variable made api and worker run on
// dev defaults, or fail only after they had changed the database or the
// namespace. Each case must stop the process, name the variable, and
// leave the database as it was (empty).
func TestAProcessWithAWrongSettingRefusesToStartAndChangesNothing(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	cases := []struct {
		role     config.Role
		override map[string]string
		names    string
	}{
		{config.RoleAPI, map[string]string{"DATABASE_URL": ""}, "DATABASE_URL"},
		{config.RoleWorker, map[string]string{"DATABASE_URL": ""}, "DATABASE_URL"},
		{config.RoleMigrate, map[string]string{"DATABASE_URL": ""}, "DATABASE_URL"},
		{config.RoleAPI, map[string]string{"DATABASE_URL": "mysql://root:hunter2@db/licenses"}, "DATABASE_URL"},
		{config.RoleWorker, map[string]string{"SMTP_HOST": ""}, "SMTP_HOST"},
		{config.RoleWorker, map[string]string{"LICENSEFLOW_SECRET_KEYS": "k1:not-a-key"}, "LICENSEFLOW_SECRET_KEYS"},
		{config.RoleAPI, map[string]string{"TEMPORAL_NAMESPACE": "no-such-namespace"}, "TEMPORAL_NAMESPACE"},
		{config.RoleWorker, map[string]string{"TEMPORAL_NAMESPACE": "no-such-namespace"}, "TEMPORAL_NAMESPACE"},
	}
	st := d.db.Store(t, 2) // migrates: every table exists; the test then empties the schema
	require.NoError(t, st.DB().Exec("DROP SCHEMA public CASCADE; CREATE SCHEMA public").Error)
	for _, c := range cases {
		p := d.start(c.role, d.env(c.role, c.override))
		code := p.exited(t, 2*time.Minute)
		assert.NotEqual(t, 0, code, "licenseflow %s with %v must not run", c.role, c.override)
		assert.Contains(t, p.out.String(), c.names, "licenseflow %s with %v names the variable", c.role, c.override)
		assert.NotContains(t, p.out.String(), "hunter2", "a password is never printed")
		var tables int64
		require.NoError(t, st.DB().Raw("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").Scan(&tables).Error)
		assert.Zero(t, tables, "licenseflow %s with %v changed the database before it stopped", c.role, c.override)
		entries, err := os.ReadDir(p.cmd.Dir)
		require.NoError(t, err)
		assert.Empty(t, entries, "licenseflow %s with %v made files (an SQLite database?) in its directory", c.role, c.override)
	}
}

// Issue 21: a worker stopped with SIGTERM quit in 0.1 s with SMTP sessions
// under way; one delivery email reached the server twice. It now drains.
func TestAWorkerStoppedWithSIGTERMDuringPurchasesSendsNoEmailTwice(t *testing.T) {
	t.Parallel()
	const purchases = 20
	d := newDeployment(t)
	d.mail.SetDelay(300 * time.Millisecond) // sends are under way when the signal comes
	api, _, first := d.runAPIAndWorker(t)
	var wg sync.WaitGroup
	for i := range purchases {
		wg.Go(func() { buyThrough(t, api, fmt.Sprintf("drain-%02d", i)) })
	}
	d.mail.WaitFor(t, 4, time.Minute)
	require.NoError(t, first.cmd.Process.Signal(syscall.SIGTERM))
	assert.Equal(t, 0, first.exited(t, time.Minute), "the worker drains and exits cleanly")
	assert.Contains(t, first.out.String(), "worker stopped")
	wg.Wait()

	d.startWorker(t)
	st := d.db.Store(t, 2)
	// Once every message is recorded sent, none can be sent again: only
	// then is the mail server's count final.
	waitUntil(t, "every email recorded sent", 3*time.Minute, func() bool {
		var sent int64
		return st.DB().Raw("SELECT count(*) FROM email_messages WHERE status = ?", models.EmailSent).Scan(&sent).Error == nil && sent == 2*purchases
	})
	mails := d.mail.Messages()
	ids := map[string]int{}
	messageID := regexp.MustCompile(`(?mi)^Message-Id:\s*(\S+)`)
	for _, m := range mails {
		id := messageID.FindStringSubmatch(m.Data)
		require.NotNil(t, id, "every message has a Message-ID")
		ids[id[1]]++
	}
	for id, n := range ids {
		assert.Equal(t, 1, n, "message %s reached the server %d times", id, n)
	}
	assert.Len(t, ids, 2*purchases, "a delivery and an invoice email per purchase")
	var attempts []int
	require.NoError(t, st.DB().Raw("SELECT attempts FROM email_messages").Scan(&attempts).Error)
	for _, a := range attempts {
		assert.Equal(t, 1, a, "each message was attempted once")
	}
	assert.True(t, strings.Contains(first.out.String(), "draining"), "the worker says it drains")
}
