package models

import (
	"fmt"
	"time"
)

// InvoiceLine is one billed item; its amounts are net of tax.
type InvoiceLine struct {
	Description string `json:"description"`
	Quantity    int    `json:"quantity"`
	UnitCents   int64  `json:"unit_cents"`
	TotalCents  int64  `json:"total_cents"`
}

// Invoice is the bill for one paid order. Numbers are gapless per calendar
// year (INV-2026-000042) and never reused. SubtotalCents (the lines) plus
// TaxCents is TotalCents, to the cent.
type Invoice struct {
	ID            uint                     `gorm:"primaryKey" json:"-"`
	Number        string                   `gorm:"size:32;not null;uniqueIndex" json:"number"`
	Year          int                      `gorm:"not null" json:"year"`
	Sequence      int                      `gorm:"not null" json:"sequence"`
	OrderID       string                   `gorm:"size:128;not null;uniqueIndex" json:"order_id"`
	LicenseID     string                   `gorm:"size:64;not null;index" json:"license_id"`
	CustomerID    string                   `gorm:"size:64;not null;index" json:"customer_id"`
	BillTo        string                   `gorm:"size:600;not null" json:"bill_to"`
	Lines         JSONValue[[]InvoiceLine] `gorm:"not null" json:"lines"`
	SubtotalCents int64                    `gorm:"not null" json:"subtotal_cents"`
	TaxCents      int64                    `gorm:"not null" json:"tax_cents"`
	TotalCents    int64                    `gorm:"not null" json:"total_cents"`
	Currency      string                   `gorm:"size:3;not null" json:"currency"`
	// The customer's country and VAT ID when the invoice was issued, the
	// rate applied (basis points), why, and the legal notice it carries.
	CustomerCountry string       `gorm:"size:2;not null;default:''" json:"customer_country,omitempty"`
	CustomerVATID   string       `gorm:"size:40;not null;default:''" json:"customer_vat_id,omitempty"`
	TaxRateBP       int          `gorm:"not null;default:0" json:"tax_rate_bp"`
	TaxTreatment    TaxTreatment `gorm:"size:24;not null;default:''" json:"tax_treatment,omitempty"`
	TaxNotice       string       `gorm:"size:200;not null;default:''" json:"tax_notice,omitempty"`
	// CreditedCents is what credit notes have taken back (tax included).
	CreditedCents int64  `gorm:"not null;default:0" json:"credited_cents"`
	Status        string `gorm:"size:24;not null" json:"status"`
	// IssuedBy is the merchant of record that issued the invoice (paddle),
	// "" for licenseflow's own: such an invoice is recorded by its number,
	// outside licenseflow's series and without a PDF.
	IssuedBy  PaymentProvider `gorm:"size:16;not null;default:''" json:"issued_by,omitempty"`
	IssuedAt  time.Time       `gorm:"not null" json:"issued_at"`
	PDF       []byte          `json:"-"`
	CreatedAt time.Time       `json:"created_at"`
}

// CheckPDF says why an invoice has no PDF here: a merchant of record
// (Paddle) issued it and sent the buyer its own.
func (i Invoice) CheckPDF() error {
	if i.IssuedBy == "" {
		return nil
	}
	return NotFound("invoice_pdf_elsewhere", "invoice %s was issued by %s, the merchant of record, which sent the buyer its PDF", i.Number, i.IssuedBy.Title())
}

// Invoice statuses: issued, then partially credited or credited as credit
// notes take amounts back.
const (
	InvoiceIssued            = "issued"
	InvoicePartiallyCredited = "partially_credited"
	InvoiceCredited          = "credited"
)

// InvoiceNumber formats a year and sequence as an invoice number.
func InvoiceNumber(year, seq int) string { return fmt.Sprintf("INV-%d-%06d", year, seq) }

// InvoiceSequence holds the last number used in a year; incrementing it in
// the invoice's own transaction keeps numbering gapless under concurrency.
type InvoiceSequence struct {
	Year int `gorm:"primaryKey;autoIncrement:false"`
	Last int `gorm:"not null"`
}

// FormatMoney formats minor units with the currency code, e.g. "149.00 EUR".
func FormatMoney(cents int64, currency string) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, cents/100, cents%100, currency)
}
