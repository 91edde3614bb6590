package models

import (
	"fmt"
	"time"
)

// CreditNote takes back all or part of an invoice (a refund). Its numbers
// are a gapless series of their own per calendar year (CN-2026-000001).
// Amounts are what is credited, positive here; the PDF shows them negative.
type CreditNote struct {
	ID            uint   `gorm:"primaryKey" json:"-"`
	Number        string `gorm:"size:32;not null;uniqueIndex" json:"number"`
	Year          int    `gorm:"not null" json:"year"`
	Sequence      int    `gorm:"not null" json:"sequence"`
	InvoiceID     uint   `gorm:"not null;index" json:"-"`
	InvoiceNumber string `gorm:"size:32;not null;index" json:"invoice_number"`
	OrderID       string `gorm:"size:128;not null" json:"order_id"`
	LicenseID     string `gorm:"size:64;not null;index" json:"license_id"`
	CustomerID    string `gorm:"size:64;not null;index" json:"customer_id"`
	BillTo        string `gorm:"size:600;not null" json:"bill_to"`
	SubtotalCents int64  `gorm:"not null" json:"subtotal_cents"`
	TaxCents      int64  `gorm:"not null" json:"tax_cents"`
	TotalCents    int64  `gorm:"not null" json:"total_cents"`
	Currency      string `gorm:"size:3;not null" json:"currency"`
	// TaxRateBP and TaxNotice repeat the invoice's.
	TaxRateBP int    `gorm:"not null" json:"tax_rate_bp"`
	TaxNotice string `gorm:"size:200;not null" json:"tax_notice,omitempty"`
	Reason    string `gorm:"size:500;not null" json:"reason"`
	// Source makes issuing idempotent: "stripe:<event id>" or
	// "paypal:<event id>" for a provider's refund, "manual:<number>" for an
	// operator's.
	Source string `gorm:"size:160;not null;uniqueIndex" json:"source"`
	// RefundedPaymentID is the refunded Stripe charge or PayPal capture
	// (the providers report what was refunded cumulatively per payment:
	// each note credits the newly refunded part). The column keeps the
	// name it had when Stripe was the only provider.
	RefundedPaymentID string    `gorm:"column:stripe_charge_id;size:100;not null;index" json:"stripe_charge_id,omitempty"`
	Actor             string    `gorm:"size:320;not null" json:"actor"`
	IssuedAt          time.Time `gorm:"not null" json:"issued_at"`
	PDF               []byte    `json:"-"`
	CreatedAt         time.Time `json:"created_at"`
}

// CreditNoteNumber formats a year and sequence as a credit-note number.
func CreditNoteNumber(year, seq int) string { return fmt.Sprintf("CN-%d-%06d", year, seq) }

// CreditNoteSequence is InvoiceSequence's twin for credit notes.
type CreditNoteSequence struct {
	Year int `gorm:"primaryKey;autoIncrement:false"`
	Last int `gorm:"not null"`
}

// LedgerCreditNote is the ledger action of a credit note on a license.
const LedgerCreditNote = "credit-note"

// CreditRequest asks for a credit note on an invoice.
type CreditRequest struct {
	InvoiceNumber string
	// AmountCents is what to credit, tax included; with Full, the rest of
	// the invoice is credited whatever AmountCents says.
	AmountCents int64
	Full        bool
	Reason      string
	// Source is the idempotency key ("" for an operator's note).
	Source string
	// RefundedPaymentID is the refunded charge or capture; RefundedCents
	// is what was refunded of it so far (cumulative): the note credits
	// what is new since the payment's earlier notes.
	RefundedPaymentID string
	RefundedCents     int64
	Actor             string
}

// CreditSplit splits a credit of amount (tax included) of an invoice into
// net and tax, proportionally to the invoice. The split is cumulative:
// the tax credited so far plus this note's is round(invoice tax ×
// credited total / invoice total), half away from zero, so notes that
// together credit the whole invoice take back its tax and net exactly.
func CreditSplit(inv Invoice, creditedBefore, taxBefore, amount int64) (subtotal, tax int64) {
	if inv.TotalCents <= 0 {
		return amount, 0
	}
	taxAfter := MulDivRound(inv.TaxCents, creditedBefore+amount, inv.TotalCents)
	tax = taxAfter - taxBefore
	return amount - tax, tax
}
