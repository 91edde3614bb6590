package integration

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/app"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments"
	"github.com/licenseflow/licenseflow/siteapi"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
	"github.com/licenseflow/licenseflow/webhooks"
	"github.com/licenseflow/licenseflow/worker"
	"github.com/licenseflow/licenseflow/workflows"
)

// register adds an endpoint for a receiver through the API and hands the
// receiver the secret shown once.
func register(t *testing.T, s *stack.Stack, r *testsupport.WebhookReceiver, includeDLID bool, types ...models.WebhookEventType) api.WebhookEndpointView {
	t.Helper()
	names := make([]string, len(types))
	for i, typ := range types {
		names[i] = string(typ)
	}
	resp := s.Call(http.MethodPost, "/api/v1/webhook-endpoints", map[string]any{
		"url": r.URL, "event_types": names, "include_dlid": includeDLID, "description": "CRM",
	})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	var created api.WebhookSecretShown
	resp.JSON(t, &created)
	require.Contains(t, created.Secret, webhooks.SecretPrefix)
	r.SetSecret(created.Secret)
	return created.Endpoint
}

// deliveryLog reads an endpoint's delivery log through the API.
func deliveryLog(t *testing.T, s *stack.Stack, endpointID, query string) []api.WebhookDeliveryView {
	t.Helper()
	resp := s.Call(http.MethodGet, "/api/v1/webhook-endpoints/"+endpointID+"/deliveries?limit=500"+query, nil)
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	var page struct {
		Data []api.WebhookDeliveryView `json:"data"`
	}
	resp.JSON(t, &page)
	return page.Data
}

// settled waits until no delivery of the endpoints is pending, so what the
// receivers saw is final.
func settled(t *testing.T, s *stack.Stack, endpointIDs ...string) {
	t.Helper()
	s.WaitFor("every delivery to finish", time.Minute, func() bool {
		for _, id := range endpointIDs {
			if len(deliveryLog(t, s, id, "&status=pending")) > 0 {
				return false
			}
		}
		return true
	})
}

// received holds once an accepted delivery has the type (and reminder).
func received(typ models.WebhookEventType, reminder string) func([]testsupport.ReceivedWebhook) bool {
	return func(all []testsupport.ReceivedWebhook) bool {
		return slices.ContainsFunc(all, func(got testsupport.ReceivedWebhook) bool {
			return got.Status == http.StatusOK && got.Payload.Type == typ && got.Payload.Data.Reminder == reminder
		})
	}
}

// ofLicense lists the types of a license's events in the order they arrived.
func ofLicense(all []testsupport.ReceivedWebhook, licenseID string) []string {
	var out []string
	for _, got := range all {
		d := got.Payload.Data
		if (d.License != nil && d.License.ID == licenseID) || (d.Order != nil && d.Order.LicenseID == licenseID) {
			out = append(out, string(got.Payload.Type)+suffix(got.Payload.Data.Reminder))
		}
	}
	return out
}

func suffix(reminder string) string {
	if reminder == "" {
		return ""
	}
	return ":" + reminder
}

// checkSignedOnce checks every delivery verifies and no event arrived twice.
func checkSignedOnce(t *testing.T, all []testsupport.ReceivedWebhook) {
	t.Helper()
	seen := map[string]bool{}
	for _, got := range all {
		assert.NoError(t, got.Signature, "%s verifies with the endpoint's secret", got.Payload.ID)
		assert.Equal(t, got.Payload.ID, got.Header.Get(webhooks.EventIDHeader))
		assert.Equal(t, string(got.Payload.Type), got.Header.Get(webhooks.EventTypeHeader))
		assert.Regexp(t, `^evt_[0-9a-f]{20}$`, got.Payload.ID)
		assert.False(t, seen[got.Payload.ID], "%s (%s) delivered twice", got.Payload.ID, got.Payload.Type)
		seen[got.Payload.ID] = true
	}
}

