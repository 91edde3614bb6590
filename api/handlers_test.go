package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/lifecycle"
	"github.com/licenseflow/licenseflow/lifecycle/lifecyclefake"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/webhooks"
)

// These tests run the JSON API's handlers on a real SQLite store with the
// workflows faked: what the API asks of a license's workflow, and how it
// answers what the workflow says, without a Temporal server.

const (
	adminToken = "lft_handler-test-admin-token"
	readToken  = "lft_handler-test-read-token"
)

type apiTest struct {
	t      *testing.T
	store  *store.Store
	flows  *lifecyclefake.Fake
	router *gin.Engine
	// releasesDir holds uploaded artifacts.
	releasesDir string
}

func newAPITest(t *testing.T) *apiTest {
	t.Helper()
	gin.SetMode(gin.TestMode)
	st := testsupport.SQLite(t)
	ctx := context.Background()
	_, err := st.EnsureToken(ctx, "admin", adminToken, models.StringList{string(models.ScopeAdmin)})
	require.NoError(t, err)
	_, err = st.EnsureToken(ctx, "reader", readToken, models.StringList{string(models.ScopeLicensesRead)})
	require.NoError(t, err)
	flows := &lifecyclefake.Fake{}
	r := httpx.NewRouter(httpx.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Database: st})
	dir := t.TempDir()
	api.Mount(r, api.Deps{Store: st, Lifecycle: flows, Renewals: &payments.Renewals{Store: st}, ReleasesDir: dir,
		WebhookSecrets:   webhooks.NewSecretBox(testsupport.SecretKeys(t)),
		RenderCreditNote: func(models.CreditNote, models.Invoice) ([]byte, error) { return []byte("%PDF-1.4 credit"), nil }})
	return &apiTest{t: t, store: st, flows: flows, router: r, releasesDir: dir}
}

// call sends body (JSON text) with token ("" for none).
func (a *apiTest) call(token, method, path, body string) *httptest.ResponseRecorder {
	a.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	a.router.ServeHTTP(w, req)
	return w
}

func errorOf(t *testing.T, w *httptest.ResponseRecorder) httpx.Error {
	t.Helper()
	var body struct {
		Error httpx.Error `json:"error"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body), w.Body.String())
	return body.Error
}

// purchased records a paid order with its pending license, as the API does
// before it starts the workflow.
func (a *apiTest) purchased(orderID string) models.License {
	a.t.Helper()
	ctx := context.Background()
	tier, err := a.store.GetTier(ctx, "pos")
	require.NoError(a.t, err)
	_, l, _, err := a.store.RecordPurchase(ctx, models.Purchase{OrderID: orderID, Email: "buyer@example.com", Tier: tier,
		MaxDomains: 2, Months: 12, Type: models.TypeCommercial, PaidAt: time.Now()})
	require.NoError(a.t, err)
	return l
}

func TestCreatingALicenseStartsItsWorkflowWithThePurchase(t *testing.T) {
	a := newAPITest(t)
	w := a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses",
		`{"user_email":"Ada@Example.com","tier":"pos","max_domains":3,"expires_months":24,"order_id":"crm-7","customer_name":"Ada"}`)
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())

	var v api.LicenseView
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v))
	assert.Equal(t, models.LicenseIDForOrder("crm-7"), v.ID)
	assert.Equal(t, models.StatusPending, v.Status)
	assert.Equal(t, models.LicenseWorkflowID(v.ID), v.WorkflowID)
	assert.Equal(t, "/api/v1/licensing/licenses/"+v.ID, w.Header().Get("Location"))

	starts := a.flows.Starts()
	require.Len(t, starts, 1)
	s := starts[0]
	assert.Equal(t, v.ID, s.License.ID)
	assert.Equal(t, "ada@example.com", s.License.Customer.Email)
	assert.Equal(t, "crm-7", s.Order.ID)
	assert.Equal(t, "pos", s.Tier.Key)
	assert.Equal(t, "token:admin", s.Actor, "the purchase names who bought it")
	assert.Equal(t, 3, s.Order.MaxDomains)
	assert.Equal(t, 24, s.Order.Months)
	assert.Equal(t, "Ada", s.CustomerName)
}

func TestMalformedJSONIsRefusedBeforeAnythingIsRecorded(t *testing.T) {
	a := newAPITest(t)
	w := a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"ada@example.com",`)
	assert.Equal(t, http.StatusBadRequest, w.Code)
	assert.Equal(t, "invalid_json", errorOf(t, w).Code)
	assert.Empty(t, a.flows.Starts())
}

