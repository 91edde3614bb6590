package integration

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
	"github.com/licenseflow/licenseflow/workflows"
)

// BenchmarkWebhookFanOut makes 1,000 license events (50 licenses issued,
// then 18 suspensions and reinstatements each, ten licenses at a time,
// through the API) and delivers each to 3 endpoints subscribed to
// everything, one of which is down for the first 30 seconds. It reports
// deliveries per second (all 3,000, and the 2,000 to the endpoints that
// stayed up), and event-to-delivery latency (from the commit that wrote the
// event, as its delivery row records it, to the receiver's 2xx); it fails
// unless every receiver saw every event exactly once, each license's in
// order. Deliveries retry after 1 s, backing off to 5 s. For scale, the
// baseline, measured first on the same server, is a workflow running 300
// activities 16 at a time (a dispatcher's lanes), each posting to a
// receiver and nothing else. Run it with
//
//	go test ./integration -run '^$' -bench WebhookFanOut -benchtime 1x
func BenchmarkWebhookFanOut(b *testing.B) {
	for _, backend := range testsupport.Backends {
		b.Run(backend.Name, func(b *testing.B) {
			for range b.N {
				fanOut(b, backend.Open(b))
			}
		})
	}
}

func fanOut(b *testing.B, st *store.Store) {
	const (
		licenses   = 50
		changes    = 18 // per license, after its order.paid and license.issued
		writers    = 10 // licenses changing at once
		events     = licenses * (2 + changes)
		outage     = 30 * time.Second
		receivers  = 3
		deliveries = events * receivers
	)
	s := stack.Start(b, st, stack.Options{UpdateTimeout: 2 * time.Minute, WebhookPolicy: workflows.WebhookPolicy{
		RetryFor: time.Hour, FirstRetry: time.Second, MaxRetry: 5 * time.Second, Timeout: 5 * time.Second,
	}})
	baseline := postingBaseline(b, s)
	crms := make([]*testsupport.WebhookReceiver, receivers)
	endpoints := make([]string, receivers)
	for i := range crms {
		crms[i] = testsupport.StartWebhookReceiver(b)
		resp := s.Call(http.MethodPost, "/api/v1/webhook-endpoints", map[string]any{"url": crms[i].URL, "event_types": []string{"*"}})
		if resp.Status != http.StatusCreated {
			b.Fatalf("register endpoint: %d %s", resp.Status, resp.Body)
		}
		var created api.WebhookSecretShown
		resp.JSON(b, &created)
		crms[i].SetSecret(created.Secret)
		endpoints[i] = created.Endpoint.ID
	}
	down := crms[receivers-1]
	down.Down()
	start := time.Now()
	back := time.AfterFunc(outage, down.Up)
	defer back.Stop()

	ids := make([]string, licenses)
	for i := range licenses {
		r := s.Call(http.MethodPost, "/api/v1/licensing/licenses", fmt.Sprintf(`{"user_email":"fan-%d@example.com","tier":"pos"}`, i))
		if r.Status != http.StatusAccepted {
			b.Fatalf("issue: %d %s", r.Status, r.Body)
		}
		var v api.LicenseView
		r.JSON(b, &v)
		ids[i] = v.ID
		if i%10 == 9 { // issuing is not what is measured: ten at a time
			for _, id := range ids[i-9 : i+1] {
				s.WaitIssued(id)
			}
		}
	}
	next := make(chan string)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for id := range next {
				for c := range changes {
					action := []string{"suspend", "reinstate"}[c%2]
					if r := s.Call(http.MethodPost, "/api/v1/licensing/licenses/"+id+"/"+action, `{}`); r.Status != http.StatusOK {
						b.Errorf("%s: %d %s", action, r.Status, r.Body)
					}
				}
			}
		})
	}
	for _, id := range ids {
		next <- id
	}
	close(next)
	wg.Wait()
	written := time.Since(start)
	var healthyDone time.Duration
	for i, crm := range crms {
		crm.WaitAccepted(events, 3*time.Minute)
		if i < receivers-1 {
			healthyDone = max(healthyDone, time.Since(start))
		}
	}
	allDone := time.Since(start)

	// Receivers' view: every event once, each license's in order.
	want := map[string]bool{}
	var latencies, healthy []time.Duration
	for i, crm := range crms {
		got := crm.Requests()
		seen := map[string]int{}
		for _, r := range got {
			if r.Signature != nil {
				b.Fatalf("receiver %d: %s does not verify: %v", i, r.Payload.ID, r.Signature)
			}
			seen[r.Payload.ID]++
		}
		if len(seen) != events {
			b.Fatalf("receiver %d saw %d distinct events, want %d: events were lost", i, len(seen), events)
		}
		for id, n := range seen {
			if n != 1 {
				b.Fatalf("receiver %d saw %s %d times", i, id, n)
			}
			if i == 0 {
				want[id] = true
			} else if !want[id] {
				b.Fatalf("receiver %d saw %s, which receiver 0 did not", i, id)
			}
		}
		for _, id := range ids {
			order := ofLicense(got, id)
			wantOrder := []string{"order.paid", "license.issued"}
			for c := range changes {
				wantOrder = append(wantOrder, []string{"license.suspended", "license.reinstated"}[c%2])
			}
			if !slices.Equal(order, wantOrder) {
				b.Fatalf("receiver %d got license %s's events out of order: %v", i, id, order)
			}
		}
		committed := map[string]time.Time{}
		for before := uint64(0); ; {
			page, err := st.ListWebhookDeliveries(ctx, models.DeliveryFilter{EndpointID: endpoints[i], Limit: 500, Before: before})
			if err != nil {
				b.Fatal(err)
			}
			for _, d := range page {
				committed[d.EventID] = d.CreatedAt
			}
			if len(page) < 500 {
				break
			}
			before = page[len(page)-1].ID
		}
		for _, r := range got {
			l := r.At.Sub(committed[r.Payload.ID])
			latencies = append(latencies, l)
			if i < receivers-1 {
				healthy = append(healthy, l)
			}
		}
	}
	slices.Sort(latencies)
	slices.Sort(healthy)
	p := func(ls []time.Duration, q int) float64 { return ms(ls[(len(ls)*q)/100]) }
	b.ReportMetric(float64(deliveries)/allDone.Seconds(), "deliveries/s")
	b.ReportMetric(float64(deliveries-events)/healthyDone.Seconds(), "up-deliveries/s")
	b.ReportMetric(float64(events)/written.Seconds(), "events-written/s")
	b.ReportMetric(p(latencies, 50), "p50-ms")
	b.ReportMetric(p(latencies, 99), "p99-ms")
	b.ReportMetric(p(healthy, 50), "up-p50-ms")
	b.ReportMetric(p(healthy, 99), "up-p99-ms")
	b.ReportMetric(ms(allDone), "all-delivered-ms")
	b.ReportMetric(0, "lost")
	b.ReportMetric(0, "duplicated")
	b.ReportMetric(baseline, "baseline-posts/s")
}

