package integration

import (
	"net/http"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/siteapi"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
)

// Every stack checks each JSON answer under /api/v1 against the OpenAPI
// document (see stack.Start); this tour makes sure every part of the API
// answers at least once, errors included.
func TestAPIAnswersMatchTheOpenAPIDocument(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	call := func(status int, method, path string, body any) stack.Response {
		t.Helper()
		r := s.Call(method, path, body)
		require.Equal(t, status, r.Status, "%s %s: %s", method, path, r.Body)
		return r
	}

	// Licenses.
	v := issue(t, s, `{"user_email":"tour@example.com","tier":"pos","max_domains":2,"order_id":"tour-1"}`)
	lic := "/api/v1/licensing/licenses/" + v.ID
	call(http.StatusOK, http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"tour@example.com","tier":"pos","order_id":"tour-1"}`)
	call(http.StatusOK, http.MethodGet, "/api/v1/licensing/licenses?email=tour@example.com&limit=5", nil)
	call(http.StatusOK, http.MethodPatch, lic, `{"expires_months":12}`)
	call(http.StatusOK, http.MethodPost, lic+"/suspend", `{"reason":"chargeback"}`)
	call(http.StatusOK, http.MethodPost, lic+"/reinstate", nil)
	call(http.StatusConflict, http.MethodPost, lic+"/reinstate", nil)
	for _, sub := range []string{"/emails", "/invoices", "/orders", "/usage", "/activations", "/events"} {
		call(http.StatusOK, http.MethodGet, lic+sub, nil)
	}
	call(http.StatusCreated, http.MethodPost, lic+"/renewal-link", `{"months":12}`)

	// Orders, invoices, the outbox.
	call(http.StatusCreated, http.MethodPost, "/api/v1/orders", `{"id":"tour-2","customer_email":"tour2@example.com","tier":"crm"}`)
	var paid api.OrderPaid
	call(http.StatusAccepted, http.MethodPost, "/api/v1/orders/tour-2/paid", `{"payment_ref":"bank-1"}`).JSON(t, &paid)
	call(http.StatusOK, http.MethodGet, "/api/v1/orders/tour-2", nil)
	var invoices struct {
		Data []api.InvoiceView `json:"data"`
	}
	s.WaitFor("the invoice", 10*time.Second, func() bool {
		call(http.StatusOK, http.MethodGet, lic+"/invoices", nil).JSON(t, &invoices)
		return len(invoices.Data) > 0
	})
	call(http.StatusOK, http.MethodGet, "/api/v1/invoices/"+invoices.Data[0].Number, nil)
	call(http.StatusOK, http.MethodGet, "/api/v1/emails?limit=5", nil)

	// Catalog, releases, tokens.
	call(http.StatusOK, http.MethodGet, "/api/v1/products", nil)
	call(http.StatusOK, http.MethodGet, "/api/v1/products/pos", nil)
	call(http.StatusCreated, http.MethodPost, "/api/v1/products", `{"code":"tourwp","repo":"TourWP","name":"Tour for WordPress","platform":"wordpress"}`)
	call(http.StatusOK, http.MethodPut, "/api/v1/products/tourwp", `{"repo":"TourWP","name":"Tour","platform":"wordpress"}`)
	call(http.StatusUnprocessableEntity, http.MethodPost, "/api/v1/products", `{"code":"bad","repo":"Bad","name":"Bad","platform":"drupal"}`)
	call(http.StatusNoContent, http.MethodDelete, "/api/v1/products/tourwp", nil)
	call(http.StatusOK, http.MethodGet, "/api/v1/tiers?active=true", nil)
	call(http.StatusOK, http.MethodGet, "/api/v1/tiers/pos", nil)
	call(http.StatusCreated, http.MethodPost, "/api/v1/tiers", `{"key":"tour","name":"Tour","products":["pos"],"max_domains":1,"term":"annual","price_cents":100,"currency":"EUR","channels":["stable"]}`)
	call(http.StatusOK, http.MethodPut, "/api/v1/tiers/tour", `{"name":"Tour","products":["pos"],"max_domains":2,"term":"annual","price_cents":100,"currency":"EUR","channels":["stable"]}`)
	call(http.StatusOK, http.MethodDelete, "/api/v1/tiers/tour", nil)
	require.Equal(t, http.StatusCreated, publish(t, s, "pos", "3.0.0", "stable", []byte("zip")).Status)
	call(http.StatusOK, http.MethodGet, "/api/v1/products/pos/releases", nil)
	var token api.TokenCreated
	call(http.StatusCreated, http.MethodPost, "/api/v1/tokens", `{"name":"crm","scopes":["orders:write"]}`).JSON(t, &token)
	call(http.StatusOK, http.MethodGet, "/api/v1/tokens", nil)
	call(http.StatusNoContent, http.MethodDelete, "/api/v1/tokens/"+strconv.FormatUint(uint64(token.Detail.ID), 10), nil)

	// Sites and keys.
	for _, path := range []string{"validate", "activate", "heartbeat", "deactivate"} {
		siteCall(t, s, path, siteapi.SiteRequest{DLID: v.DLID, Domain: "tour.example.com"})
	}
	siteCall(t, s, "activate", siteapi.SiteRequest{DLID: v.DLID, Domain: "localhost"})
	siteCall(t, s, "validate", siteapi.SiteRequest{DLID: v.DLID, Domain: "localhost"})
	require.Equal(t, http.StatusOK, s.CallAs("", http.MethodPost, "/api/v1/licenses/token", siteapi.SiteRequest{DLID: v.DLID}).Status)
	call(http.StatusOK, http.MethodPost, "/api/v1/licenses/"+v.ID+"/token", nil)
	call(http.StatusCreated, http.MethodPost, "/api/v1/keys/rotate", nil)
	call(http.StatusOK, http.MethodGet, "/api/v1/webhooks/stripe/events", nil)

	// Errors.
	assert.Equal(t, http.StatusUnauthorized, s.CallAs("", http.MethodGet, "/api/v1/licensing/licenses", nil).Status)
	call(http.StatusNotFound, http.MethodGet, "/api/v1/licensing/licenses/lic_nope", nil)
	call(http.StatusBadRequest, http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":`)
	call(http.StatusUnprocessableEntity, http.MethodPost, "/api/v1/licenses/validate", `{"dlid":""}`)
	assert.Equal(t, http.StatusServiceUnavailable, s.CallAs("", http.MethodPost, "/api/v1/webhooks/stripe", `{}`).Status)

	checked := s.OpenAPI.Checked()
	var seen []string
	for k := range checked {
		seen = append(seen, k)
	}
	sort.Strings(seen)
	assert.GreaterOrEqual(t, len(seen), 45, "answers checked: %v", seen)
	assert.Empty(t, s.OpenAPI.Problems())
}