func TestAnUnknownFieldIsNamedNotIgnored(t *testing.T) {
	a := newAPITest(t)
	w := a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses",
		`{"user_email":"ada@example.com","tier":"pos","expire_months":12}`)
	assert.Equal(t, http.StatusBadRequest, w.Code)
	e := errorOf(t, w)
	assert.Equal(t, "unknown_field", e.Code)
	assert.Equal(t, "expire_months", e.Field)
	assert.Empty(t, a.flows.Starts())
}

func TestAnUnknownTierIsA422OnTheTierField(t *testing.T) {
	a := newAPITest(t)
	w := a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"ada@example.com","tier":"gold"}`)
	assert.Equal(t, http.StatusUnprocessableEntity, w.Code)
	e := errorOf(t, w)
	assert.Equal(t, "tier_not_found", e.Code)
	assert.Equal(t, "tier", e.Field)
	assert.Contains(t, e.Message, "pos", "the message names the tiers that exist")
}

func TestCallsWithoutATokenOrScopeAreRefused(t *testing.T) {
	a := newAPITest(t)
	w := a.call("", http.MethodGet, "/api/v1/licensing/licenses", "")
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, "missing_token", errorOf(t, w).Code)
	assert.NotEmpty(t, w.Header().Get("WWW-Authenticate"))

	w = a.call(readToken, http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"ada@example.com","tier":"pos"}`)
	assert.Equal(t, http.StatusForbidden, w.Code)
	assert.Equal(t, "insufficient_scope", errorOf(t, w).Code)
	assert.Empty(t, a.flows.Starts())
}

func TestAChangeTheWorkflowRejectsIsA409(t *testing.T) {
	a := newAPITest(t)
	l := a.purchased("crm-8")
	a.flows.UpdateErr = &models.Problem{Kind: models.ErrConflict, Code: "not_suspended", Field: "status", Message: "the license is active, not suspended; only a suspended license can be reinstated"}

	w := a.call(adminToken, http.MethodPatch, "/api/v1/licensing/licenses/"+l.ID, `{"status":"active","reason":"by hand"}`)
	assert.Equal(t, http.StatusConflict, w.Code, w.Body.String())
	e := errorOf(t, w)
	assert.Equal(t, "not_suspended", e.Code)
	assert.Equal(t, "status", e.Field)

	updates := a.flows.Updates()
	require.Len(t, updates, 1)
	assert.Equal(t, models.PatchRequest{}.MessageName(), updates[0].Name)
	assert.Equal(t, &models.PatchRequest{Status: models.StatusActive, Reason: "by hand", Actor: "token:admin"}, updates[0].Msg,
		"the ledger names the API token")
}

func TestAnAcceptedChangeAnswersTheWorkflowsState(t *testing.T) {
	a := newAPITest(t)
	l := a.purchased("crm-9")
	a.flows.State = lifecycle.Live{Status: models.StatusSuspended, Revision: 4, Run: 2, SuspendReason: "chargeback"}

	w := a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses/"+l.ID+"/suspend", `{"reason":"chargeback"}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var v api.LicenseView
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v))
	require.NotNil(t, v.Workflow)
	assert.Equal(t, api.WorkflowView{Reachable: true, Status: models.StatusSuspended, Revision: 4, Run: 2, SuspendReason: "chargeback"}, *v.Workflow)
	assert.Equal(t, &models.SuspendRequest{Reason: "chargeback", Actor: "token:admin"}, a.flows.Updates()[0].Msg)
}

func TestATemporalOutageKeepsTheOrderAndAsksForARetry(t *testing.T) {
	a := newAPITest(t)
	a.flows.StartErr = lifecyclefake.Outage("connection refused")
	w := a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"ada@example.com","tier":"pos","order_id":"crm-10"}`)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	e := errorOf(t, w)
	assert.Equal(t, "temporal_unavailable", e.Code)
	assert.Contains(t, e.Message, "crm-10")

	// The retry finds the recorded order and starts the same license.
	a.flows.StartErr = nil
	w = a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"ada@example.com","tier":"pos","order_id":"crm-10"}`)
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
	starts := a.flows.Starts()
	require.Len(t, starts, 2)
	assert.Equal(t, starts[0].License.ID, starts[1].License.ID)
}

