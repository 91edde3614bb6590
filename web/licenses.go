package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/backoffice"
	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
)

// The dashboard's license forms: selling a license by hand (owners, the
// same checks and code as POST /api/v1/licensing/licenses) and managing a
// license's domains (owners and support, the same store calls as the API's
// PATCH {"domains"}).

func (s *server) office() backoffice.Office {
	return backoffice.Office{Store: s.Store, Lifecycle: s.Lifecycle, ReleasesDir: s.ReleasesDir, Now: s.Now}
}

// adminNewLicense shows the new-license form. Its order id is made here,
// so a form sent twice (a double click, a reload) records one order.
func (s *server) adminNewLicense(c *gin.Context) {
	sess, ok := s.operator(c, models.PermLicenseAdmin)
	if !ok {
		return
	}
	s.newLicensePage(c, sess, http.StatusOK, "", url.Values{"order_id": {models.NewOrderID()}})
}

func (s *server) newLicensePage(c *gin.Context, sess models.Session, status int, problem string, form url.Values) {
	tiers, err := s.Store.ListTiers(c.Request.Context(), true)
	if err != nil {
		s.webFail(c, "admin", err)
		return
	}
	s.render(c, status, webPage{Title: "New license", Area: "admin", Template: "admin-new-license", Email: sess.Email, Role: sess.Role,
		CSRF: sess.CSRFToken, Error: problem, Data: gin.H{"Tiers": tiers, "Form": form,
			"Types": []models.LicenseType{models.TypeCommercial, models.TypeTrial, models.TypeCustom}}})
}

// adminCreateLicense sells a license by hand through backoffice, as the API
// does; a problem is shown above the form as it was filled in.
func (s *server) adminCreateLicense(c *gin.Context) {
	sess, ok := s.operator(c, models.PermLicenseAdmin)
	if !ok || !s.checkCSRF(c, "admin", sess.CSRFToken) {
		return
	}
	ctx := models.WithActor(c.Request.Context(), operatorActor(sess))
	form := c.Request.PostForm
	req := backoffice.LicenseRequest{UserEmail: form.Get("user_email"), Tier: form.Get("tier"), OrderID: form.Get("order_id"),
		CustomerName: form.Get("customer_name"), Company: form.Get("company"), Name: form.Get("name"), Type: form.Get("type"),
		Currency: form.Get("currency"), PaymentRef: form.Get("payment_ref"), Domains: splitDomains(form.Get("domains"))}
	problem := firstProblem(
		optionalInt(form.Get("max_domains"), "max_domains", &req.MaxDomains),
		optionalInt(form.Get("expires_months"), "expires_months", &req.ExpiresMonths),
		optionalAmount(form.Get("amount"), &req.AmountCents),
	)
	if problem != "" {
		s.newLicensePage(c, sess, http.StatusUnprocessableEntity, problem, form)
		return
	}
	p, err := s.office().Purchase(ctx, req)
	if err == nil {
		_, l, created, cerr := s.office().CreateLicense(ctx, p)
		switch {
		case cerr == nil && created:
			s.redirectToLicense(c, l.ID, "License created; its workflow is issuing it and emails the key to "+p.Email+".")
			return
		case cerr == nil:
			s.redirectToLicense(c, l.ID, "This form was already sent: this is the license it created.")
			return
		case errors.Is(cerr, backoffice.ErrWorkflowUnavailable):
			httpx.Logger(c).Error("starting license workflow failed", "license", l.ID, "error", cerr)
			s.newLicensePage(c, sess, http.StatusServiceUnavailable,
				"The order is recorded but the workflow service cannot be reached. Send this form again in a minute to finish.", form)
			return
		}
		err = cerr
	}
	if e := httpx.ToError(err); e.Status < 500 {
		s.newLicensePage(c, sess, e.Status, fieldProblem(e), form)
		return
	}
	s.webFail(c, "admin", err)
}

// adminDomains deactivates one domain of a license or sets its list of
// production domains.
func (s *server) adminDomains(c *gin.Context) {
	sess, ok := s.operator(c, models.PermLicenseCare)
	if !ok || !s.checkCSRF(c, "admin", sess.CSRFToken) {
		return
	}
	ctx := models.WithActor(c.Request.Context(), operatorActor(sess))
	l, err := s.Store.GetLicense(ctx, c.Param("id"))
	if err != nil {
		s.webFail(c, "admin", err)
		return
	}
	var notice string
	switch c.PostForm("action") {
	case "deactivate":
		domain := c.PostForm("domain")
		err = s.Store.Deactivate(ctx, l.ID, domain, s.Now())
		notice = "Done: " + domain + " is deactivated; its slot is free."
	case "set":
		var domains []string
		if domains, err = models.NormalizeDomainList(splitDomains(c.PostForm("domains")), l.MaxDomains, "domains"); err == nil {
			err = s.Store.SetDomains(ctx, l.ID, domains, s.Now())
		}
		notice = "Done: the license's domains are " + strings.Join(domains, ", ") + "."
		if len(domains) == 0 {
			notice = "Done: the license has no production domains now."
		}
	default:
		s.webError(c, http.StatusBadRequest, "admin", "Unknown action.")
		return
	}
	if err != nil {
		if e := httpx.ToError(err); e.Status < 500 {
			s.redirectToLicense(c, l.ID, "Not done: "+e.Message)
			return
		}
		s.webFail(c, "admin", err)
		return
	}
	s.redirectToLicense(c, l.ID, notice)
}

// splitDomains reads a comma- or space-separated list of domains.
func splitDomains(raw string) []string {
	return strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' || r == ';' })
}

// optionalInt reads a whole number a form may leave empty.
func optionalInt(raw, field string, into **int) string {
	if raw = strings.TrimSpace(raw); raw == "" {
		return ""
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return field + ": give a whole number, or leave it empty"
	}
	*into = &n
	return ""
}

// optionalAmount reads a price in the currency's major unit (12.50), or
// nothing for the tier's price.
func optionalAmount(raw string, into **int64) string {
	if raw = strings.TrimSpace(raw); raw == "" {
		return ""
	}
	units, cents, _ := strings.Cut(raw, ".")
	u, err1 := strconv.ParseInt(units, 10, 64)
	c, err2 := strconv.ParseInt((cents + "00")[:2], 10, 64)
	if err1 != nil || err2 != nil || len(cents) > 2 || u < 0 || u > 1e12 {
		return "amount: give the price paid such as 490 or 490.50, or leave it empty for the tier's price"
	}
	n := u*100 + c
	*into = &n
	return ""
}

func firstProblem(problems ...string) string {
	for _, p := range problems {
		if p != "" {
			return p
		}
	}
	return ""
}

// fieldProblem says which field a refused request's problem is about.
func fieldProblem(e *httpx.Error) string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}
