// Package integration runs licenseflow end to end: the API, a worker with
// the real activities, an in-process Temporal server, and real SQLite and
// PostgreSQL databases.
package integration

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
)

var ctx = context.Background()

// crmOrder is exactly what the CRM sends when an order completes.
const crmOrder = `{"user_email":"customer@example.com","tier":"pos","max_domains":5,"expires_months":12}`

func TestPurchaseThroughTheAPIIssuesTheLicenseWithinSeconds(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		s := stack.Start(t, store, stack.Options{})
		start := time.Now()
		r := s.Call(http.MethodPost, "/api/v1/licensing/licenses", crmOrder)
		require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
		var created api.LicenseView
		r.JSON(t, &created)
		assert.Equal(t, models.StatusPending, created.Status)
		assert.Equal(t, models.LicenseWorkflowID(created.ID), created.WorkflowID)
		assert.Equal(t, "/api/v1/licensing/licenses/"+created.ID, r.Header.Get("Location"))

		v := s.WaitIssued(created.ID)
		t.Logf("purchase to issued: %s", time.Since(start))
		assert.Less(t, time.Since(start), 10*time.Second)
		assert.True(t, models.ValidDLID(v.DLID), v.DLID)
		assert.Equal(t, models.StatusActive, v.Status)
		assert.Equal(t, 5, v.MaxDomains)
		require.NotNil(t, v.ExpiresAt)
		assert.Equal(t, models.AddMonths(*v.StartsAt, 12), *v.ExpiresAt)
		assert.ElementsMatch(t, []api.EntitlementView{
			{Product: "base", Repo: "MokoSuite", Source: models.SourceTier},
			{Product: "pos", Repo: "MokoSuitePOS", Source: models.SourceTier},
		}, v.Entitlements)

		delivery, err := store.ListEmails(ctx, models.EmailFilter{LicenseID: v.ID, Template: "delivery"})
		require.NoError(t, err)
		require.Len(t, delivery, 1, "exactly one delivery email")
		assert.Contains(t, delivery[0].TextBody, v.DLID)
		assert.Contains(t, delivery[0].HTMLBody, v.DLID)
		assert.Equal(t, "customer@example.com", delivery[0].To)
		invoices, err := store.ListInvoices(ctx, v.ID)
		require.NoError(t, err)
		require.Len(t, invoices, 1, "exactly one invoice")
		assert.Equal(t, int64(14900), invoices[0].TotalCents)
		pdf := s.Call(http.MethodGet, "/api/v1/invoices/"+invoices[0].Number+"/pdf", nil)
		assert.Equal(t, http.StatusOK, pdf.Status)
		assert.True(t, strings.HasPrefix(string(pdf.Body), "%PDF-"), "a real PDF")

		outbox := s.Call(http.MethodGet, "/api/v1/licensing/licenses/"+v.ID+"/emails", nil)
		require.Equal(t, http.StatusOK, outbox.Status)
		var msgs httpx.Page[models.EmailMessage]
		outbox.JSON(t, &msgs)
		assert.Len(t, msgs.Data, 2, "delivery and invoice emails")
	})
}

func TestPatchRenewsOnTheSameDLID(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		s := stack.Start(t, store, stack.Options{})
		var created api.LicenseView
		s.Call(http.MethodPost, "/api/v1/licensing/licenses", crmOrder).JSON(t, &created)
		before := s.WaitIssued(created.ID)

		r := s.Call(http.MethodPatch, "/api/v1/licensing/licenses/"+created.ID, `{"expires_months":12,"order_id":"crm-renewal-1"}`)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		var after api.LicenseView
		r.JSON(t, &after)
		assert.Equal(t, before.DLID, after.DLID, "same DLID")
		assert.Equal(t, models.AddMonths(*before.ExpiresAt, 12), *after.ExpiresAt, "extended from the current expiry")
		assert.Equal(t, 1, after.Workflow.Renewals)

		// The same renewal order again changes nothing.
		again := s.Call(http.MethodPatch, "/api/v1/licensing/licenses/"+created.ID, `{"expires_months":12,"order_id":"crm-renewal-1"}`)
		require.Equal(t, http.StatusOK, again.Status, string(again.Body))
		var same api.LicenseView
		again.JSON(t, &same)
		assert.Equal(t, *after.ExpiresAt, *same.ExpiresAt)

		s.WaitFor("renewal emails", 10*time.Second, func() bool {
			renewed, _ := store.ListEmails(ctx, models.EmailFilter{LicenseID: created.ID, Template: "renewed"})
			invoices, _ := store.ListEmails(ctx, models.EmailFilter{LicenseID: created.ID, Template: "invoice"})
			return len(renewed) == 1 && len(invoices) == 2
		})
		invoices, err := store.ListInvoices(ctx, created.ID)
		require.NoError(t, err)
		assert.Len(t, invoices, 2, "purchase and renewal invoices")
		order := s.Call(http.MethodGet, "/api/v1/orders/crm-renewal-1", nil)
		require.Equal(t, http.StatusOK, order.Status)
		var o models.Order
		order.JSON(t, &o)
		assert.Equal(t, models.OrderRenewal, o.Kind)
		assert.Equal(t, created.ID, o.LicenseID)
	})
}