// GET /orders: the CRM's list, filtered and paged; bad filters are refused
// with the parameter named.
func TestListOrdersFiltersAndRefusesBadFilters(t *testing.T) {
	a := newAPITest(t)
	l := a.purchased("crm-list-1")
	a.purchased("crm-list-2")
	var page struct {
		Data       []api.OrderView `json:"data"`
		NextCursor string          `json:"next_cursor"`
	}
	w := a.call(adminToken, http.MethodGet, "/api/v1/orders?limit=1", "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &page))
	require.Len(t, page.Data, 1)
	assert.Equal(t, "crm-list-2", page.Data[0].ID, "newest first")
	require.NotEmpty(t, page.NextCursor)
	w = a.call(adminToken, http.MethodGet, "/api/v1/orders?limit=1&cursor="+page.NextCursor, "")
	page.NextCursor = ""
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &page))
	require.Len(t, page.Data, 1)
	assert.Equal(t, "crm-list-1", page.Data[0].ID)
	assert.Empty(t, page.NextCursor, "the last page")

	w = a.call(adminToken, http.MethodGet, "/api/v1/orders?status=paid&license_id="+l.ID+"&created_from=2020-01-01T00:00:00Z", "")
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &page))
	require.Len(t, page.Data, 1)
	assert.Equal(t, "crm-list-1", page.Data[0].ID)

	for query, field := range map[string]string{
		"status=shipped": "status", "created_from=yesterday": "created_from", "created_before=2026-13-01T00:00:00Z": "created_before",
		"limit=0": "limit", "limit=201": "limit", "cursor=garbage": "cursor",
	} {
		w := a.call(adminToken, http.MethodGet, "/api/v1/orders?"+query, "")
		require.Equal(t, http.StatusUnprocessableEntity, w.Code, query)
		e := errorOf(t, w)
		assert.Equal(t, field, e.Field, query)
		assert.NotEmpty(t, e.Code, query)
	}
	assert.Equal(t, http.StatusUnauthorized, a.call("", http.MethodGet, "/api/v1/orders", "").Code)
}

// A term bought as a date: the order carries it and is priced for the
// months it starts; a date in the past, too far ahead, on a lifetime tier
// or beside expires_months is refused and records nothing.
func TestPurchaseWithAnExpiryDate(t *testing.T) {
	a := newAPITest(t)
	at := time.Now().UTC().Add(100 * 24 * time.Hour).Truncate(time.Second)
	w := a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses",
		`{"user_email":"dated@example.com","tier":"pos","order_id":"dated-1","expires_at":"`+at.Format(time.RFC3339)+`"}`)
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	starts := a.flows.Starts()
	require.Len(t, starts, 1)
	o := starts[0].Order
	require.NotNil(t, o.ExpiresAt)
	assert.Equal(t, at, o.ExpiresAt.UTC())
	assert.Equal(t, 4, o.Months, "100 days start a fourth month")
	tier, err := a.store.GetTier(context.Background(), "pos")
	require.NoError(t, err)
	assert.Equal(t, tier.PriceFor(4), o.AmountCents)
	stored, err := a.store.GetOrder(context.Background(), "dated-1")
	require.NoError(t, err)
	require.NotNil(t, stored.ExpiresAt)
	assert.Equal(t, at, stored.ExpiresAt.UTC(), "kept on the order, so a restarted workflow buys the same date")

	for body, code := range map[string]string{
		`"expires_at":"` + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339) + `"`:   "expires_at_in_past",
		`"expires_at":"` + time.Now().AddDate(10, 1, 0).UTC().Format(time.RFC3339) + `"`: "expires_at_too_far",
		`"expires_at":"next year"`: "invalid_expires_at",
		`"expires_months":3,"expires_at":"` + at.Format(time.RFC3339) + `"`:      "ambiguous_term",
		`"tier":"suite-lifetime","expires_at":"` + at.Format(time.RFC3339) + `"`: "lifetime_tier",
	} {
		req := `{"user_email":"refused@example.com","tier":"pos","order_id":"refused-1",` + body + `}`
		if strings.Contains(body, `"tier"`) {
			req = `{"user_email":"refused@example.com","order_id":"refused-1",` + body + `}`
		}
		w := a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses", req)
		require.Equal(t, http.StatusUnprocessableEntity, w.Code, body)
		e := errorOf(t, w)
		assert.Equal(t, code, e.Code, body)
		assert.Equal(t, "expires_at", e.Field, body)
	}
	_, err = a.store.GetOrder(context.Background(), "refused-1")
	assert.ErrorIs(t, err, models.ErrNotFound, "nothing recorded")
	assert.Len(t, a.flows.Starts(), 1, "nothing started")
}

// TestAnswersAreNeverCached: API answers carry full keys, webhook secrets
// shown once and invoice PDFs; no browser or proxy may keep them.
func TestAnswersAreNeverCached(t *testing.T) {
	a := newAPITest(t)
	for _, path := range []string{"/api/v1/licensing/licenses", "/api/v1/webhook-endpoints", "/api/v1/invoices/INV-2026-000001/pdf"} {
		w := a.call(adminToken, http.MethodGet, path, "")
		assert.Equal(t, "no-store", w.Header().Get("Cache-Control"), "%s answered %d", path, w.Code)
	}
	w := a.call(adminToken, http.MethodPost, "/api/v1/webhook-endpoints", `{"url":"https://crm.example.com/hooks"}`)
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"), "the answer showing the secret once: %d %s", w.Code, w.Body)
}

