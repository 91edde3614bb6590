package activities

import (
	"context"

	"github.com/licenseflow/licenseflow/invoicepdf"
	"github.com/licenseflow/licenseflow/models"
)

// InvoiceInput names the paid order to bill.
type InvoiceInput struct {
	OrderID string
}

// InvoiceResult identifies the invoice.
type InvoiceResult struct {
	Number string
	Total  string
	// Tax is the tax included in Total.
	Tax string
}

// IssueInvoice bills an order once, with a gapless number and its PDF.
func (a *Activities) IssueInvoice(ctx context.Context, in InvoiceInput) (InvoiceResult, error) {
	inv, _, err := a.Store.IssueInvoice(ctx, in.OrderID, a.now(), a.Tax, func(inv models.Invoice) ([]byte, error) {
		return invoicepdf.Render(inv, a.Seller)
	})
	if err != nil {
		return InvoiceResult{}, permanent(err)
	}
	return InvoiceResult{Number: inv.Number, Total: models.FormatMoney(inv.TotalCents, inv.Currency),
		Tax: models.FormatMoney(inv.TaxCents, inv.Currency)}, nil
}
