package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/licenseflow/licenseflow/models"
)

// IssueInvoice bills a paid order once. The number is taken from the year's
// sequence inside the same transaction as the invoice row, so concurrent
// issuing never skips or repeats a number; render produces the PDF inside
// that transaction too, so an invoice never exists without its document.
// Issuing an order that already has an invoice returns it (created=false).
// The tax follows the policy, the customer's country and VAT ID as they
// are now, and the order (what Stripe charged is tax-inclusive; Stripe's
// own tax, when it computed one, is used as it is).
func (s *Store) IssueInvoice(ctx context.Context, orderID string, issuedAt time.Time, tax models.TaxPolicy, render func(models.Invoice) ([]byte, error)) (inv models.Invoice, created bool, err error) {
	if existing, err := s.InvoiceForOrder(ctx, orderID); err == nil {
		return existing, false, nil
	}
	err = s.transaction(ctx, func(tx *Store) error {
		order, err := tx.GetOrder(ctx, orderID)
		if err != nil {
			return err
		}
		if order.Kind == models.OrderTrial {
			return models.Conflict("trial_not_invoiced", "order %q starts a free trial; a trial is never invoiced, the order that converts it is", orderID)
		}
		if order.Status != models.OrderPaid {
			return models.Conflict("order_not_paid", "order %q is %s; only paid orders are invoiced", orderID, order.Status)
		}
		description, err := tx.orderDescription(ctx, order)
		if err != nil {
			return err
		}
		c := order.Customer
		issuedAt = models.Instant(issuedAt)
		if order.PaymentProvider.MerchantOfRecord() {
			inv = merchantInvoice(order, description, issuedAt)
			return tx.db.Create(&inv).Error
		}
		quote, err := tax.Quote(order.AmountCents, order.AmountIncludesTax || tax.PricesIncludeTax,
			models.TaxBuyer{Country: c.Country, VATID: c.VATID, StripeTaxCents: order.StripeTaxCents})
		if err != nil {
			return err
		}
		year := issuedAt.Year()
		seq, err := tx.nextInSeries(invoiceSeries, year)
		if err != nil {
			return err
		}
		inv = models.Invoice{
			Number: models.InvoiceNumber(year, seq), Year: year, Sequence: seq, OrderID: order.ID,
			LicenseID: order.LicenseID, CustomerID: order.CustomerID, BillTo: billTo(c),
			Lines:         models.JSONValue[[]models.InvoiceLine]{V: []models.InvoiceLine{{Description: description, Quantity: 1, UnitCents: quote.SubtotalCents, TotalCents: quote.SubtotalCents}}},
			SubtotalCents: quote.SubtotalCents, TaxCents: quote.TaxCents, TotalCents: quote.TotalCents, Currency: order.Currency,
			CustomerCountry: c.Country, CustomerVATID: c.VATID, TaxRateBP: quote.RateBP, TaxTreatment: quote.Treatment,
			TaxNotice: quote.Notice, Status: models.InvoiceIssued, IssuedAt: issuedAt,
		}
		if inv.PDF, err = render(inv); err != nil {
			return fmt.Errorf("render invoice %s: %w", inv.Number, err)
		}
		return tx.db.Create(&inv).Error
	})
	if isDuplicate(err) { // issued concurrently for the same order; the sequence rolled back with us
		existing, err := s.InvoiceForOrder(ctx, orderID)
		return existing, false, err
	}
	return inv, err == nil, err
}