// postingBaseline runs one workflow of 300 activities, 16 at a time, each
// an HTTP POST to a receiver, and returns activities per second.
func postingBaseline(b *testing.B, s *stack.Stack) float64 {
	const posts, lanes, queue = 300, 16, "baseline-posts"
	receiver := testsupport.StartWebhookReceiver(b)
	w := sdkworker.New(s.Temporal, queue, sdkworker.Options{})
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context, n int) error {
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
		running := 0
		for range n {
			if err := workflow.Await(ctx, func() bool { return running < lanes }); err != nil {
				return err
			}
			running++
			workflow.Go(ctx, func(ctx workflow.Context) {
				_ = workflow.ExecuteActivity(actx, "Post").Get(ctx, nil)
				running--
			})
		}
		return workflow.Await(ctx, func() bool { return running == 0 })
	}, workflow.RegisterOptions{Name: "PostingBaseline"})
	w.RegisterActivityWithOptions(func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, receiver.URL, strings.NewReader(`{}`))
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		return resp.Body.Close()
	}, activity.RegisterOptions{Name: "Post"})
	if err := w.Start(); err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	start := time.Now()
	run, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue}, "PostingBaseline", posts)
	if err == nil {
		err = run.Get(ctx, nil)
	}
	if err != nil {
		b.Fatal(err)
	}
	return posts / time.Since(start).Seconds()
}