// A CRM registers endpoints and receives every event type it subscribed to,
// signed, once, in the order things happened to the license; an endpoint
// subscribed to other types gets none of them; the full key only goes to
// the endpoint that opted in.
func TestEveryEventReachesItsSubscribersSignedOnce(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		s := stack.Start(t, store, stack.Options{Policy: workflows.Policy{GracePeriod: time.Second}, WebhookSecrets: []string{webhookSecret}})
		crm, keys, releases := testsupport.StartWebhookReceiver(t), testsupport.StartWebhookReceiver(t), testsupport.StartWebhookReceiver(t)
		all := register(t, s, crm, false, models.AllWebhookEvents)
		issued := register(t, s, keys, true, models.EventLicenseIssued)
		onlyReleases := register(t, s, releases, false, models.EventReleasePublished)

		// The CRM's order flow issues the license.
		require.Equal(t, http.StatusCreated, s.Call(http.MethodPost, "/api/v1/orders", `{"id":"crm-wh-1","customer_email":"crm@example.com","tier":"pos"}`).Status)
		var paid api.OrderPaid
		s.Call(http.MethodPost, "/api/v1/orders/crm-wh-1/paid", `{"payment_ref":"bank-1"}`).JSON(t, &paid)
		v := s.WaitIssued(paid.License.ID)
		path := "/api/v1/licensing/licenses/" + v.ID
		call := func(method, path, body string) {
			t.Helper()
			r := s.Call(method, path, body)
			require.Equal(t, http.StatusOK, r.Status, "%s %s: %s", method, path, r.Body)
		}
		siteCall(t, s, "activate", siteapi.SiteRequest{DLID: v.DLID, Domain: "shop.example"})
		siteCall(t, s, "deactivate", siteapi.SiteRequest{DLID: v.DLID, Domain: "shop.example"})
		call(http.MethodPost, path+"/suspend", `{"reason":"chargeback"}`)
		call(http.MethodPost, path+"/reinstate", ``)
		call(http.MethodPatch, path, `{"tier":"suite"}`)
		call(http.MethodPost, path+"/renew", `{"months":1}`) // records a paid renewal order too
		require.NoError(t, s.Temporal.SignalWorkflow(ctx, v.WorkflowID, "", models.PaymentFailedRequest{}.MessageName(),
			models.PaymentFailedRequest{EventID: "evt_stripe_failed", AmountDue: "49.00 EUR"}))
		crm.WaitUntil("payment.failed", time.Minute, received(models.EventPaymentFailed, ""))
		// The key-sharing watch reports a day of the key used far beyond its slots.
		require.NoError(t, s.Temporal.SignalWorkflow(ctx, v.WorkflowID, "", models.SuspiciousUsageNotice{}.MessageName(),
			models.SuspiciousUsageNotice{Day: "2026-12-01", Addresses: 40, MaxDomains: 3, Actor: "watch:key-sharing"}))
		crm.WaitUntil("license.suspicious_usage", time.Minute, received(models.EventLicenseSuspiciousUsage, ""))
		// The customer asks to renew and no payment provider is configured:
		// a pending renewal order the CRM is told to collect.
		linked := s.Call(http.MethodPost, path+"/renewal-link", "")
		require.Equal(t, http.StatusCreated, linked.Status, string(linked.Body))
		var link payments.RenewalLink
		linked.JSON(t, &link)
		crm.WaitUntil("renewal.requested", time.Minute, received(models.EventRenewalRequested, ""))
		// Deadlines: move the expiry so each one falls due in a moment.
		for _, step := range []struct {
			before   time.Duration
			typ      models.WebhookEventType
			reminder string
		}{{30 * 24 * time.Hour, models.EventLicenseExpiring, "30d"}, {7 * 24 * time.Hour, models.EventLicenseExpiring, "7d"}, {0, models.EventLicenseGraceEnded, ""}} {
			call(http.MethodPatch, path, `{"expires_at":"`+time.Now().Add(step.before+2*time.Second).UTC().Format(time.RFC3339)+`"}`)
			crm.WaitUntil(string(step.typ)+" "+step.reminder, time.Minute, received(step.typ, step.reminder))
		}
		require.Equal(t, http.StatusCreated, publish(t, s, "pos", "7.0.0", "stable", []byte("zip")).Status)
		// A paid Stripe invoice that matches no license is held for review.
		held := answer(t, deliver(s, stripeEvent("evt_wh_unmatched", payments.InvoicePaid, subscriptionInvoice("in_wh_unmatched", "sub_nobody", time.Now().AddDate(1, 0, 0)))))
		require.Equal(t, models.PaymentEventNeedsReview, held.Outcome, held.Reason)
		crm.WaitUntil("payment.needs_review", time.Minute, received(models.EventPaymentNeedsReview, ""))
		call(http.MethodPost, path+"/revoke", `{"reason":"end of contract"}`)
		crm.WaitUntil("license.revoked", time.Minute, received(models.EventLicenseRevoked, ""))
		settled(t, s, all.ID, issued.ID, onlyReleases.ID)

		got := crm.Requests()
		checkSignedOnce(t, got)
		assert.Equal(t, []string{
			"order.created", "order.paid", "license.issued", "license.domain_activated", "license.domain_deactivated",
			"license.suspended", "license.reinstated", "license.tier_changed", "order.paid", "license.renewed", "payment.failed",
			"license.suspicious_usage", "order.created", "renewal.requested", "license.expiring:30d", "license.expiring:7d", "license.expired", "license.grace_ended", "license.revoked",
		}, ofLicense(got, v.ID), "each event once, in the order it happened")
		var types []models.WebhookEventType
		for _, r := range got {
			if !slices.Contains(types, r.Payload.Type) {
				types = append(types, r.Payload.Type)
			}
		}
		assert.ElementsMatch(t, models.WebhookEventTypes, types, "every event type reached the endpoint subscribed to all")
		for _, r := range got {
			if l := r.Payload.Data.License; l != nil {
				assert.Empty(t, l.DLID, "%s: the key stays masked", r.Payload.Type)
				if r.Payload.Type != models.EventOrderPaid { // paid before the key was minted
					assert.Equal(t, models.MaskDLID(v.DLID), l.DLIDMasked)
				}
				assert.NotContains(t, string(r.Body), v.DLID)
			}
			switch r.Payload.Type {
			case models.EventLicenseSuspended:
				assert.Equal(t, "chargeback", r.Payload.Data.Reason)
				assert.Equal(t, models.StatusSuspended, r.Payload.Data.License.Status)
			case models.EventLicenseTierChanged:
				assert.Equal(t, "pos", r.Payload.Data.PreviousTier)
				assert.Equal(t, "suite", r.Payload.Data.License.Tier)
			case models.EventLicenseDomainActivated:
				assert.Equal(t, "shop.example", r.Payload.Data.Domain)
			case models.EventOrderPaid:
				if o := r.Payload.Data.Order; o.Kind == models.OrderNew {
					assert.Equal(t, "crm-wh-1", o.ID)
					assert.Equal(t, "bank-1", o.PaymentRef)
				} else {
					assert.Equal(t, 1, o.Months, "the renewal's order")
				}
			case models.EventOrderCreated:
				if o := r.Payload.Data.Order; o.Kind == models.OrderNew {
					assert.Equal(t, "crm-wh-1", o.ID)
					assert.Equal(t, "crm@example.com", o.CustomerEmail)
				} else {
					assert.Equal(t, link.OrderID, o.ID, "the renewal link's order")
				}
			case models.EventRenewalRequested:
				o := r.Payload.Data.Order
				assert.Equal(t, link.OrderID, o.ID)
				assert.Equal(t, models.OrderRenewal, o.Kind)
				assert.Equal(t, v.ID, o.LicenseID)
				assert.Positive(t, o.AmountCents, "the amount the CRM collects")
				assert.Equal(t, models.StatusActive, r.Payload.Data.License.Status)
			case models.EventReleasePublished:
				assert.Equal(t, "7.0.0", r.Payload.Data.Release.Version)
			}
		}

		full := keys.Requests()
		require.Len(t, full, 1, "license.issued only")
		checkSignedOnce(t, full)
		assert.Equal(t, models.EventLicenseIssued, full[0].Payload.Type)
		assert.Equal(t, v.DLID, full[0].Payload.Data.License.DLID, "the endpoint that opted in gets the full key")

		rel := releases.Requests()
		require.Len(t, rel, 1, "an endpoint gets nothing it did not subscribe to")
		assert.Equal(t, models.EventReleasePublished, rel[0].Payload.Type)

		log := deliveryLog(t, s, all.ID, "")
		assert.Len(t, log, len(got))
		for _, d := range log {
			assert.Equal(t, models.DeliveryDelivered, d.Status)
			assert.Equal(t, 1, d.Attempts)
			assert.Equal(t, http.StatusOK, d.LastStatusCode)
		}
	})
}

