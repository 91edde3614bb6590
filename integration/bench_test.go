package integration

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
)

// BenchmarkPurchaseToDelivery sends 200 orders through the API of a
// licenseflow running on the embedded (dev-mode) Temporal server and SQLite,
// and times each from POST to the delivery email reaching an SMTP server.
// The baseline, measured in the same run on the same server by a worker
// with the same options, is a workflow with the purchase's activities as
// they were first written (mint, expand, deliver, invoice, invoice email,
// and the two projections) doing nothing, timed from start to its third
// activity (where the purchase delivers). It stays that fixed yardstick
// when the purchase takes fewer round trips. Both warm up first, so
// neither pays for the server's first tasks. Run it with
//
//	go test ./integration -run '^$' -bench PurchaseToDelivery -benchtime 1x
func BenchmarkPurchaseToDelivery(b *testing.B) {
	const orders, concurrency = 200, 20
	mail := testsupport.StartSMTP(b)
	s := stack.Start(b, testsupport.SQLiteAt(b, filepath.Join(b.TempDir(), "licenseflow.db")), stack.Options{Sender: smtpSender(b, mail), Embedded: true})

	baseline := newBaseline(b, s.Temporal)
	purchase := func(round string) func(i int) time.Duration {
		return func(i int) time.Duration {
			customer := fmt.Sprintf("bench-%s-%d@example.com", round, i)
			start := time.Now()
			r := s.Call(http.MethodPost, "/api/v1/licensing/licenses", fmt.Sprintf(`{"user_email":%q,"tier":"pos","max_domains":5,"expires_months":12}`, customer))
			if r.Status != http.StatusAccepted {
				b.Fatalf("POST: %d %s", r.Status, r.Body)
			}
			return mail.WaitForRecipient(b, customer, "license key", 60*time.Second).Sub(start)
		}
	}
	measure(concurrency, concurrency, baseline.run)
	measure(concurrency, concurrency, purchase("warm-up"))
	for n := range b.N {
		base := measure(orders, concurrency, baseline.run)
		real := measure(orders, concurrency, purchase(fmt.Sprint(n)))
		b.ReportMetric(real.perSecond, "licenses/s")
		b.ReportMetric(ms(real.p50), "p50-ms")
		b.ReportMetric(ms(real.p99), "p99-ms")
		b.ReportMetric(base.perSecond, "baseline-workflows/s")
		b.ReportMetric(ms(base.p50), "baseline-p50-ms")
		b.ReportMetric(ms(base.p99), "baseline-p99-ms")
		b.ReportMetric(real.perSecond/base.perSecond, "throughput-ratio")
		b.ReportMetric(float64(real.p50)/float64(base.p50), "p50-ratio")
		b.ReportMetric(ms(real.cpuPerJob), "cpu-ms/license")
		b.ReportMetric(ms(base.cpuPerJob), "baseline-cpu-ms/workflow")
	}
}

type measurement struct {
	perSecond float64
	p50, p99  time.Duration
	// cpuPerJob is the process's CPU time (server, worker, API and client
	// together) per job: the work a job costs, which a busy shared machine
	// does not change the way it changes latencies.
	cpuPerJob time.Duration
}