// A license's name (seed 003): given at purchase it is on the license and
// its workflow's input; a PATCH carries it, trimmed, to the workflow; a name
// that cannot be kept is refused before anything is recorded or sent.
func TestLicenseNameAtPurchaseAndByPatch(t *testing.T) {
	a := newAPITest(t)
	w := a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses",
		`{"user_email":"named@example.com","tier":"pos","order_id":"named-1","name":"  Main shop  "}`)
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	var v api.LicenseView
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v))
	assert.Equal(t, "Main shop", v.Name)
	require.Len(t, a.flows.Starts(), 1)
	assert.Equal(t, "Main shop", a.flows.Starts()[0].License.Name, "the workflow is started with the name")

	w = a.call(adminToken, http.MethodPatch, "/api/v1/licensing/licenses/"+v.ID, `{"name":" Second shop "}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Len(t, a.flows.Updates(), 1)
	patch := a.flows.Updates()[0].Msg.(*models.PatchRequest)
	require.NotNil(t, patch.Name)
	assert.Equal(t, "Second shop", *patch.Name)

	long := strings.Repeat("n", models.MaxNameLength+1)
	for _, c := range []struct{ method, path, body, code string }{
		{http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"named@example.com","tier":"pos","order_id":"named-2","name":"` + long + `"}`, "too_long"},
		{http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"named@example.com","tier":"pos","order_id":"named-2","name":"a\nb"}`, "invalid_text"},
		{http.MethodPatch, "/api/v1/licensing/licenses/" + v.ID, `{"name":"` + long + `"}`, "too_long"},
	} {
		w := a.call(adminToken, c.method, c.path, c.body)
		require.Equal(t, http.StatusUnprocessableEntity, w.Code, c.body)
		e := errorOf(t, w)
		assert.Equal(t, c.code, e.Code)
		assert.Equal(t, "name", e.Field)
	}
	_, err := a.store.GetOrder(context.Background(), "named-2")
	assert.ErrorIs(t, err, models.ErrNotFound, "nothing recorded")
	assert.Len(t, a.flows.Starts(), 1, "nothing started")
	assert.Len(t, a.flows.Updates(), 1, "nothing sent")
}

// Domains at purchase and by PATCH (seed 001), normalized and limited as
// activation is; a PATCH of domains stands alone so it is all or nothing.
func TestDomainsAtPurchaseAndByPatch(t *testing.T) {
	a := newAPITest(t)
	ctx := context.Background()
	w := a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses",
		`{"user_email":"sites@example.com","tier":"pos","order_id":"sites-1","max_domains":2,"domains":["https://WWW.Shop.Example/","shop.example"]}`)
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	var v api.LicenseView
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v))
	active := func() []string {
		t.Helper()
		acts, err := a.store.ListActivations(ctx, v.ID)
		require.NoError(t, err)
		var out []string
		for _, act := range acts {
			if act.Status == models.ActivationActive {
				out = append(out, act.Domain)
			}
		}
		return out
	}
	assert.Equal(t, []string{"shop.example"}, active(), "normalized as activation does, once")

	w = a.call(adminToken, http.MethodPatch, "/api/v1/licensing/licenses/"+v.ID, `{"domains":["second.example","shop.example"]}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.ElementsMatch(t, []string{"second.example", "shop.example"}, active())
	assert.Empty(t, a.flows.Updates(), "domains are not the workflow's")

	for _, c := range []struct{ method, path, body, code string }{
		{http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"sites@example.com","tier":"pos","order_id":"sites-2","max_domains":1,"domains":["a.example","b.example"]}`, "too_many_domains"},
		{http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"sites@example.com","tier":"pos","order_id":"sites-2","domains":["a..example"]}`, "invalid_domain"},
		{http.MethodPatch, "/api/v1/licensing/licenses/" + v.ID, `{"domains":["a.example","b.example","c.example"]}`, "too_many_domains"},
		{http.MethodPatch, "/api/v1/licensing/licenses/" + v.ID, `{"domains":["a.example"],"max_domains":5}`, "domains_alone"},
	} {
		w := a.call(adminToken, c.method, c.path, c.body)
		require.Equal(t, http.StatusUnprocessableEntity, w.Code, c.body)
		e := errorOf(t, w)
		assert.Equal(t, c.code, e.Code, c.body)
		assert.Equal(t, "domains", e.Field, c.body)
	}
	assert.ElementsMatch(t, []string{"second.example", "shop.example"}, active(), "refused changes change nothing")
	_, err := a.store.GetOrder(ctx, "sites-2")
	assert.ErrorIs(t, err, models.ErrNotFound)
	assert.Empty(t, a.flows.Updates())
}
