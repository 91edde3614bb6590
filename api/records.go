package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
)

// licenseEmails lists the outbox messages of one license, newest first.
func (s *server) licenseEmails(c *gin.Context) {
	l, err := s.Store.GetLicense(c.Request.Context(), c.Param("id"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	msgs, err := s.Store.ListEmails(c.Request.Context(), models.EmailFilter{LicenseID: l.ID, Template: c.Query("template"), Limit: 200})
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, pageOf(msgs, emailView))
}

// listEmails is the outbox, for operators.
func (s *server) listEmails(c *gin.Context) {
	limit := 100
	if l, err := strconv.Atoi(c.Query("limit")); err == nil && l > 0 && l <= 500 {
		limit = l
	}
	msgs, err := s.Store.ListEmails(c.Request.Context(), models.EmailFilter{
		LicenseID: c.Query("license_id"), To: c.Query("to"), Template: c.Query("template"), Limit: limit,
	})
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, pageOf(msgs, emailView))
}

func (s *server) licenseInvoices(c *gin.Context) {
	l, err := s.Store.GetLicense(c.Request.Context(), c.Param("id"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	invs, err := s.Store.ListInvoices(c.Request.Context(), l.ID)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, pageOf(invs, invoiceView))
}

func (s *server) getInvoice(c *gin.Context) {
	inv, err := s.Store.GetInvoice(c.Request.Context(), c.Param("number"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, invoiceView(inv))
}

func (s *server) invoicePDF(c *gin.Context) {
	inv, err := s.Store.GetInvoice(c.Request.Context(), c.Param("number"))
	if err == nil {
		err = inv.CheckPDF()
	}
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+inv.Number+`.pdf"`)
	c.Data(http.StatusOK, "application/pdf", inv.PDF)
}

func (s *server) getOrder(c *gin.Context) {
	o, err := s.Store.GetOrder(c.Request.Context(), c.Param("id"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, orderView(o))
}

// licenseUsage summarizes a license's site traffic: counts by kind and
// day, and when each domain was last seen (default: the last 30 days).
func (s *server) licenseUsage(c *gin.Context) {
	l, err := s.Store.GetLicense(c.Request.Context(), c.Param("id"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	days := 30
	if d, err := strconv.Atoi(c.Query("days")); err == nil && d > 0 && d <= 3650 {
		days = d
	}
	u, err := s.Store.UsageSince(c.Request.Context(), l.ID, s.Now().AddDate(0, 0, -days))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, u)
}

// licenseActivations lists a license's domains.
func (s *server) licenseActivations(c *gin.Context) {
	l, err := s.Store.GetLicense(c.Request.Context(), c.Param("id"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	acts, err := s.Store.ListActivations(c.Request.Context(), l.ID)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, pageOf(acts, activationView))
}