// measure runs n jobs, concurrency at a time, and summarizes their latencies.
func measure(n, concurrency int, job func(i int) time.Duration) measurement {
	latencies := make([]time.Duration, n)
	next := make(chan int)
	var wg sync.WaitGroup
	start, startCPU := time.Now(), processCPU()
	for range concurrency {
		wg.Go(func() {
			for i := range next {
				latencies[i] = job(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	elapsed, cpu := time.Since(start), processCPU()-startCPU
	slices.Sort(latencies)
	return measurement{
		perSecond: float64(n) / elapsed.Seconds(),
		p50:       latencies[n/2],
		p99:       latencies[(n*99)/100],
		cpuPerJob: cpu / time.Duration(n),
	}
}

// processCPU is the CPU time this process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// baseline is an empty lifecycle: as many activities (and local
// activities) as the purchase, in the same order, doing nothing.
type baseline struct {
	c       client.Client
	mu      sync.Mutex
	reached map[string]chan time.Time
}

const baselineQueue = "baseline"

func newBaseline(b *testing.B, c client.Client) *baseline {
	bl := &baseline{c: c, reached: map[string]chan time.Time{}}
	w := sdkworker.New(c, baselineQueue, stack.WorkerOptions)
	w.RegisterWorkflowWithOptions(baselineWorkflow, workflow.RegisterOptions{Name: "BaselineWorkflow"})
	w.RegisterActivity(bl.Step)
	require.NoError(b, w.Start())
	b.Cleanup(w.Stop)
	return bl
}

// Step does nothing; at the delivery position it reports the time.
func (bl *baseline) Step(ctx context.Context, id string, position int) error {
	if position == 3 {
		bl.mu.Lock()
		ch := bl.reached[id]
		bl.mu.Unlock()
		ch <- time.Now()
	}
	return nil
}

func baselineWorkflow(ctx workflow.Context, id string) error {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second})
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
	step := func(pos int) error { return workflow.ExecuteActivity(actx, "Step", id, pos).Get(ctx, nil) }
	local := func() error {
		return workflow.ExecuteLocalActivity(lctx, func(context.Context) error { return nil }).Get(ctx, nil)
	}
	// mint, expand, project, deliver, invoice, invoice email, project
	for _, run := range []func() error{
		func() error { return step(1) }, func() error { return step(2) }, local,
		func() error { return step(3) }, func() error { return step(4) }, func() error { return step(5) }, local,
	} {
		if err := run(); err != nil {
			return err
		}
	}
	return nil
}

func (bl *baseline) run(i int) time.Duration {
	id := fmt.Sprintf("baseline-%d-%d", time.Now().UnixNano(), i)
	ch := make(chan time.Time, 1)
	bl.mu.Lock()
	bl.reached[id] = ch
	bl.mu.Unlock()
	start := time.Now()
	if _, err := bl.c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id, TaskQueue: baselineQueue}, "BaselineWorkflow", id); err != nil {
		panic(err)
	}
	return (<-ch).Sub(start)
}

// TestHistoryStaysBoundedAcrossRenewals renews one license 24 times (two
// years of monthly payments) and checks that continue-as-new keeps every
// run's history small.
func TestHistoryStaysBoundedAcrossRenewals(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	var created api.LicenseView
	s.Call(http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"monthly@example.com","tier":"suite-monthly"}`).JSON(t, &created)
	issued := s.WaitIssued(created.ID)
	for i := range 24 {
		r := s.Call(http.MethodPost, "/api/v1/licensing/licenses/"+created.ID+"/renew", fmt.Sprintf(`{"order_id":"monthly-%d"}`, i))
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	}
	v := s.License(created.ID)
	assert.Equal(t, issued.DLID, v.DLID)
	assert.Equal(t, 24, v.Workflow.Renewals)
	s.Call(http.MethodPost, "/api/v1/licensing/licenses/"+created.ID+"/revoke", nil)
	s.WaitFor("the last run to close", 10*time.Second, func() bool {
		d, err := s.Temporal.DescribeWorkflowExecution(ctx, created.WorkflowID, "")
		require.NoError(t, err)
		return d.WorkflowExecutionInfo.CloseTime != nil
	})
	histories := allRunHistories(t, s.Temporal, created.WorkflowID)
	total, largest := 0, 0
	for _, h := range histories {
		total += len(h.Events)
		largest = max(largest, len(h.Events))
	}
	t.Logf("24 renewals: %d runs, %d events in all, largest run %d events, last run %d events",
		len(histories), total, largest, len(histories[len(histories)-1].Events))
	assert.GreaterOrEqual(t, len(histories), 20, "renewals continue as new")
	assert.LessOrEqual(t, largest, 100, "no run's history grows with the number of renewals")
}
