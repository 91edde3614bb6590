package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/lifecycle"
	"github.com/licenseflow/licenseflow/lifecycle/lifecyclefake"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments"
)

// Every handler of the JSON API, its happy path and its main refusals, on
// SQLite with the workflows faked: milliseconds, no Temporal server.

// issued records a license as its workflow leaves it after issuing: a key,
// dates and entitlements.
func (a *apiTest) issued(orderID, tier string) models.License {
	a.t.Helper()
	ctx := context.Background()
	tr, err := a.store.GetTier(ctx, tier)
	require.NoError(a.t, err)
	_, l, _, err := a.store.RecordPurchase(ctx, models.Purchase{OrderID: orderID, Email: orderID + "@example.com", Tier: tr,
		MaxDomains: 3, Months: 12, Type: models.TypeCommercial, AmountCents: tr.PriceCents, Currency: tr.Currency, PaidAt: time.Now()})
	require.NoError(a.t, err)
	expires := models.Instant(time.Now().AddDate(1, 0, 0))
	l, err = a.store.MintLicense(ctx, models.Mint{LicenseID: l.ID, TierKey: tier, MaxDomains: 3, Channels: tr.Channels,
		StartsAt: time.Now(), ExpiresAt: &expires})
	require.NoError(a.t, err)
	_, _, err = a.store.SetEntitlements(ctx, l.ID, tier)
	require.NoError(a.t, err)
	return l
}

func decodeAs[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(body, &v), string(body))
	return v
}

func (a *apiTest) refused(method, path, body string, status int, code string) httpx.Error {
	a.t.Helper()
	w := a.call(adminToken, method, path, body)
	require.Equal(a.t, status, w.Code, "%s %s: %s", method, path, w.Body.String())
	e := errorOf(a.t, w)
	assert.Equal(a.t, code, e.Code, e.Message)
	return e
}