// A receiver that is down for a while loses nothing: its deliveries are
// retried until it is back, and each license's events still arrive in the
// order they happened.
func TestAReceiverDownForAWhileLosesNothingAndKeepsEachLicensesOrder(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		s := stack.Start(t, store, stack.Options{})
		crm := testsupport.StartWebhookReceiver(t)
		endpoint := register(t, s, crm, false, models.AllWebhookEvents)
		crm.Down()

		const licenses = 3
		ids := make([]string, licenses)
		for i := range licenses {
			r := s.Call(http.MethodPost, "/api/v1/licensing/licenses", fmt.Sprintf(`{"user_email":"down-%d@example.com","tier":"pos"}`, i))
			require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
			var v api.LicenseView
			r.JSON(t, &v)
			ids[i] = v.ID
		}
		for _, id := range ids {
			s.WaitIssued(id)
		}
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Go(func() { // the licenses change at the same time, each in its own order
				for _, action := range []string{"suspend", "reinstate", "suspend", "reinstate"} {
					r := s.Call(http.MethodPost, "/api/v1/licensing/licenses/"+id+"/"+action, `{}`)
					assert.Equal(t, http.StatusOK, r.Status, string(r.Body))
				}
			})
		}
		wg.Wait()
		s.WaitFor("deliveries to be retried while the receiver is down", time.Minute, func() bool {
			for _, d := range deliveryLog(t, s, endpoint.ID, "&status=pending") {
				if d.Attempts >= 3 && d.LastError != "" && d.NextAttemptAt != nil {
					return true
				}
			}
			return false
		})
		assert.Empty(t, crm.Requests(), "nothing got through while it was down")

		crm.Up()
		want := licenses * 6
		crm.WaitAccepted(want, 2*time.Minute)
		settled(t, s, endpoint.ID)
		got := crm.Requests()
		require.Len(t, got, want, "every event, once")
		checkSignedOnce(t, got)
		for _, id := range ids {
			assert.Equal(t, []string{"order.paid", "license.issued", "license.suspended", "license.reinstated", "license.suspended", "license.reinstated"},
				ofLicense(got, id), "license %s's events in order", id)
		}
		retried := 0
		for _, d := range deliveryLog(t, s, endpoint.ID, "") {
			assert.Equal(t, models.DeliveryDelivered, d.Status)
			if d.Attempts > 1 {
				retried++
			}
		}
		assert.Positive(t, retried, "the log shows the attempts made while the receiver was down")
	})
}