func TestConcurrentIdenticalRequestsCreateOneLicense(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		s := stack.Start(t, store, stack.Options{})
		const n = 10
		run := func(body string, headers ...string) []string {
			ids := make([]string, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					r := s.Call(http.MethodPost, "/api/v1/licensing/licenses", body, headers...)
					if r.Status != http.StatusAccepted && r.Status != http.StatusOK {
						t.Errorf("status %d: %s", r.Status, r.Body)
						return
					}
					var v api.LicenseView
					r.JSON(t, &v)
					ids[i] = v.ID
				})
			}
			wg.Wait()
			return ids
		}
		byOrder := run(`{"user_email":"a@example.com","tier":"pos","order_id":"crm-42"}`)
		byKey := run(`{"user_email":"b@example.com","tier":"crm"}`, "Idempotency-Key", "checkout-7")
		for _, ids := range [][]string{byOrder, byKey} {
			for _, id := range ids {
				assert.Equal(t, ids[0], id, "every caller gets the same license")
			}
			s.WaitIssued(ids[0])
			delivered, err := store.ListEmails(ctx, models.EmailFilter{LicenseID: ids[0], Template: "delivery"})
			require.NoError(t, err)
			assert.Len(t, delivered, 1)
		}
		var licenses int64
		require.NoError(t, store.DB().Model(&models.License{}).Count(&licenses).Error)
		assert.Equal(t, int64(2), licenses)
	})
}

func TestIllegalTransitionsAnswer409AndLeaveNoTrace(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	var created api.LicenseView
	s.Call(http.MethodPost, "/api/v1/licensing/licenses", crmOrder).JSON(t, &created)
	s.WaitIssued(created.ID)
	path := "/api/v1/licensing/licenses/" + created.ID

	r := s.Call(http.MethodPost, path+"/reinstate", nil)
	assert.Equal(t, http.StatusConflict, r.Status)
	assert.Equal(t, "not_suspended", r.Error(t).Code)

	r = s.Call(http.MethodPatch, path, `{"max_domains":0}`)
	assert.Equal(t, http.StatusUnprocessableEntity, r.Status)
	assert.Equal(t, httpx.Error{Code: "invalid_max_domains", Field: "max_domains",
		Message: "max_domains must be between 1 and 10000"}, r.Error(t))

	r = s.Call(http.MethodPost, path+"/suspend", `{"reason":"chargeback"}`)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var v api.LicenseView
	r.JSON(t, &v)
	assert.Equal(t, models.StatusSuspended, v.Status, "the answer carries the new state")

	r = s.Call(http.MethodPost, path+"/revoke", `{"reason":"fraud"}`)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r = s.Call(http.MethodPost, path+"/reinstate", nil)
	assert.Equal(t, http.StatusConflict, r.Status)
	assert.Equal(t, "license_revoked", r.Error(t).Code)
	r = s.Call(http.MethodPost, path+"/renew", nil)
	assert.Equal(t, http.StatusConflict, r.Status)
	var orders int64
	require.NoError(t, s.Store.DB().Model(&models.Order{}).Count(&orders).Error)
	assert.Equal(t, int64(1), orders, "a refused renewal records no order")

	// Only the two accepted updates are in the history; rejected ones never entered it.
	accepted := 0
	it := s.Temporal.GetWorkflowHistory(ctx, created.WorkflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		if e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED {
			accepted++
		}
	}
	assert.Equal(t, 2, accepted)
}

