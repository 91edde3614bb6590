package invoicepdf

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
)

func TestRenderIsARealDeterministicPDF(t *testing.T) {
	inv := models.Invoice{
		Number: "INV-2026-000042", OrderID: "crm-1", LicenseID: "lic_1", BillTo: "Zoë Müller\nACME GmbH\nzoe@example.com",
		Lines: models.JSONValue[[]models.InvoiceLine]{V: []models.InvoiceLine{{
			Description: "Point of Sale license, 12 months, up to 5 domains (license lic_1)", Quantity: 1, UnitCents: 14900, TotalCents: 14900,
		}}},
		SubtotalCents: 14900, TotalCents: 14900, Currency: "EUR", IssuedAt: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
	}
	seller := Seller{Name: "Moko Consulting", Address: "1 Main Street\nSpringfield", VATID: "DE123", Email: "billing@moko.example"}
	a, err := Render(inv, seller)
	require.NoError(t, err)
	b, err := Render(inv, seller)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(a, []byte("%PDF-")))
	assert.True(t, bytes.Contains(a, []byte("%%EOF")))
	assert.Equal(t, a, b, "the same invoice renders to the same bytes")
	assert.Greater(t, len(a), 1000)
}