// 5xx answers and timeouts are retried; a 4xx is recorded as the
// receiver's refusal at once; refused and delivered deliveries can be
// redelivered.
func TestRetriesRefusalsAndRedelivery(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{WebhookPolicy: workflows.WebhookPolicy{Timeout: time.Second}})
	crm := testsupport.StartWebhookReceiver(t)
	endpoint := register(t, s, crm, false, models.EventReleasePublished)
	var mu sync.Mutex
	seen := map[string]int{}
	refuse := true
	crm.Answer(func(p models.WebhookPayload) int {
		mu.Lock()
		defer mu.Unlock()
		v := p.Data.Release.Version
		seen[v]++
		switch {
		case v == "1.0.0" && seen[v] <= 2:
			return http.StatusInternalServerError
		case v == "2.0.0" && refuse:
			return http.StatusBadRequest
		case v == "3.0.0" && seen[v] == 1:
			return testsupport.Hang
		}
		return http.StatusOK
	})
	for _, v := range []string{"1.0.0", "2.0.0", "3.0.0"} {
		require.Equal(t, http.StatusCreated, publish(t, s, "pos", v, "stable", []byte(v)).Status)
	}
	settled(t, s, endpoint.ID)

	byVersion := map[string]api.WebhookDeliveryView{}
	for _, d := range deliveryLog(t, s, endpoint.ID, "") {
		detail := s.Call(http.MethodGet, "/api/v1/webhook-endpoints/"+endpoint.ID+"/deliveries/"+strconv.FormatUint(d.ID, 10), nil)
		var full api.WebhookDeliveryView
		detail.JSON(t, &full)
		require.NotNil(t, full.Event)
		byVersion[full.Event.Data.Release.Version] = full
	}
	assert.Equal(t, models.DeliveryDelivered, byVersion["1.0.0"].Status, "5xx is retried")
	assert.Equal(t, 3, byVersion["1.0.0"].Attempts)
	assert.Equal(t, models.DeliveryFailed, byVersion["2.0.0"].Status, "4xx is the receiver's answer")
	assert.Equal(t, 1, byVersion["2.0.0"].Attempts, "and is not retried")
	assert.Equal(t, http.StatusBadRequest, byVersion["2.0.0"].LastStatusCode)
	assert.Equal(t, "Bad Request", byVersion["2.0.0"].LastResponse)
	assert.Equal(t, models.DeliveryDelivered, byVersion["3.0.0"].Status, "a timeout is retried")
	assert.Equal(t, 2, byVersion["3.0.0"].Attempts)

	mu.Lock()
	refuse = false
	mu.Unlock()
	r := s.Call(http.MethodPost, fmt.Sprintf("/api/v1/webhook-endpoints/%s/deliveries/%d/redeliver", endpoint.ID, byVersion["2.0.0"].ID), nil)
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
	again := s.Call(http.MethodPost, fmt.Sprintf("/api/v1/webhook-endpoints/%s/deliveries/%d/redeliver", endpoint.ID, byVersion["1.0.0"].ID), nil)
	require.Equal(t, http.StatusAccepted, again.Status, "a delivered event can be sent again too")
	settled(t, s, endpoint.ID)
	redelivered := deliveryLog(t, s, endpoint.ID, "&event_id="+byVersion["2.0.0"].EventID)
	require.Len(t, redelivered, 1)
	assert.Equal(t, models.DeliveryDelivered, redelivered[0].Status)
	assert.Equal(t, 2, redelivered[0].Attempts)
	var twice int
	for _, got := range crm.Accepted() {
		if got.Payload.ID == byVersion["1.0.0"].EventID {
			twice++
		}
	}
	assert.Equal(t, 2, twice, "a redelivery carries the same event id, for the receiver to dedupe")

	scrape := s.CallAs("", http.MethodGet, "/metrics", nil)
	require.Equal(t, http.StatusOK, scrape.Status)
	for outcome, n := range map[string]int{"delivered": 4, "failed": 1, "retrying": 3} {
		assert.Contains(t, string(scrape.Body), fmt.Sprintf("licenseflow_webhooks_delivered_total{outcome=%q} %d\n", outcome, n),
			"every attempt is counted by its outcome")
	}
}

