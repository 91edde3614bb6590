package api_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/testsupport"
)

const writeToken = "lft_handler-test-write-token"

func TestAPurchaseRecordsTheCustomersCountryAndVATID(t *testing.T) {
	a := newAPITest(t)
	w := a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses",
		`{"user_email":"b2b@example.com","tier":"pos","order_id":"vat-1","country":"fr","vat_id":"FR 40 303 265 045"}`)
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	o, err := a.store.GetOrder(context.Background(), "vat-1")
	require.NoError(t, err)
	assert.Equal(t, "FR", o.Customer.Country)
	assert.Equal(t, "FR40303265045", o.Customer.VATID)
}

func TestAMalformedVATIDIsRefusedAndChangesNothing(t *testing.T) {
	a := newAPITest(t)
	before := testsupport.RowCounts(t, a.store)
	for _, c := range []struct{ body, code, field string }{
		{`{"user_email":"x@example.com","tier":"pos","country":"DE","vat_id":"DE12345"}`, "invalid_vat_id", "vat_id"},
		{`{"user_email":"x@example.com","tier":"pos","country":"FR","vat_id":"DE123456789"}`, "vat_id_country_mismatch", "vat_id"},
		{`{"user_email":"x@example.com","tier":"pos","vat_id":"DE123456789"}`, "country_required", "country"},
		{`{"user_email":"x@example.com","tier":"pos","country":"XX"}`, "invalid_country", "country"},
	} {
		a.refusedAndNothingRecorded(t, a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses", c.body), before, c.code, c.field)
	}
	w := a.call(adminToken, http.MethodPost, "/api/v1/orders", `{"customer_email":"x@example.com","tier":"pos","country":"DE","vat_id":"DE1"}`)
	a.refusedAndNothingRecorded(t, w, before, "invalid_vat_id", "vat_id")
}

func TestOperatorsCreditAnInvoice(t *testing.T) {
	a := newAPITest(t)
	ctx := context.Background()
	_, err := a.store.EnsureToken(ctx, "support", writeToken, models.StringList{string(models.ScopeLicensesWrite), string(models.ScopeLicensesRead), string(models.ScopeOrdersWrite)})
	require.NoError(t, err)
	l := a.issued("cn-1", "pos")
	inv, _, err := a.store.IssueInvoice(ctx, l.OrderID, time.Now(), models.TaxPolicy{SellerCountry: "DE"},
		func(models.Invoice) ([]byte, error) { return []byte("%PDF-1.4"), nil })
	require.NoError(t, err)
	path := "/api/v1/invoices/" + inv.Number + "/credit-notes"

	// A support-level token cannot move money.
	w := a.call(writeToken, http.MethodPost, path, `{"amount_cents":100,"reason":"goodwill"}`)
	assert.Equal(t, http.StatusForbidden, w.Code, w.Body.String())
	a.refused(http.MethodPost, path, `{"amount_cents":`+strconv.FormatInt(inv.TotalCents+1, 10)+`,"reason":"too much"}`, http.StatusConflict, "credit_exceeds_invoice")
	a.refused(http.MethodPost, path, `{"amount_cents":100}`, http.StatusUnprocessableEntity, "missing_reason")
	a.refused(http.MethodPost, path, `{"amount_cents":-100,"reason":"x"}`, http.StatusUnprocessableEntity, "invalid_amount")
	notes, err := a.store.InvoiceCreditNotes(ctx, inv.Number)
	require.NoError(t, err)
	assert.Empty(t, notes, "nothing refused was issued")

	w = a.call(adminToken, http.MethodPost, path, `{"amount_cents":2500,"reason":"refunded by bank transfer"}`)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	cn := decodeAs[api.CreditNoteView](t, w.Body.Bytes())
	assert.Equal(t, inv.Number, cn.InvoiceNumber)
	assert.Equal(t, int64(2500), cn.TotalCents)
	assert.Equal(t, cn.TotalCents, cn.SubtotalCents+cn.TaxCents)
	assert.Equal(t, "token:admin", cn.Actor)

	w = a.call(readToken, http.MethodGet, "/api/v1/invoices/"+inv.Number, "")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, models.InvoicePartiallyCredited, decodeAs[api.InvoiceView](t, w.Body.Bytes()).Status)

	w = a.call(adminToken, http.MethodPost, path, `{"full":true,"reason":"cancelled"}`)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	a.refused(http.MethodPost, path, `{"full":true,"reason":"again"}`, http.StatusConflict, "invoice_credited")

	list := decodeAs[httpx.Page[api.CreditNoteView]](t, a.call(readToken, http.MethodGet, path, "").Body.Bytes()).Data
	require.Len(t, list, 2)
	assert.Equal(t, inv.TotalCents, list[0].TotalCents+list[1].TotalCents)
	assert.Equal(t, inv.TaxCents, list[0].TaxCents+list[1].TaxCents)
	byLicense := decodeAs[httpx.Page[api.CreditNoteView]](t, a.call(readToken, http.MethodGet, "/api/v1/licensing/licenses/"+l.ID+"/credit-notes", "").Body.Bytes()).Data
	assert.Len(t, byLicense, 2)
	w = a.call(readToken, http.MethodGet, "/api/v1/credit-notes/"+cn.Number+"/pdf", "")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "application/pdf", w.Header().Get("Content-Type"))
	w = a.call(readToken, http.MethodGet, "/api/v1/invoices/"+inv.Number, "")
	assert.Equal(t, models.InvoiceCredited, decodeAs[api.InvoiceView](t, w.Body.Bytes()).Status)
}