func TestListingLicensesFiltersAndPages(t *testing.T) {
	a := newAPITest(t)
	for i := range 3 {
		a.issued(fmt.Sprintf("list-%d", i), "pos")
	}
	a.issued("list-crm", "crm")

	w := a.call(readToken, http.MethodGet, "/api/v1/licensing/licenses?tier=pos&limit=2", "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	page := decodeAs[httpx.Page[api.LicenseView]](t, w.Body.Bytes())
	assert.Len(t, page.Data, 2)
	require.NotEmpty(t, page.NextCursor)
	w = a.call(readToken, http.MethodGet, "/api/v1/licensing/licenses?tier=pos&limit=2&cursor="+page.NextCursor, "")
	next := decodeAs[httpx.Page[api.LicenseView]](t, w.Body.Bytes())
	assert.Len(t, next.Data, 1)
	assert.Empty(t, next.NextCursor)

	w = a.call(readToken, http.MethodGet, "/api/v1/licensing/licenses?email=list-crm@example.com&status=active&expiring_within=400d", "")
	byEmail := decodeAs[httpx.Page[api.LicenseView]](t, w.Body.Bytes())
	require.Len(t, byEmail.Data, 1)
	assert.Equal(t, "crm", byEmail.Data[0].Tier)
	assert.Empty(t, a.flows.Queries(), "lists never wait on workflows")

	a.refused(http.MethodGet, "/api/v1/licensing/licenses?status=gone", "", 422, "invalid_status")
	a.refused(http.MethodGet, "/api/v1/licensing/licenses?limit=0", "", 422, "invalid_limit")
	a.refused(http.MethodGet, "/api/v1/licensing/licenses?expiring_within=-1d", "", 422, "invalid_expiring_within")
}

func TestGettingALicenseShowsTheWorkflowWhenItAnswers(t *testing.T) {
	a := newAPITest(t)
	a.flows.WebUIURL = "http://temporal.example"
	l := a.issued("get-1", "pos")
	a.flows.State = lifecycle.Live{Status: models.StatusActive, Revision: 3, Run: 1, StepsDone: []string{"mint"}}

	w := a.call(readToken, http.MethodGet, "/api/v1/licensing/licenses/"+l.ID, "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	v := decodeAs[api.LicenseView](t, w.Body.Bytes())
	assert.Equal(t, l.Key(), v.DLID)
	assert.Equal(t, models.MaskDLID(l.Key()), v.DLIDMasked)
	assert.Equal(t, "http://temporal.example/"+l.WorkflowID, v.WorkflowURL)
	require.Len(t, v.Entitlements, 2)
	require.NotNil(t, v.Workflow)
	assert.True(t, v.Workflow.Reachable)
	assert.Equal(t, int64(3), v.Workflow.Revision)
	assert.Equal(t, []string{l.WorkflowID}, a.flows.Queries())

	a.flows.QueryErr = lifecyclefake.Outage("dial tcp 10.20.30.40:7233: connection refused")
	w = a.call(readToken, http.MethodGet, "/api/v1/licensing/licenses/"+l.ID, "")
	require.Equal(t, http.StatusOK, w.Code, "the stored license is shown without its workflow")
	assert.False(t, decodeAs[api.LicenseView](t, w.Body.Bytes()).Workflow.Reachable)
	assert.NotContains(t, w.Body.String(), "10.20.30.40", "Temporal's raw error stays in the log")

	a.refused(http.MethodGet, "/api/v1/licensing/licenses/lic_nope", "", 404, "license_not_found")
}

func TestPatchingRenewsCorrectsAndChangesThroughOneUpdate(t *testing.T) {
	a := newAPITest(t)
	l := a.issued("patch-1", "pos")
	w := a.call(adminToken, http.MethodPatch, "/api/v1/licensing/licenses/"+l.ID,
		`{"expires_months":6,"tier":"crm","max_domains":4,"order_id":"crm-renew-1","payment_ref":"bank-9"}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	updates := a.flows.Updates()
	require.Len(t, updates, 1)
	assert.Equal(t, models.PatchRequest{}.MessageName(), updates[0].Name)
	patch := updates[0].Msg.(*models.PatchRequest)
	assert.Equal(t, "crm", patch.Tier)
	assert.Equal(t, &models.SetMaxDomainsRequest{MaxDomains: 4}, patch.MaxDomains)
	assert.Equal(t, &models.RenewRequest{Months: 6, PaymentRef: "bank-9", OrderID: "crm-renew-1"}, patch.Renew)
	o, err := a.store.GetOrder(context.Background(), "crm-renew-1")
	require.NoError(t, err)
	assert.Equal(t, models.OrderRenewal, o.Kind)
	assert.Equal(t, int64(14900/2), o.AmountCents, "priced pro rata from the tier")

	w = a.call(adminToken, http.MethodPatch, "/api/v1/licensing/licenses/"+l.ID, `{"expires_at":"2030-01-31T00:00:00Z","reason":"goodwill"}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	correction := a.flows.Updates()[1].Msg.(*models.PatchRequest)
	assert.Nil(t, correction.Renew, "a correction is not a renewal")
	assert.Equal(t, "2030-01-31T00:00:00Z", correction.ExpiresAt.UTC().Format(time.RFC3339))

	a.refused(http.MethodPatch, "/api/v1/licensing/licenses/"+l.ID, `{"expires_months":1,"expires_at":"2030-01-31T00:00:00Z"}`, 422, "ambiguous_renewal")
	a.refused(http.MethodPatch, "/api/v1/licensing/licenses/"+l.ID, `{"expires_months":121}`, 422, "invalid_expires_months")
	a.refused(http.MethodPatch, "/api/v1/licensing/licenses/"+l.ID, `{"tier":"gold"}`, 422, "tier_not_found")
	a.refused(http.MethodPatch, "/api/v1/licensing/licenses/lic_nope", `{"tier":"crm"}`, 404, "license_not_found")
	assert.Len(t, a.flows.Updates(), 2)
}

func TestActionsGoToTheWorkflowAndRenewalsAreRecordedFirst(t *testing.T) {
	a := newAPITest(t)
	l := a.issued("act-1", "pos")
	w := a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses/"+l.ID+"/renew", "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	renew := a.flows.Updates()[0]
	assert.Equal(t, string(models.ActionRenew), renew.Name)
	r := renew.Msg.(*models.RenewRequest)
	assert.Equal(t, 12, r.Months, "the tier's term")
	assert.Equal(t, "order:"+r.OrderID, r.PaymentRef, "the order renews once")
	orders, err := a.store.ListOrders(context.Background(), l.ID)
	require.NoError(t, err)
	assert.Len(t, orders, 2, "the purchase and the renewal")

	for _, action := range []string{"reinstate", "revoke"} {
		w := a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses/"+l.ID+"/"+action, `{"reason":"chargeback"}`)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	}
	names := []string{}
	for _, u := range a.flows.Updates() {
		names = append(names, u.Name)
	}
	assert.Equal(t, []string{string(models.ActionRenew), string(models.ActionReinstate), string(models.ActionRevoke)}, names)

	a.refused(http.MethodPost, "/api/v1/licensing/licenses/"+l.ID+"/explode", "", 404, "route_not_found")
	a.refused(http.MethodPost, "/api/v1/licensing/licenses/lic_nope/suspend", "", 404, "license_not_found")
	pending := a.purchased("act-pending")
	a.refused(http.MethodPost, "/api/v1/licensing/licenses/"+pending.ID+"/renew", `{"months":1}`, 409, "license_pending")
}

func TestALicensesRecordsAreListed(t *testing.T) {
	a := newAPITest(t)
	ctx := context.Background()
	l := a.issued("rec-1", "pos")
	_, err := a.store.EnqueueEmail(ctx, models.EmailMessage{IdempotencyKey: "k1", To: "rec-1@example.com", Template: "delivery",
		Subject: "Your key", LicenseID: l.ID, Status: models.EmailHeld})
	require.NoError(t, err)
	inv, _, err := a.store.IssueInvoice(ctx, l.OrderID, time.Now(), models.TaxPolicy{}, func(models.Invoice) ([]byte, error) { return []byte("%PDF-1.4"), nil })
	require.NoError(t, err)
	_, _, err = a.store.Activate(ctx, l.ID, "shop.example.com", time.Now())
	require.NoError(t, err)
	require.NoError(t, a.store.RecordUsage(ctx, []models.UsageEvent{{LicenseID: l.ID, Kind: models.UsageValidate, Domain: "shop.example.com", At: time.Now()}}))

	get := func(path string) []byte {
		t.Helper()
		w := a.call(readToken, http.MethodGet, path, "")
		require.Equal(t, http.StatusOK, w.Code, "%s: %s", path, w.Body.String())
		return w.Body.Bytes()
	}
	base := "/api/v1/licensing/licenses/" + l.ID
	assert.Len(t, decodeAs[httpx.Page[api.EmailView]](t, get(base+"/emails?template=delivery")).Data, 1)
	assert.Empty(t, decodeAs[httpx.Page[api.EmailView]](t, get(base+"/emails?template=renewed")).Data)
	invoices := decodeAs[httpx.Page[api.InvoiceView]](t, get(base+"/invoices")).Data
	require.Len(t, invoices, 1)
	assert.Equal(t, inv.Number, invoices[0].Number)
	orders := decodeAs[httpx.Page[api.OrderView]](t, get(base+"/orders")).Data
	require.Len(t, orders, 1)
	assert.Equal(t, "rec-1", orders[0].ID)
	acts := decodeAs[httpx.Page[api.ActivationView]](t, get(base+"/activations")).Data
	require.Len(t, acts, 1)
	assert.Equal(t, "shop.example.com", acts[0].Domain)
	u := decodeAs[models.Usage](t, get(base+"/usage?days=7"))
	assert.Equal(t, 1, u.Totals[models.UsageValidate])

	assert.Equal(t, inv.Number, decodeAs[api.InvoiceView](t, get("/api/v1/invoices/"+inv.Number)).Number)
	w := a.call(readToken, http.MethodGet, "/api/v1/invoices/"+inv.Number+"/pdf", "")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "application/pdf", w.Header().Get("Content-Type"))
	assert.True(t, strings.HasPrefix(w.Body.String(), "%PDF"))
	assert.Equal(t, "rec-1", decodeAs[api.OrderView](t, get("/api/v1/orders/rec-1")).ID)

	w = a.call(adminToken, http.MethodGet, "/api/v1/emails?to=rec-1@example.com&limit=5", "")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Len(t, decodeAs[httpx.Page[api.EmailView]](t, w.Body.Bytes()).Data, 1)

	for _, p := range []string{"/emails", "/invoices", "/orders", "/activations", "/usage"} {
		w := a.call(readToken, http.MethodGet, "/api/v1/licensing/licenses/lic_nope"+p, "")
		assert.Equal(t, http.StatusNotFound, w.Code, p)
	}
	a.refused(http.MethodGet, "/api/v1/invoices/INV-1999-000001", "", 404, "invoice_not_found")
	a.refused(http.MethodGet, "/api/v1/orders/nope", "", 404, "order_not_found")
	w = a.call(readToken, http.MethodGet, "/api/v1/emails", "")
	assert.Equal(t, http.StatusForbidden, w.Code, "the outbox is for admins")
}

func TestRenewalLinkWithoutStripeIsAPendingOrder(t *testing.T) {
	a := newAPITest(t)
	l := a.issued("link-1", "pos")
	w := a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses/"+l.ID+"/renewal-link", `{"months":24}`)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	link := decodeAs[payments.RenewalLink](t, w.Body.Bytes())
	assert.Equal(t, "crm", link.Provider)
	o, err := a.store.GetOrder(context.Background(), link.OrderID)
	require.NoError(t, err)
	assert.Equal(t, models.OrderPending, o.Status)
	assert.Equal(t, 24, o.Months)
	assert.Equal(t, int64(14900*2), o.AmountCents)

	a.refused(http.MethodPost, "/api/v1/licensing/licenses/"+l.ID+"/renewal-link", `{"months":0}`, 422, "invalid_months")
	a.refused(http.MethodPost, "/api/v1/licensing/licenses/lic_nope/renewal-link", ``, 404, "license_not_found")
}

func TestCRMOrdersAreRecordedThenPaid(t *testing.T) {
	a := newAPITest(t)
	body := `{"id":"crm-100","customer_email":"Ada@Example.com","customer_name":"Ada","tier":"pos","months":24,"max_domains":2,"currency":"usd"}`
	w := a.call(adminToken, http.MethodPost, "/api/v1/orders", body)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	o := decodeAs[api.OrderView](t, w.Body.Bytes())
	assert.Equal(t, models.OrderPending, o.Status)
	assert.Equal(t, "USD", o.Currency)
	assert.Equal(t, int64(14900*2), o.AmountCents)
	assert.Equal(t, "/api/v1/orders/crm-100", w.Header().Get("Location"))
	again := a.call(adminToken, http.MethodPost, "/api/v1/orders", body)
	assert.Equal(t, http.StatusOK, again.Code, "the same order again is the same order")
	a.refused(http.MethodPost, "/api/v1/orders", `{"id":"crm-100","customer_email":"bob@example.com","tier":"pos"}`, 409, "order_exists")
	assert.Empty(t, a.flows.Starts(), "nothing is issued before payment")

	w = a.call(adminToken, http.MethodPost, "/api/v1/orders/crm-100/paid", `{"payment_ref":"bank-7731"}`)
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	paid := decodeAs[api.OrderPaid](t, w.Body.Bytes())
	assert.Equal(t, models.OrderPaid, paid.Order.Status)
	assert.Equal(t, models.StatusPending, paid.License.Status)
	starts := a.flows.Starts()
	require.Len(t, starts, 1)
	assert.Equal(t, "crm-100", starts[0].Order.ID)
	assert.Equal(t, "Ada", starts[0].CustomerName)

	// A renewal order extends the license through the workflow.
	l := a.issued("crm-101", "pos")
	w = a.call(adminToken, http.MethodPost, "/api/v1/orders", `{"id":"crm-102","kind":"renewal","license_id":"`+l.ID+`"}`)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	w = a.call(adminToken, http.MethodPost, "/api/v1/orders/crm-102/paid", "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	updates := a.flows.Updates()
	require.Len(t, updates, 1)
	assert.Equal(t, &models.RenewRequest{Months: 12, PaymentRef: "order:crm-102", OrderID: "crm-102", Actor: "token:admin"}, updates[0].Msg)

	a.refused(http.MethodPost, "/api/v1/orders", `{"id":"crm-103","kind":"gift","customer_email":"a@example.com","tier":"pos"}`, 422, "invalid_kind")
	a.refused(http.MethodPost, "/api/v1/orders", `{"id":"crm-104","kind":"renewal"}`, 422, "missing_license_id")
	a.refused(http.MethodPost, "/api/v1/orders", `{"id":"crm-105","kind":"renewal","license_id":"lic_nope"}`, 422, "license_not_found")
	a.refused(http.MethodPost, "/api/v1/orders", `{"id":"crm-106","customer_email":"a@example.com","tier":"pos","max_domains":0}`, 422, "invalid_max_domains")
	a.refused(http.MethodPost, "/api/v1/orders/nope/paid", ``, 404, "order_not_found")
	require.NoError(t, a.store.MarkOrder(context.Background(), "crm-102", models.OrderRefunded))
	a.refused(http.MethodPost, "/api/v1/orders/crm-102/paid", ``, 409, "order_not_payable")
	w = a.call(readToken, http.MethodPost, "/api/v1/orders", body)
	assert.Equal(t, http.StatusForbidden, w.Code, "orders need orders:write")

	a.flows.StartErr = lifecyclefake.Outage("down")
	w = a.call(adminToken, http.MethodPost, "/api/v1/orders", `{"id":"crm-107","customer_email":"a@example.com","tier":"pos"}`)
	require.Equal(t, http.StatusCreated, w.Code)
	a.refused(http.MethodPost, "/api/v1/orders/crm-107/paid", ``, 503, "temporal_unavailable")
}

func TestTheCatalogIsEditedAndChecked(t *testing.T) {
	a := newAPITest(t)
	w := a.call(readToken, http.MethodGet, "/api/v1/products", "")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Len(t, decodeAs[httpx.Page[api.ProductView]](t, w.Body.Bytes()).Data, 11)
	w = a.call(readToken, http.MethodGet, "/api/v1/products/POS", "")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "MokoSuitePOS", decodeAs[api.ProductView](t, w.Body.Bytes()).Repo)

	w = a.call(adminToken, http.MethodPost, "/api/v1/products", `{"code":"Gold","repo":"MokoGold","name":" Gold ","platform":"Joomla","requires_key":false}`)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	p := decodeAs[api.ProductView](t, w.Body.Bytes())
	assert.Equal(t, api.ProductView{Code: "gold", Repo: "MokoGold", Name: "Gold", Platform: models.PlatformJoomla, RequiresKey: false,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}, p)
	w = a.call(adminToken, http.MethodPut, "/api/v1/products/gold", `{"repo":"MokoGold","name":"Gold 2","platform":"both"}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "Gold 2", decodeAs[api.ProductView](t, w.Body.Bytes()).Name)
	a.refused(http.MethodPost, "/api/v1/products", `{"code":"gold","repo":"Other","name":"x","platform":"joomla"}`, 409, "product_exists")
	a.refused(http.MethodPost, "/api/v1/products", `{"code":"silver","repo":"Silver","name":"x","platform":"drupal"}`, 422, "invalid_platform")

	tier := `{"key":"gold","name":"Gold","description":"  For shops that sell gold.\nTwo sites.  ","products":["gold","base"],"max_domains":2,"term":"custom","term_months":6,"price_cents":600,"currency":"chf","channels":["stable","beta"]}`
	w = a.call(adminToken, http.MethodPost, "/api/v1/tiers", tier)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	tv := decodeAs[api.TierView](t, w.Body.Bytes())
	assert.Equal(t, "For shops that sell gold.\nTwo sites.", tv.Description, "the plan description, trimmed")
	assert.Equal(t, "CHF", tv.Currency)
	assert.Equal(t, 6, tv.TermMonths)
	assert.True(t, tv.Active)
	a.refused(http.MethodPost, "/api/v1/tiers", tier, 409, "tier_exists")
	a.refused(http.MethodPost, "/api/v1/tiers", strings.Replace(tier, `"gold","base"`, `"gold","nothing"`, 1), 422, "product_not_found")
	w = a.call(adminToken, http.MethodPut, "/api/v1/tiers/gold", strings.Replace(tier, `"max_domains":2`, `"max_domains":5`, 1))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, 5, decodeAs[api.TierView](t, w.Body.Bytes()).MaxDomains)
	a.refused(http.MethodDelete, "/api/v1/products/gold", "", 409, "product_in_use")

	w = a.call(adminToken, http.MethodDelete, "/api/v1/tiers/gold", "")
	require.Equal(t, http.StatusOK, w.Code)
	assert.False(t, decodeAs[api.TierView](t, w.Body.Bytes()).Active, "retired, not deleted")
	w = a.call(readToken, http.MethodGet, "/api/v1/tiers?active=true", "")
	for _, tr := range decodeAs[httpx.Page[api.TierView]](t, w.Body.Bytes()).Data {
		assert.NotEqual(t, "gold", tr.Key)
	}
	w = a.call(readToken, http.MethodGet, "/api/v1/tiers/gold", "")
	assert.Equal(t, http.StatusOK, w.Code)
	a.refused(http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"a@example.com","tier":"gold"}`, 422, "tier_inactive")
	a.refused(http.MethodGet, "/api/v1/tiers/platinum", "", 404, "tier_not_found")
	a.refused(http.MethodGet, "/api/v1/products/platinum", "", 404, "product_not_found")

	w = a.call(readToken, http.MethodPost, "/api/v1/tiers", tier)
	assert.Equal(t, http.StatusForbidden, w.Code, "the catalog needs catalog:write")
}

func TestReleasesArePublishedAnnouncedAndListed(t *testing.T) {
	a := newAPITest(t)
	w := a.publish(upload{version: "2.1.0", channel: "beta", filename: "pkg_pos-2.1.0.zip", content: []byte("zip bytes"),
		fields: map[string]string{"target_platform": "4.[34]", "php_minimum": "8.1", "type": "component", "element": "com_pos"}})
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	rel := decodeAs[api.ReleaseView](t, w.Body.Bytes())
	assert.Equal(t, "beta", rel.Channel)
	assert.Equal(t, int64(9), rel.Size)
	ann := a.flows.Announcements()
	require.Len(t, ann, 1)
	assert.Equal(t, "beta", ann[0].Release.Channel, "the announcement knows the channel")

	w = a.call(readToken, http.MethodGet, "/api/v1/products/pos/releases", "")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Len(t, decodeAs[httpx.Page[api.ReleaseView]](t, w.Body.Bytes()).Data, 1)

	a.flows.AnnounceErr = lifecyclefake.Outage("down")
	w = a.publish(upload{version: "2.2.0", channel: "stable", filename: "p.zip", content: []byte("z")})
	assert.Equal(t, http.StatusCreated, w.Code, "published even when the announcement must be retried")

	w = a.publish(upload{version: "2.1.0", channel: "stable", filename: "p.zip", content: []byte("z")})
	assert.Equal(t, http.StatusConflict, w.Code)
	w = a.publish(upload{version: "2.3.0", channel: "stable", filename: "p.zip", content: nil})
	assert.Equal(t, http.StatusUnprocessableEntity, w.Code)
	assert.Equal(t, "empty_file", errorOf(t, w).Code)
	w = a.publish(upload{version: "2.3.0", channel: "Stable Channel", filename: "p.zip", content: []byte("z")})
	assert.Equal(t, "invalid_channel", errorOf(t, w).Code)
	a.refused(http.MethodGet, "/api/v1/products/nope/releases", "", 404, "product_not_found")
}

func TestTokensAreCreatedListedAndRevoked(t *testing.T) {
	a := newAPITest(t)
	w := a.call(adminToken, http.MethodPost, "/api/v1/tokens", `{"name":"crm","scopes":["orders:write","licenses:read"]}`)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	created := decodeAs[api.TokenCreated](t, w.Body.Bytes())
	assert.True(t, strings.HasPrefix(created.Token, models.TokenPrefix))
	assert.Equal(t, created.Token[:8], created.Detail.Prefix)

	w = a.call(created.Token, http.MethodGet, "/api/v1/orders/nope", "")
	assert.Equal(t, http.StatusNotFound, w.Code, "the new token works")
	w = a.call(adminToken, http.MethodGet, "/api/v1/tokens", "")
	require.Equal(t, http.StatusOK, w.Code)
	assert.NotContains(t, w.Body.String(), created.Token, "a list never shows secrets")
	assert.Len(t, decodeAs[httpx.Page[api.TokenView]](t, w.Body.Bytes()).Data, 3)

	w = a.call(adminToken, http.MethodDelete, fmt.Sprintf("/api/v1/tokens/%d", created.Detail.ID), "")
	assert.Equal(t, http.StatusNoContent, w.Code)
	w = a.call(created.Token, http.MethodGet, "/api/v1/orders/nope", "")
	assert.Equal(t, http.StatusUnauthorized, w.Code, "a revoked token is refused")
	a.refused(http.MethodDelete, fmt.Sprintf("/api/v1/tokens/%d", created.Detail.ID), "", 404, "token_not_found")
	a.refused(http.MethodPost, "/api/v1/tokens", `{"name":"x","scopes":["root"]}`, 422, "invalid_scope")
	a.refused(http.MethodPost, "/api/v1/tokens", `{"name":"x","scopes":[]}`, 422, "missing_scopes")
	a.refused(http.MethodPost, "/api/v1/tokens", `{"name":" ","scopes":["admin"]}`, 422, "missing_name")
	w = a.call(readToken, http.MethodGet, "/api/v1/tokens", "")
	assert.Equal(t, http.StatusForbidden, w.Code)
}

func TestAnIdempotentRetryGetsTheFirstAnswer(t *testing.T) {
	a := newAPITest(t)
	post := func(key, body string) (int, string, string) {
		t.Helper()
		w := a.callWith(adminToken, http.MethodPost, "/api/v1/licensing/licenses", body, httpx.IdempotencyHeader, key)
		return w.Code, w.Body.String(), w.Header().Get("Idempotent-Replayed")
	}
	body := `{"user_email":"idem@example.com","tier":"pos"}`
	status, first, replayed := post("k-1", body)
	require.Equal(t, http.StatusAccepted, status, first)
	assert.Empty(t, replayed)
	status, second, replayed := post("k-1", body)
	assert.Equal(t, http.StatusAccepted, status)
	assert.Equal(t, first, second)
	assert.Equal(t, "true", replayed)
	assert.Len(t, a.flows.Starts(), 1)
	status, reused, _ := post("k-1", `{"user_email":"other@example.com","tier":"pos"}`)
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, reused, "idempotency_key_reused")
}

// callWith is call with extra headers (name, value pairs).
func (a *apiTest) callWith(token, method, path, body string, headers ...string) *httptest.ResponseRecorder {
	a.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	a.router.ServeHTTP(w, req)
	return w
}

// The documented limits, written out rather than read from models: a term
// of up to ten years (120 months) and up to 10,000 domains are taken, one
// more of either is refused with its code.
func TestTermAndDomainLimitsAreTenYearsAndTenThousandDomains(t *testing.T) {
	a := newAPITest(t)
	w := a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"ada@example.com","tier":"pos","expires_months":120,"max_domains":10000}`)
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	starts := a.flows.Starts()
	require.Len(t, starts, 1)
	assert.Equal(t, 120, starts[0].Order.Months)
	assert.Equal(t, 10000, starts[0].Order.MaxDomains)

	a.refused(http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"ada@example.com","tier":"pos","expires_months":121}`, 422, "invalid_expires_months")
	a.refused(http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"ada@example.com","tier":"pos","max_domains":10001}`, 422, "invalid_max_domains")
	assert.Len(t, a.flows.Starts(), 1)
}

// A term bought as a date may end at most ten calendar years ahead. The
// API judges a purchase itself, since no workflow runs yet; a renewal or a
// correction to a date is judged by the license's workflow
// (integration.TestAnExpiryDateMayLieAtMostTenYearsAhead).
func TestAPurchasedExpiryDateMayLieAtMostTenYearsAhead(t *testing.T) {
	a := newAPITest(t)
	now := time.Now()
	tenYears := now.AddDate(10, 0, 0).Sub(now)
	purchase := func(orderID string, at time.Time) string {
		return `{"user_email":"ada@example.com","tier":"pos","order_id":"` + orderID + `","expires_at":"` + at.UTC().Format(time.RFC3339) + `"}`
	}
	under := now.Add(tenYears - time.Minute).Truncate(time.Second)
	w := a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses", purchase("ten-years", under))
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	starts := a.flows.Starts()
	require.Len(t, starts, 1)
	require.NotNil(t, starts[0].Order.ExpiresAt)
	assert.Equal(t, under.UTC(), starts[0].Order.ExpiresAt.UTC())
	assert.Equal(t, 120, starts[0].Order.Months, "priced as the 120 months it starts")

	over := now.Add(tenYears + time.Minute)
	e := a.refused(http.MethodPost, "/api/v1/licensing/licenses", purchase("ten-years-and-a-minute", over), 422, "expires_at_too_far")
	assert.Equal(t, "expires_at", e.Field)
	assert.Len(t, a.flows.Starts(), 1)
}
