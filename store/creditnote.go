package store

import (
	"context"
	"fmt"
	"time"

	"github.com/licenseflow/licenseflow/models"
)

// IssueCreditNote credits all or part of an invoice, tax included, with a
// number from the credit notes' own gapless series. In one transaction it
// locks the invoice, refuses more than is left to credit, splits the
// amount into net and tax (models.CreditSplit), renders the PDF, writes the
// note, the invoice's credited amount and status, and a line on the
// license's ledger. A request whose Source was issued before returns that
// note (created=false): a redelivered Stripe event issues nothing new. A
// Stripe refund credits its charge's newly refunded amount; when nothing
// is new (an older event arriving late) no note is issued and a zero
// CreditNote is returned with created=false.
func (s *Store) IssueCreditNote(ctx context.Context, r models.CreditRequest, issuedAt time.Time, render func(models.CreditNote, models.Invoice) ([]byte, error)) (cn models.CreditNote, created bool, err error) {
	if r.Source != "" {
		if existing, err := s.creditNoteBySource(ctx, r.Source); err == nil {
			return existing, false, nil
		}
	}
	if !r.Full && r.RefundedPaymentID == "" && r.AmountCents <= 0 {
		return cn, false, models.Invalid("invalid_amount", "amount_cents", "amount_cents must be more than 0")
	}
	nothing := false
	err = s.transaction(ctx, func(tx *Store) error {
		// The UPDATE takes the invoice's row lock on PostgreSQL (SQLite
		// serializes writers): concurrent notes on one invoice queue here,
		// and each sees what the others credited.
		res := tx.db.Exec("UPDATE invoices SET credited_cents = credited_cents WHERE number = ?", r.InvoiceNumber)
		if res.Error != nil {
			return res.Error
		}
		inv, err := tx.GetInvoice(ctx, r.InvoiceNumber)
		if err != nil {
			return err
		}
		left := inv.TotalCents - inv.CreditedCents
		amount := r.AmountCents
		if r.RefundedPaymentID != "" {
			var before int64
			if err := tx.db.Model(&models.CreditNote{}).Where("stripe_charge_id = ? AND invoice_id = ?", r.RefundedPaymentID, inv.ID).
				Select("COALESCE(SUM(total_cents), 0)").Scan(&before).Error; err != nil {
				return err
			}
			amount = min(r.RefundedCents-before, left)
		}
		if r.Full {
			amount = left
		}
		switch {
		case amount <= 0 && (r.Full || r.RefundedPaymentID != ""):
			nothing = true // already credited: the refund is accounted for
			return nil
		case amount > left:
			return models.Conflict("credit_exceeds_invoice", "invoice %s has %s left to credit (of %s); a credit note for %s would exceed it",
				inv.Number, models.FormatMoney(left, inv.Currency), models.FormatMoney(inv.TotalCents, inv.Currency), models.FormatMoney(amount, inv.Currency))
		}
		var taxBefore int64
		if err := tx.db.Model(&models.CreditNote{}).Where("invoice_id = ?", inv.ID).
			Select("COALESCE(SUM(tax_cents), 0)").Scan(&taxBefore).Error; err != nil {
			return err
		}
		net, tax := models.CreditSplit(inv, inv.CreditedCents, taxBefore, amount)
		issuedAt = models.Instant(issuedAt)
		year := issuedAt.Year()
		seq, err := tx.nextInSeries(creditNoteSeries, year)
		if err != nil {
			return err
		}
		cn = models.CreditNote{
			Number: models.CreditNoteNumber(year, seq), Year: year, Sequence: seq, InvoiceID: inv.ID, InvoiceNumber: inv.Number,
			OrderID: inv.OrderID, LicenseID: inv.LicenseID, CustomerID: inv.CustomerID, BillTo: inv.BillTo,
			SubtotalCents: net, TaxCents: tax, TotalCents: amount, Currency: inv.Currency, TaxRateBP: inv.TaxRateBP,
			TaxNotice: inv.TaxNotice, Reason: r.Reason, Source: r.Source, RefundedPaymentID: r.RefundedPaymentID,
			Actor: r.Actor, IssuedAt: issuedAt,
		}
		if cn.Source == "" {
			cn.Source = "manual:" + cn.Number
		}
		if cn.PDF, err = render(cn, inv); err != nil {
			return fmt.Errorf("render credit note %s: %w", cn.Number, err)
		}
		if err := tx.db.Create(&cn).Error; err != nil {
			return err
		}
		credited := inv.CreditedCents + amount
		status := models.InvoicePartiallyCredited
		if credited == inv.TotalCents {
			status = models.InvoiceCredited
		}
		if err := tx.db.Model(&models.Invoice{}).Where("id = ?", inv.ID).
			Updates(map[string]any{"credited_cents": credited, "status": status}).Error; err != nil {
			return err
		}
		return tx.creditNoteLedger(ctx, cn)
	})
	if isDuplicate(err) && r.Source != "" { // the same source issued concurrently; our sequence rolled back
		existing, err := s.creditNoteBySource(ctx, r.Source)
		return existing, false, err
	}
	if err != nil || nothing {
		return models.CreditNote{}, false, err
	}
	return cn, true, nil
}

