// Package invoicepdf lays out invoices and credit notes as PDF documents.
package invoicepdf

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/licenseflow/licenseflow/models"
)

// Seller is who issues the invoice.
type Seller struct {
	Name    string
	Address string // may span lines
	// Country is the seller's ISO 3166 country (printed after the address).
	Country string
	VATID   string
	Email   string
}

// compress is off in tests that read the text of a document.
var compress = true

// document is what an invoice and a credit note share on paper.
type document struct {
	title    string
	number   string
	issuedAt time.Time
	billTo   string
	lines    []models.InvoiceLine
	currency string
	totals   []total
	notes    []string
}

type total struct {
	label string
	cents int64
	bold  bool
}

// Render returns the invoice as a PDF. The same invoice always renders to
// the same bytes (creation date = issue date, sorted catalog), so a stored
// invoice can be verified by rendering it again.
func Render(inv models.Invoice, seller Seller) ([]byte, error) {
	d := document{
		title: "Invoice", number: inv.Number, issuedAt: inv.IssuedAt, billTo: billTo(inv.BillTo, inv.CustomerCountry, inv.CustomerVATID),
		lines: inv.Lines.V, currency: inv.Currency,
		totals: []total{{"Subtotal", inv.SubtotalCents, false}, {taxLabel(inv.TaxRateBP, inv.TaxTreatment), inv.TaxCents, false},
			{"Total", inv.TotalCents, true}},
	}
	if inv.TaxNotice != "" {
		d.notes = append(d.notes, inv.TaxNotice+".")
	}
	d.notes = append(d.notes, fmt.Sprintf("Paid in full. Order %s, license %s.", inv.OrderID, inv.LicenseID))
	return d.render(seller)
}

// RenderCreditNote returns a credit note as a PDF: it names the invoice it
// credits and shows the amounts taken back as negative.
func RenderCreditNote(cn models.CreditNote, inv models.Invoice, seller Seller) ([]byte, error) {
	d := document{
		title: "Credit note", number: cn.Number, issuedAt: cn.IssuedAt, billTo: billTo(cn.BillTo, inv.CustomerCountry, inv.CustomerVATID),
		lines: []models.InvoiceLine{{
			Description: fmt.Sprintf("Credit on invoice %s of %s", cn.InvoiceNumber, inv.IssuedAt.UTC().Format("2 January 2006")),
			Quantity:    1, UnitCents: -cn.SubtotalCents, TotalCents: -cn.SubtotalCents,
		}},
		currency: cn.Currency,
		totals: []total{{"Subtotal", -cn.SubtotalCents, false}, {taxLabel(cn.TaxRateBP, inv.TaxTreatment), -cn.TaxCents, false},
			{"Total credited", -cn.TotalCents, true}},
	}
	d.notes = append(d.notes, fmt.Sprintf("This credit note cancels %s of invoice %s (total %s).",
		models.FormatMoney(cn.TotalCents, cn.Currency), cn.InvoiceNumber, models.FormatMoney(inv.TotalCents, inv.Currency)))
	if cn.Reason != "" {
		d.notes = append(d.notes, "Reason: "+cn.Reason)
	}
	if cn.TaxNotice != "" {
		d.notes = append(d.notes, cn.TaxNotice+".")
	}
	d.notes = append(d.notes, fmt.Sprintf("Order %s, license %s.", cn.OrderID, cn.LicenseID))
	return d.render(seller)
}