// A delivery that keeps failing is given up once the retry window has
// passed since its first attempt, and shows as failed in the log.
func TestADeliveryThatKeepsFailingIsGivenUp(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{WebhookPolicy: workflows.WebhookPolicy{RetryFor: time.Second}})
	crm := testsupport.StartWebhookReceiver(t)
	endpoint := register(t, s, crm, false, models.EventReleasePublished)
	crm.Answer(func(models.WebhookPayload) int { return http.StatusServiceUnavailable })
	require.Equal(t, http.StatusCreated, publish(t, s, "pos", "4.0.0", "stable", []byte("zip")).Status)
	settled(t, s, endpoint.ID)
	log := deliveryLog(t, s, endpoint.ID, "&status=failed")
	require.Len(t, log, 1)
	assert.Contains(t, log[0].LastError, "gave up after")
	assert.Equal(t, http.StatusServiceUnavailable, log[0].LastStatusCode)
	assert.GreaterOrEqual(t, log[0].Attempts, 2)
	assert.Len(t, crm.Requests(), log[0].Attempts, "every attempt reached the receiver")
	assert.Nil(t, log[0].NextAttemptAt)
	require.NotNil(t, log[0].LastAttemptAt)
	assert.False(t, log[0].LastAttemptAt.Before(log[0].FirstAttemptAt.Add(time.Second)), "retried for the whole window")
}

// overdueChecks runs the worker's check for overdue webhook deliveries every
// 50 ms. Each check's report goes to checks when the test waits for one
// (dropped otherwise, so the check never blocks on the test); wokenSoFar
// lists every endpoint any check woke.
func overdueChecks() (opts app.OverdueWebhooks, checks <-chan []string, wokenSoFar func() []string) {
	var (
		mu    sync.Mutex
		woken []string
	)
	reports := make(chan []string)
	opts = app.OverdueWebhooks{Every: 50 * time.Millisecond, After: 300 * time.Millisecond,
		Checked: func(ids []string, err error) {
			if err != nil {
				return
			}
			mu.Lock()
			woken = append(woken, ids...)
			mu.Unlock()
			select {
			case reports <- ids:
			default:
			}
		}}
	return opts, reports, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(woken)
	}
}