// creditNoteLedger writes the note's line on its license's ledger. The
// line is the store's own, not a projection's: it takes the license's
// current revision and a negative sequence (minus the note's id), which
// no projection uses.
func (s *Store) creditNoteLedger(ctx context.Context, cn models.CreditNote) error {
	var l models.License
	if err := s.with(ctx).Select("id", "revision").First(&l, "id = ?", cn.LicenseID).Error; err != nil {
		if isNotFound(err) {
			return nil
		}
		return err
	}
	note := fmt.Sprintf("credited %s of invoice %s", models.FormatMoney(cn.TotalCents, cn.Currency), cn.InvoiceNumber)
	if cn.Reason != "" {
		note += ": " + cn.Reason
	}
	actor := cn.Actor
	if actor == "" {
		actor = models.LedgerSystemActor
	}
	return appendLedger(s.db, []models.LicenseEvent{{
		LicenseID: cn.LicenseID, Revision: l.Revision, Seq: -int(cn.ID), At: cn.IssuedAt, Actor: actor,
		Action: models.LedgerCreditNote, Field: "credit_note", New: cn.Number, Note: models.Clip(note, 1000),
	}})
}

func (s *Store) creditNoteBySource(ctx context.Context, source string) (models.CreditNote, error) {
	var cn models.CreditNote
	err := s.with(ctx).First(&cn, "source = ?", source).Error
	if isNotFound(err) {
		return cn, models.NotFound("credit_note_not_found", "no credit note was issued for %s", source)
	}
	return cn, err
}

// GetCreditNote finds a credit note by number.
func (s *Store) GetCreditNote(ctx context.Context, number string) (models.CreditNote, error) {
	var cn models.CreditNote
	err := s.with(ctx).First(&cn, "number = ?", number).Error
	if isNotFound(err) {
		return cn, models.NotFound("credit_note_not_found", "credit note %q does not exist", number)
	}
	return cn, err
}

// InvoiceCreditNotes lists an invoice's credit notes, oldest first, without PDFs.
func (s *Store) InvoiceCreditNotes(ctx context.Context, invoiceNumber string) ([]models.CreditNote, error) {
	var out []models.CreditNote
	return out, s.with(ctx).Omit("PDF").Where("invoice_number = ?", invoiceNumber).Order("id").Find(&out).Error
}

// LicenseCreditNotes lists a license's credit notes, oldest first, without PDFs.
func (s *Store) LicenseCreditNotes(ctx context.Context, licenseID string) ([]models.CreditNote, error) {
	var out []models.CreditNote
	return out, s.with(ctx).Omit("PDF").Where("license_id = ?", licenseID).Order("id").Find(&out).Error
}

// CustomerCreditNotes lists a customer's credit notes (without PDFs), newest first.
func (s *Store) CustomerCreditNotes(ctx context.Context, customerID string) ([]models.CreditNote, error) {
	var out []models.CreditNote
	return out, s.with(ctx).Omit("PDF").Where("customer_id = ?", customerID).Order("issued_at DESC, id DESC").Find(&out).Error
}
