package api

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/testsupport"
)

// Each answer used to be the stored row itself; its view must keep every
// field name and shape, empty or filled in.
func TestViewsAnswerWhatTheStoredRowsAnswered(t *testing.T) {
	t.Run("order", func(t *testing.T) { testsupport.SameJSON(t, orderView) })
	t.Run("invoice", func(t *testing.T) { testsupport.SameJSON(t, invoiceView) })
	t.Run("email", func(t *testing.T) { testsupport.SameJSON(t, emailView) })
	t.Run("product", func(t *testing.T) { testsupport.SameJSON(t, productView) })
	t.Run("tier", func(t *testing.T) { testsupport.SameJSON(t, tierView) })
	t.Run("token", func(t *testing.T) { testsupport.SameJSON(t, tokenView) })
	t.Run("release", func(t *testing.T) { testsupport.SameJSON(t, releaseView) })
	t.Run("activation", func(t *testing.T) { testsupport.SameJSON(t, activationView) })
}

// The invoice lines are stored as JSON; an invoice without lines answers
// an empty list, not null, exactly as before.
func TestInvoiceViewKeepsAnEmptyLineList(t *testing.T) {
	inv := models.Invoice{Lines: models.JSONValue[[]models.InvoiceLine]{V: []models.InvoiceLine{}}}
	want, _ := json.Marshal(inv)
	got, _ := json.Marshal(invoiceView(inv))
	assert.JSONEq(t, string(want), string(got))
}
