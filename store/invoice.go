package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm/clause"

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
		line, err := tx.orderLine(ctx, order)
		if err != nil {
			return err
		}
		c := order.Customer
		quote, err := tax.Quote(order.AmountCents, order.AmountIncludesTax || tax.PricesIncludeTax,
			models.TaxBuyer{Country: c.Country, VATID: c.VATID, StripeTaxCents: order.StripeTaxCents})
		if err != nil {
			return err
		}
		issuedAt = models.Instant(issuedAt)
		year := issuedAt.Year()
		seq, err := tx.nextInvoiceSequence(ctx, year)
		if err != nil {
			return err
		}
		inv = models.Invoice{
			Number: models.InvoiceNumber(year, seq), Year: year, Sequence: seq, OrderID: order.ID,
			LicenseID: order.LicenseID, CustomerID: order.CustomerID, BillTo: billTo(c),
			Lines:         models.JSONValue[[]models.InvoiceLine]{V: []models.InvoiceLine{line(quote.SubtotalCents)}},
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

func (s *Store) nextInvoiceSequence(ctx context.Context, year int) (int, error) {
	if err := s.db.Clauses(clause.OnConflict{DoNothing: true}).Create(&models.InvoiceSequence{Year: year}).Error; err != nil {
		return 0, err
	}
	// The UPDATE takes the row lock on PostgreSQL (SQLite serializes writers),
	// so the read below sees our own increment and nobody else's.
	if err := s.db.Exec("UPDATE invoice_sequences SET last = last + 1 WHERE year = ?", year).Error; err != nil {
		return 0, err
	}
	var seq models.InvoiceSequence
	err := s.db.First(&seq, "year = ?", year).Error
	return seq.Last, err
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

// orderLine is the invoice line an order is billed as, for its net amount:
// an add-on names its product, a purchase or renewal its tier and term.
func (s *Store) orderLine(ctx context.Context, o models.Order) (func(net int64) models.InvoiceLine, error) {
	if o.Kind == models.OrderAddon {
		p, err := s.GetProduct(ctx, o.Product)
		if err != nil {
			return nil, err
		}
		return func(net int64) models.InvoiceLine {
			return models.InvoiceLine{Description: fmt.Sprintf("%s add-on, for the license's lifetime (license %s)", p.Name, o.LicenseID),
				Quantity: 1, UnitCents: net, TotalCents: net}
		}, nil
	}
	t, err := s.GetTier(ctx, o.TierKey)
	if err != nil {
		return nil, err
	}
	return func(net int64) models.InvoiceLine { return invoiceLine(o, t, net) }, nil
}

// invoiceLine is a purchase's or renewal's one line at its net amount.
func invoiceLine(o models.Order, t models.Tier, net int64) models.InvoiceLine {
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
	return models.InvoiceLine{
		Description: fmt.Sprintf("%s %s, %s, up to %d domains (license %s)", t.Name, kind, what, o.MaxDomains, o.LicenseID),
		Quantity:    1, UnitCents: net, TotalCents: net,
	}
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
