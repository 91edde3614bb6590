// Package invoicepdf lays out an invoice as a PDF document.
package invoicepdf

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/go-pdf/fpdf"

	"github.com/licenseflow/licenseflow/models"
)

// Seller is who issues the invoice.
type Seller struct {
	Name    string
	Address string // may span lines
	VATID   string
	Email   string
}

// Render returns the invoice as a PDF. The same invoice always renders to
// the same bytes (creation date = issue date, sorted catalog), so a stored
// invoice can be verified by rendering it again.
func Render(inv models.Invoice, seller Seller) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(inv.IssuedAt)
	pdf.SetModificationDate(inv.IssuedAt)
	pdf.SetCatalogSort(true)
	pdf.SetTitle("Invoice "+inv.Number, true)
	pdf.SetAuthor(seller.Name, true)
	pdf.SetMargins(20, 20, 20)
	pdf.AddPage()
	tr := pdf.UnicodeTranslatorFromDescriptor("") // cp1252: accents in names survive

	pdf.SetFont("Helvetica", "B", 20)
	pdf.CellFormat(0, 10, tr("Invoice"), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pdf.SetTextColor(80, 80, 80)
	pdf.CellFormat(0, 5, tr(fmt.Sprintf("Number %s   ·   Issued %s", inv.Number, inv.IssuedAt.UTC().Format("2 January 2006"))), "", 1, "L", false, 0, "")
	pdf.Ln(8)

	pdf.SetTextColor(0, 0, 0)
	top := pdf.GetY()
	pdf.SetFont("Helvetica", "B", 10)
	pdf.CellFormat(85, 5, tr("From"), "", 2, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pdf.MultiCell(85, 5, tr(joinLines(seller.Name, seller.Address, seller.Email, vat(seller.VATID))), "", "L", false)
	pdf.SetXY(110, top)
	pdf.SetFont("Helvetica", "B", 10)
	pdf.CellFormat(80, 5, tr("Bill to"), "", 2, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pdf.SetX(110)
	pdf.MultiCell(80, 5, tr(inv.BillTo), "", "L", false)
	pdf.SetY(max(pdf.GetY(), top+30) + 8)

	pdf.SetFillColor(240, 242, 245)
	pdf.SetFont("Helvetica", "B", 10)
	pdf.CellFormat(110, 8, tr("Description"), "B", 0, "L", true, 0, "")
	pdf.CellFormat(15, 8, tr("Qty"), "B", 0, "R", true, 0, "")
	pdf.CellFormat(45, 8, tr("Amount"), "B", 1, "R", true, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	for _, line := range inv.Lines.V {
		y := pdf.GetY()
		pdf.MultiCell(110, 6, tr(line.Description), "", "L", false)
		next := pdf.GetY()
		pdf.SetXY(130, y)
		pdf.CellFormat(15, 6, fmt.Sprint(line.Quantity), "", 0, "R", false, 0, "")
		pdf.CellFormat(45, 6, tr(models.FormatMoney(line.TotalCents, inv.Currency)), "", 1, "R", false, 0, "")
		pdf.SetY(next + 2)
	}
	pdf.Ln(2)
	total := func(label string, cents int64, bold bool) {
		style := ""
		if bold {
			style = "B"
		}
		pdf.SetFont("Helvetica", style, 10)
		pdf.SetX(110)
		pdf.CellFormat(35, 7, tr(label), "T", 0, "L", false, 0, "")
		pdf.CellFormat(45, 7, tr(models.FormatMoney(cents, inv.Currency)), "T", 1, "R", false, 0, "")
	}
	total("Subtotal", inv.SubtotalCents, false)
	total("Tax", inv.TaxCents, false)
	total("Total", inv.TotalCents, true)

	pdf.Ln(12)
	pdf.SetFont("Helvetica", "", 9)
	pdf.SetTextColor(90, 90, 90)
	pdf.MultiCell(0, 5, tr(fmt.Sprintf("Paid in full. Order %s, license %s.", inv.OrderID, inv.LicenseID)), "", "L", false)

	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("render invoice %s: %w", inv.Number, err)
	}
	return buf.Bytes(), nil
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