func (d document) render(seller Seller) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(compress)
	pdf.SetCreationDate(d.issuedAt)
	pdf.SetModificationDate(d.issuedAt)
	pdf.SetCatalogSort(true)
	pdf.SetTitle(d.title+" "+d.number, true)
	pdf.SetAuthor(seller.Name, true)
	pdf.SetMargins(20, 20, 20)
	pdf.AddPage()
	tr := pdf.UnicodeTranslatorFromDescriptor("") // cp1252: accents in names survive

	pdf.SetFont("Helvetica", "B", 20)
	pdf.CellFormat(0, 10, tr(d.title), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pdf.SetTextColor(80, 80, 80)
	pdf.CellFormat(0, 5, tr(fmt.Sprintf("Number %s   ·   Issued %s", d.number, d.issuedAt.UTC().Format("2 January 2006"))), "", 1, "L", false, 0, "")
	pdf.Ln(8)

	pdf.SetTextColor(0, 0, 0)
	top := pdf.GetY()
	pdf.SetFont("Helvetica", "B", 10)
	pdf.CellFormat(85, 5, tr("From"), "", 2, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pdf.MultiCell(85, 5, tr(joinLines(seller.Name, seller.Address, seller.Country, seller.Email, vat(seller.VATID))), "", "L", false)
	pdf.SetXY(110, top)
	pdf.SetFont("Helvetica", "B", 10)
	pdf.CellFormat(80, 5, tr("Bill to"), "", 2, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pdf.SetX(110)
	pdf.MultiCell(80, 5, tr(d.billTo), "", "L", false)
	pdf.SetY(max(pdf.GetY(), top+30) + 8)

	pdf.SetFillColor(240, 242, 245)
	pdf.SetFont("Helvetica", "B", 10)
	pdf.CellFormat(110, 8, tr("Description"), "B", 0, "L", true, 0, "")
	pdf.CellFormat(15, 8, tr("Qty"), "B", 0, "R", true, 0, "")
	pdf.CellFormat(45, 8, tr("Amount"), "B", 1, "R", true, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	for _, line := range d.lines {
		y := pdf.GetY()
		pdf.MultiCell(110, 6, tr(line.Description), "", "L", false)
		next := pdf.GetY()
		pdf.SetXY(130, y)
		pdf.CellFormat(15, 6, fmt.Sprint(line.Quantity), "", 0, "R", false, 0, "")
		pdf.CellFormat(45, 6, tr(models.FormatMoney(line.TotalCents, d.currency)), "", 1, "R", false, 0, "")
		pdf.SetY(next + 2)
	}
	pdf.Ln(2)
	for _, t := range d.totals {
		style := ""
		if t.bold {
			style = "B"
		}
		pdf.SetFont("Helvetica", style, 10)
		pdf.SetX(100)
		pdf.CellFormat(45, 7, tr(t.label), "T", 0, "L", false, 0, "")
		pdf.CellFormat(45, 7, tr(models.FormatMoney(t.cents, d.currency)), "T", 1, "R", false, 0, "")
	}

	pdf.Ln(12)
	pdf.SetFont("Helvetica", "", 9)
	pdf.SetTextColor(90, 90, 90)
	for _, n := range d.notes {
		pdf.MultiCell(0, 5, tr(n), "", "L", false)
	}

	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("render %s %s: %w", strings.ToLower(d.title), d.number, err)
	}
	return buf.Bytes(), nil
}

// taxLabel names the tax line: "VAT 19%", "VAT 0% (reverse charge)".
func taxLabel(bp int, t models.TaxTreatment) string {
	switch t {
	case models.TaxReverseCharge:
		return "VAT 0% (reverse charge)"
	case models.TaxOutsideEU:
		return "VAT 0% (outside the EU)"
	case models.TaxStripe:
		return "Tax"
	case models.TaxNotConfigured:
		return "Tax"
	}
	return "VAT " + models.FormatRate(bp)
}

// billTo adds the customer's country and VAT ID to the address block.
func billTo(address, country, vatID string) string {
	return joinLines(address, country, vat(vatID))
}

func vat(id string) string {
	if id == "" {
		return ""
	}
	return "VAT ID " + id
}

func joinLines(parts ...string) string {
	var out []string
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			out = append(out, strings.TrimSpace(p))
		}
	}
	return strings.Join(out, "\n")
}