func TestBadInputGetsAClearErrorAndWritesNothing(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		s := stack.Start(t, store, stack.Options{})
		cases := []struct {
			body   string
			status int
			code   string
			field  string
		}{
			{``, 400, "missing_body", ""},
			{`{"user_email":`, 400, "invalid_json", ""},
			{`[1,2]`, 400, "invalid_type", ""},
			{`{"user_email":"customer@example.com","tier":"pos"} {}`, 400, "invalid_json", ""},
			{`{"user_email":"customer@example.com","tier":"pos","max_domains":"five"}`, 400, "invalid_type", "max_domains"},
			{`{"user_email":"customer@example.com","tier":"pos","expire_months":12}`, 400, "unknown_field", "expire_months"},
			{`{"tier":"pos"}`, 422, "missing_email", "user_email"},
			{`{"user_email":"not-an-email","tier":"pos"}`, 422, "invalid_email", "user_email"},
			{`{"user_email":"customer@example.com"}`, 422, "missing_tier", "tier"},
			{`{"user_email":"customer@example.com","tier":"gold"}`, 422, "tier_not_found", "tier"},
			{`{"user_email":"customer@example.com","tier":"pos","max_domains":0}`, 422, "invalid_max_domains", "max_domains"},
			{`{"user_email":"customer@example.com","tier":"pos","expires_months":0}`, 422, "invalid_expires_months", "expires_months"},
			{`{"user_email":"customer@example.com","tier":"pos","expires_months":1000}`, 422, "invalid_expires_months", "expires_months"},
			{`{"user_email":"customer@example.com","tier":"suite-lifetime","expires_months":12}`, 422, "lifetime_tier", "expires_months"},
			{`{"user_email":"customer@example.com","tier":"pos","order_id":"has spaces"}`, 422, "invalid_order_id", "order_id"},
			{`{"user_email":"customer@example.com","tier":"pos","type":"free"}`, 422, "invalid_type", "type"},
		}
		for _, c := range cases {
			r := s.Call(http.MethodPost, "/api/v1/licensing/licenses", c.body)
			assert.Equal(t, c.status, r.Status, "%s -> %s", c.body, r.Body)
			e := r.Error(t)
			assert.Equal(t, c.code, e.Code, c.body)
			assert.Equal(t, c.field, e.Field, c.body)
			assert.NotEmpty(t, e.Message)
		}
		for _, table := range []any{&models.License{}, &models.Order{}, &models.Customer{}} {
			var n int64
			require.NoError(t, store.DB().Model(table).Count(&n).Error)
			assert.Zero(t, n, "nothing written for %T", table)
		}
		r := s.Call(http.MethodGet, "/api/v1/licensing/licenses?status=sleeping", nil)
		assert.Equal(t, "invalid_status", r.Error(t).Code)
		r = s.Call(http.MethodGet, "/api/v1/licensing/licenses?expiring_within=soon", nil)
		assert.Equal(t, "expiring_within", r.Error(t).Field)
		r = s.Call(http.MethodGet, "/api/v1/licensing/licenses/lic_missing", nil)
		assert.Equal(t, http.StatusNotFound, r.Status)
		r = s.Call(http.MethodDelete, "/api/v1/licensing/licenses", nil)
		assert.Equal(t, http.StatusMethodNotAllowed, r.Status)
	})
}

func TestTokensAndScopes(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	r := s.CallAs("", http.MethodGet, "/api/v1/licensing/licenses", nil)
	assert.Equal(t, http.StatusUnauthorized, r.Status)
	assert.Equal(t, "missing_token", r.Error(t).Code)
	r = s.CallAs("lft_wrong", http.MethodGet, "/api/v1/licensing/licenses", nil)
	assert.Equal(t, "invalid_token", r.Error(t).Code)

	r = s.Call(http.MethodPost, "/api/v1/tokens", `{"name":"reporting","scopes":["licenses:read"]}`)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var tok api.TokenCreated
	r.JSON(t, &tok)
	assert.Equal(t, http.StatusOK, s.CallAs(tok.Token, http.MethodGet, "/api/v1/licensing/licenses", nil).Status)
	r = s.CallAs(tok.Token, http.MethodPost, "/api/v1/licensing/licenses", crmOrder)
	assert.Equal(t, http.StatusForbidden, r.Status)
	assert.Contains(t, r.Error(t).Message, "licenses:write")
	r = s.Call(http.MethodPost, "/api/v1/tokens", `{"name":"x","scopes":["everything"]}`)
	assert.Equal(t, "invalid_scope", r.Error(t).Code)
}

