package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
)

// CreditInvoiceRequest credits an invoice for a refund made outside Stripe.
type CreditInvoiceRequest struct {
	// AmountCents is what is refunded, tax included; omit it with full.
	AmountCents int64 `json:"amount_cents"`
	// Full credits whatever is left of the invoice.
	Full   bool   `json:"full"`
	Reason string `json:"reason"`
}

// CreditNoteView is a credit note without its PDF (GET …/pdf has that).
// Amounts are what is credited (positive); the PDF shows them negative.
type CreditNoteView struct {
	Number            string    `json:"number"`
	InvoiceNumber     string    `json:"invoice_number"`
	OrderID           string    `json:"order_id"`
	LicenseID         string    `json:"license_id"`
	CustomerID        string    `json:"customer_id"`
	SubtotalCents     int64     `json:"subtotal_cents"`
	TaxCents          int64     `json:"tax_cents"`
	TotalCents        int64     `json:"total_cents"`
	Currency          string    `json:"currency"`
	TaxRateBP         int       `json:"tax_rate_bp"`
	Reason            string    `json:"reason"`
	RefundedPaymentID string    `json:"stripe_charge_id,omitempty"`
	Actor             string    `json:"actor"`
	IssuedAt          time.Time `json:"issued_at"`
}

func creditNoteView(cn models.CreditNote) CreditNoteView {
	return CreditNoteView{
		Number: cn.Number, InvoiceNumber: cn.InvoiceNumber, OrderID: cn.OrderID, LicenseID: cn.LicenseID, CustomerID: cn.CustomerID,
		SubtotalCents: cn.SubtotalCents, TaxCents: cn.TaxCents, TotalCents: cn.TotalCents, Currency: cn.Currency,
		TaxRateBP: cn.TaxRateBP, Reason: cn.Reason, RefundedPaymentID: cn.RefundedPaymentID, Actor: cn.Actor, IssuedAt: cn.IssuedAt,
	}
}

// creditInvoice issues a credit note (admin scope: it is money). 201 with
// the note; more than is left of the invoice is a 409 and issues nothing.
func (s *server) creditInvoice(c *gin.Context) {
	var req CreditInvoiceRequest
	if err := httpx.Decode(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	reason := strings.TrimSpace(req.Reason)
	if reason == "" {
		httpx.Fail(c, httpx.Invalid("missing_reason", "reason", "reason is required: say why the invoice is credited (it is printed on the credit note)"))
		return
	}
	if err := checkLines(line{"reason", reason, models.MaxReasonLength}); err != nil {
		httpx.Fail(c, err)
		return
	}
	if req.Full == (req.AmountCents != 0) {
		httpx.Fail(c, httpx.Invalid("invalid_amount", "amount_cents", "give amount_cents (more than 0, tax included) or full: true, not both"))
		return
	}
	if req.AmountCents < 0 {
		httpx.Fail(c, httpx.Invalid("invalid_amount", "amount_cents", "amount_cents must be more than 0: it is what is refunded, tax included"))
		return
	}
	if s.RenderCreditNote == nil {
		httpx.Fail(c, httpx.NewError(http.StatusServiceUnavailable, "credit_notes_unavailable", "", "this server cannot lay out credit notes"))
		return
	}
	ctx := c.Request.Context()
	cn, _, err := s.Store.IssueCreditNote(ctx, models.CreditRequest{
		InvoiceNumber: c.Param("number"), AmountCents: req.AmountCents, Full: req.Full, Reason: reason,
		Actor: models.ActorFrom(ctx),
	}, s.Now(), s.RenderCreditNote)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	if cn.Number == "" {
		httpx.Fail(c, httpx.NewError(http.StatusConflict, "invoice_credited", "", "invoice "+c.Param("number")+" is credited in full already"))
		return
	}
	c.Header("Location", "/api/v1/credit-notes/"+cn.Number)
	c.JSON(http.StatusCreated, creditNoteView(cn))
}

func (s *server) invoiceCreditNotes(c *gin.Context) {
	inv, err := s.Store.GetInvoice(c.Request.Context(), c.Param("number"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	notes, err := s.Store.InvoiceCreditNotes(c.Request.Context(), inv.Number)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, pageOf(notes, creditNoteView))
}

func (s *server) licenseCreditNotes(c *gin.Context) {
	l, err := s.Store.GetLicense(c.Request.Context(), c.Param("id"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	notes, err := s.Store.LicenseCreditNotes(c.Request.Context(), l.ID)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, pageOf(notes, creditNoteView))
}

func (s *server) getCreditNote(c *gin.Context) {
	cn, err := s.Store.GetCreditNote(c.Request.Context(), c.Param("number"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, creditNoteView(cn))
}

func (s *server) creditNotePDF(c *gin.Context) {
	cn, err := s.Store.GetCreditNote(c.Request.Context(), c.Param("number"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+cn.Number+`.pdf"`)
	c.Data(http.StatusOK, "application/pdf", cn.PDF)
}