// nextChecks waits for the next n checks and returns what they woke.
func nextChecks(t *testing.T, checks <-chan []string, n int) []string {
	t.Helper()
	var woken []string
	for range n {
		select {
		case w := <-checks:
			woken = append(woken, w...)
		case <-time.After(30 * time.Second):
			require.FailNow(t, "the overdue check stopped running")
		}
	}
	return woken
}

// runsSince lists the workflow runs started since t, by workflow id, once
// visibility lists the run of marker (started last).
func runsSince(t *testing.T, s *stack.Stack, since time.Time, marker string) []string {
	t.Helper()
	var ids []string
	s.WaitFor("visibility to list "+marker, 20*time.Second, func() bool {
		resp, err := s.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("StartTime >= %q", since.UTC().Format(time.RFC3339Nano))})
		require.NoError(t, err)
		ids = nil
		for _, e := range resp.GetExecutions() {
			ids = append(ids, e.GetExecution().GetWorkflowId())
		}
		return slices.Contains(ids, marker)
	})
	return ids
}

// An idle licenseflow adds no workflow runs to the list operators search:
// the worker looks for overdue webhook deliveries with a query, and
// while none is overdue it wakes (and starts) nothing.
func TestAnIdleWorkerStartsNoWorkflowRuns(t *testing.T) {
	overdue, checks, wokenSoFar := overdueChecks()
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{OverdueWebhooks: overdue})
	crm := testsupport.StartWebhookReceiver(t)
	endpoint := register(t, s, crm, false, models.EventReleasePublished)
	require.Equal(t, http.StatusCreated, publish(t, s, "pos", "6.0.0", "stable", []byte("zip")).Status)
	crm.WaitAccepted(1, time.Minute)
	settled(t, s, endpoint.ID)
	since := time.Now()
	nextChecks(t, checks, 1) // a check under way when since was taken began before it
	before := len(wokenSoFar())
	nextChecks(t, checks, 10)
	assert.Len(t, wokenSoFar(), before, "nothing is overdue, so ten checks wake nothing")
	marker, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "idle-marker", TaskQueue: workflows.TaskQueue},
		workflows.ReleaseSilentDomainsWorkflow, workflows.SilentDomainsInput{Silence: time.Hour})
	require.NoError(t, err)
	require.NoError(t, marker.Get(ctx, nil))
	assert.Equal(t, []string{"idle-marker"}, runsSince(t, s, since, "idle-marker"),
		"ten checks later the only run started is the test's own")
}

// With every wake-up after a commit lost, the worker's overdue check still
// wakes the endpoint's dispatcher, and the delivery is only late.
func TestALostWakeUpOnlyWaitsForTheOverdueCheck(t *testing.T) {
	overdue, checks, wokenSoFar := overdueChecks()
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{WithoutWebhookWakeups: true, OverdueWebhooks: overdue})
	crm := testsupport.StartWebhookReceiver(t)
	endpoint := register(t, s, crm, false, models.EventReleasePublished)
	require.Equal(t, http.StatusCreated, publish(t, s, "pos", "5.0.0", "stable", []byte("zip")).Status)
	got := crm.WaitAccepted(1, time.Minute)
	assert.Equal(t, "5.0.0", got[0].Payload.Data.Release.Version)
	assert.Contains(t, wokenSoFar(), endpoint.ID, "the overdue check woke the dispatcher")
	settled(t, s, endpoint.ID)
	nextChecks(t, checks, 1)
	before := len(wokenSoFar())
	nextChecks(t, checks, 5)
	assert.Len(t, wokenSoFar(), before, "once delivered, nothing is overdue")
}

// Deployments that ran the once-a-minute sweep schedule lose it at start-up.
func TestTheRetiredWebhookSweepScheduleIsDeleted(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	_, err := s.Temporal.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: "licenseflow-webhook-sweep", Spec: client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: time.Minute}}}, Paused: true,
		Action: &client.ScheduleWorkflowAction{ID: "webhook-sweep", Workflow: "WebhookSweepWorkflow", TaskQueue: workflows.TaskQueue},
	})
	require.NoError(t, err)
	require.NoError(t, worker.DeleteRetiredSchedules(ctx, s.Temporal))
	_, err = s.Temporal.ScheduleClient().GetHandle(ctx, "licenseflow-webhook-sweep").Describe(ctx)
	var notFound *serviceerror.NotFound
	assert.ErrorAs(t, err, &notFound)
	require.NoError(t, worker.DeleteRetiredSchedules(ctx, s.Temporal), "nothing to delete is no error")
}