func TestIdempotencyKeyReplaysTheFirstAnswer(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	first := s.Call(http.MethodPost, "/api/v1/licensing/licenses", crmOrder, "Idempotency-Key", "k-1")
	require.Equal(t, http.StatusAccepted, first.Status)
	replay := s.Call(http.MethodPost, "/api/v1/licensing/licenses", crmOrder, "Idempotency-Key", "k-1")
	assert.Equal(t, http.StatusAccepted, replay.Status)
	assert.Equal(t, "true", replay.Header.Get("Idempotent-Replayed"))
	assert.JSONEq(t, string(first.Body), string(replay.Body))
	other := s.Call(http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"other@example.com","tier":"pos"}`, "Idempotency-Key", "k-1")
	assert.Equal(t, http.StatusUnprocessableEntity, other.Status)
	assert.Equal(t, "idempotency_key_reused", other.Error(t).Code)
}

func TestSearchAttributesLetOperatorsFindLicenses(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	var created api.LicenseView
	s.Call(http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"finder@example.com","tier":"restaurant"}`).JSON(t, &created)
	s.WaitIssued(created.ID)
	query := `LicenseTier = "restaurant" AND CustomerEmail = "finder@example.com" AND LicenseStatus = "active"`
	s.WaitFor("the workflow to be visible by its search attributes", 10*time.Second, func() bool {
		resp, err := s.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		require.NoError(t, err)
		return len(resp.Executions) == 1 && resp.Executions[0].Execution.WorkflowId == created.WorkflowID
	})
}

func TestTemporalOutageAnswers503AndReadsStillWork(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{UpdateTimeout: 3 * time.Second})
	var created api.LicenseView
	s.Call(http.MethodPost, "/api/v1/licensing/licenses", crmOrder).JSON(t, &created)
	s.WaitIssued(created.ID)
	s.Worker.Stop()
	s.Server.Stop()

	r := s.Call(http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"late@example.com","tier":"pos","order_id":"crm-9"}`)
	assert.Equal(t, http.StatusServiceUnavailable, r.Status, string(r.Body))
	assert.Equal(t, "temporal_unavailable", r.Error(t).Code)
	assert.Contains(t, r.Error(t).Message, "retry the same request")

	r = s.Call(http.MethodPost, "/api/v1/licensing/licenses/"+created.ID+"/suspend", nil)
	assert.Equal(t, http.StatusServiceUnavailable, r.Status, string(r.Body))
	ready := s.Call(http.MethodGet, "/readyz", nil)
	assert.Equal(t, http.StatusServiceUnavailable, ready.Status)

	v := s.License(created.ID)
	assert.Equal(t, models.StatusActive, v.Status, "the stored license is still served")
	assert.False(t, v.Workflow.Reachable)
}

func TestListLicensesFromTheDatabase(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	for i := range 3 {
		r := s.Call(http.MethodPost, "/api/v1/licensing/licenses", fmt.Sprintf(`{"user_email":"list@example.com","tier":"pos","order_id":"list-%d"}`, i))
		require.Equal(t, http.StatusAccepted, r.Status)
	}
	var page httpx.Page[api.LicenseView]
	s.Call(http.MethodGet, "/api/v1/licensing/licenses?email=list@example.com&limit=2", nil).JSON(t, &page)
	assert.Len(t, page.Data, 2)
	require.NotEmpty(t, page.NextCursor)
	var rest httpx.Page[api.LicenseView]
	s.Call(http.MethodGet, "/api/v1/licensing/licenses?email=list@example.com&limit=2&cursor="+page.NextCursor, nil).JSON(t, &rest)
	assert.Len(t, rest.Data, 1)
	assert.Empty(t, rest.NextCursor)
}
