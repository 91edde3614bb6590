package invoicepdf

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
)

// text renders with uncompressed streams, so the words can be read.
func text(t *testing.T, render func() ([]byte, error)) string {
	t.Helper()
	compress = false
	defer func() { compress = true }()
	pdf, err := render()
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(pdf, []byte("%PDF-")))
	return string(pdf)
}

func TestReverseChargeInvoiceCarriesTheNotice(t *testing.T) {
	inv := models.Invoice{
		Number: "INV-2026-000007", OrderID: "crm-7", LicenseID: "lic_7", BillTo: "ACME SARL", CustomerCountry: "FR", CustomerVATID: "FR40303265045",
		Lines:         models.JSONValue[[]models.InvoiceLine]{V: []models.InvoiceLine{{Description: "POS license", Quantity: 1, UnitCents: 14900, TotalCents: 14900}}},
		SubtotalCents: 14900, TotalCents: 14900, Currency: "EUR", TaxTreatment: models.TaxReverseCharge, TaxNotice: models.ReverseChargeNotice,
		IssuedAt: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
	}
	seller := Seller{Name: "Moko Consulting", Country: "DE", VATID: "DE123456789"}
	doc := text(t, func() ([]byte, error) { return Render(inv, seller) })
	assert.Contains(t, doc, "Reverse charge: VAT to be accounted for by the recipient, Article 196 Council Directive 2006/112/EC")
	assert.Contains(t, doc, "VAT ID FR40303265045", "the customer's VAT ID")
	assert.Contains(t, doc, "VAT ID DE123456789", "the seller's VAT ID")
	assert.Contains(t, doc, "VAT 0% \\(reverse charge\\)")

	inv.TaxTreatment, inv.TaxNotice, inv.TaxRateBP, inv.TaxCents, inv.TotalCents = models.TaxDomestic, "", 1900, 2831, 17731
	doc = text(t, func() ([]byte, error) { return Render(inv, seller) })
	assert.Contains(t, doc, "VAT 19%")
	assert.Contains(t, doc, "177.31 EUR")
	assert.NotContains(t, doc, "Reverse charge")
}

func TestCreditNoteNamesTheInvoiceAndShowsNegativeAmounts(t *testing.T) {
	inv := models.Invoice{Number: "INV-2026-000007", TotalCents: 17731, TaxCents: 2831, SubtotalCents: 14900, TaxRateBP: 1900,
		TaxTreatment: models.TaxDomestic, Currency: "EUR", IssuedAt: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	cn := models.CreditNote{Number: "CN-2026-000001", InvoiceNumber: inv.Number, SubtotalCents: 14900, TaxCents: 2831, TotalCents: 17731,
		Currency: "EUR", TaxRateBP: 1900, Reason: "refunded", OrderID: "crm-7", LicenseID: "lic_7", IssuedAt: time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC)}
	doc := text(t, func() ([]byte, error) { return RenderCreditNote(cn, inv, Seller{Name: "Moko Consulting"}) })
	assert.Contains(t, doc, "Credit note")
	assert.Contains(t, doc, "CN-2026-000001")
	assert.Contains(t, doc, "invoice INV-2026-000007")
	assert.Contains(t, doc, "-177.31 EUR")
	assert.Contains(t, doc, "-28.31 EUR")
}