// merchantInvoice records the invoice a merchant of record (Paddle) issued
// for an order: its number, the amount paid and the line, outside
// licenseflow's own series and without a PDF (the buyer has the
// merchant's). Tax is the merchant's business, so none is computed.
func merchantInvoice(o models.Order, description string, issuedAt time.Time) models.Invoice {
	number := o.ProviderInvoiceNumber
	if number == "" { // a transaction the merchant issued no number for
		number = o.ProviderPaymentID
	}
	c := o.Customer
	return models.Invoice{
		Number: models.Clip(number, 32), Year: issuedAt.Year(), OrderID: o.ID, LicenseID: o.LicenseID,
		CustomerID: o.CustomerID, BillTo: billTo(c),
		Lines:         models.JSONValue[[]models.InvoiceLine]{V: []models.InvoiceLine{{Description: description, Quantity: 1, UnitCents: o.AmountCents, TotalCents: o.AmountCents}}},
		SubtotalCents: o.AmountCents, TotalCents: o.AmountCents, Currency: o.Currency,
		CustomerCountry: c.Country, CustomerVATID: c.VATID, Status: models.InvoiceIssued,
		IssuedBy: o.PaymentProvider, IssuedAt: issuedAt,
	}
}

// Gapless yearly series, one row per year in their table.
const (
	invoiceSeries    = "invoice_sequences"
	creditNoteSeries = "credit_note_sequences"
)

// nextInSeries takes the next number of a series for year, inside the
// caller's transaction: a number rolled back with it is taken again, so
// the series has no gaps. The UPDATE takes the row lock on PostgreSQL
// (SQLite serializes writers), so the read after it sees this increment
// and nobody else's.
func (s *Store) nextInSeries(series string, year int) (int, error) {
	if err := s.db.Exec("INSERT INTO "+series+" (year, last) VALUES (?, 0) ON CONFLICT (year) DO NOTHING", year).Error; err != nil {
		return 0, err
	}
	if err := s.db.Exec("UPDATE "+series+" SET last = last + 1 WHERE year = ?", year).Error; err != nil {
		return 0, err
	}
	var last int
	err := s.db.Raw("SELECT last FROM "+series+" WHERE year = ?", year).Scan(&last).Error
	return last, err
}

func billTo(c models.Customer) string {
	parts := []string{}
	for _, s := range []string{c.Name, c.Company, c.Email} {
		if strings.TrimSpace(s) != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n")
}

// orderDescription is what an order's one invoice line says: an add-on
// names its product, a purchase or renewal its tier, term and domains.
func (s *Store) orderDescription(ctx context.Context, o models.Order) (string, error) {
	if o.Kind == models.OrderAddon {
		p, err := s.GetProduct(ctx, o.Product)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s add-on, for the license's lifetime (license %s)", p.Name, o.LicenseID), nil
	}
	t, err := s.GetTier(ctx, o.TierKey)
	if err != nil {
		return "", err
	}
	var what string
	switch {
	case o.Lifetime:
		what = "lifetime license"
	case o.Months == 1:
		what = "1 month"
	default:
		what = fmt.Sprintf("%d months", o.Months)
	}
	kind := "license"
	if o.Kind == models.OrderRenewal {
		kind = "renewal"
	}
	return fmt.Sprintf("%s %s, %s, up to %d domains (license %s)", t.Name, kind, what, o.MaxDomains, o.LicenseID), nil
}

// InvoiceForOrder finds the invoice of an order.
func (s *Store) InvoiceForOrder(ctx context.Context, orderID string) (models.Invoice, error) {
	var inv models.Invoice
	err := s.with(ctx).First(&inv, "order_id = ?", orderID).Error
	if isNotFound(err) {
		return inv, models.NotFound("invoice_not_found", "order %q has no invoice yet", orderID)
	}
	return inv, err
}

// GetInvoice finds an invoice by number.
func (s *Store) GetInvoice(ctx context.Context, number string) (models.Invoice, error) {
	var inv models.Invoice
	err := s.with(ctx).First(&inv, "number = ?", number).Error
	if isNotFound(err) {
		return inv, models.NotFound("invoice_not_found", "invoice %q does not exist", number)
	}
	return inv, err
}

// ListInvoices lists a license's invoices, oldest first, without their PDFs.
func (s *Store) ListInvoices(ctx context.Context, licenseID string) ([]models.Invoice, error) {
	var out []models.Invoice
	return out, s.with(ctx).Omit("PDF").Where("license_id = ?", licenseID).Order("issued_at, id").Find(&out).Error
}
