package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments"
)

// The customer portal: sign in by magic link, then see your licenses, keys,
// domains, downloads, orders and invoices. A customer only ever reaches
// their own records: anything else is "not found".

const signInSent = "If that address has licenses with us, a sign-in link is on its way. It works once, for 15 minutes."

// portalHome shows the sign-in form, or the signed-in customer's licenses,
// orders and invoices.
func (s *server) portalHome(c *gin.Context) {
	sess, _, ok := s.session(c, models.AudienceCustomer)
	if !ok {
		s.render(c, http.StatusOK, webPage{Title: "Sign in", Area: "portal", Template: "portal-signin",
			CSRF: s.anonymousCSRF(c, "/portal"), Data: c.Query("next")})
		return
	}
	ctx := c.Request.Context()
	var (
		licenses []models.License
		orders   []models.Order
		invoices []models.Invoice
		notes    []models.CreditNote
	)
	err := firstError(
		func() (err error) { licenses, err = s.Store.CustomerLicenses(ctx, sess.CustomerID); return },
		func() (err error) { orders, err = s.Store.CustomerOrders(ctx, sess.CustomerID); return },
		func() (err error) { invoices, err = s.Store.CustomerInvoices(ctx, sess.CustomerID); return },
		func() (err error) { notes, err = s.Store.CustomerCreditNotes(ctx, sess.CustomerID); return },
	)
	if err != nil {
		s.webFail(c, "portal", err)
		return
	}
	notice := ""
	if c.Query("renewed") != "" {
		notice = "Thank you! Your renewal is confirmed as soon as the payment arrives; you will get an email."
	}
	s.render(c, http.StatusOK, webPage{Title: "Your licenses", Area: "portal", Template: "portal-home", Email: sess.Email,
		CSRF: sess.CSRFToken, Notice: notice, Data: gin.H{"Licenses": licenses, "Orders": orders, "Invoices": invoices, "CreditNotes": notes}})
}

// webFail shows an outage or a bug as a page, never a stack trace.
func (s *server) webFail(c *gin.Context, area string, err error) {
	if errors.Is(err, models.ErrNotFound) {
		s.webError(c, http.StatusNotFound, area, "There is nothing here. Check the link, or go back to the overview.")
		return
	}
	httpx.Logger(c).Error("page failed", "error", err)
	s.webError(c, http.StatusServiceUnavailable, area, "We cannot show this right now. Please try again in a minute.")
}

// portalSignIn emails a magic link. The answer is the same whether or not
// the address is a customer, so the form reveals nothing about who is.
func (s *server) portalSignIn(c *gin.Context) {
	if !s.checkCSRF(c, "portal", s.anonymousCSRF(c, "/portal")) {
		return
	}
	email, err := models.NormalizeEmail(c.PostForm("email"), "email")
	if err != nil {
		s.render(c, http.StatusUnprocessableEntity, webPage{Title: "Sign in", Area: "portal", Template: "portal-signin",
			CSRF: s.anonymousCSRF(c, "/portal"), Error: "Enter the email address you bought your license with."})
		return
	}
	if !s.signIns.Allow(c.ClientIP()) {
		s.render(c, http.StatusTooManyRequests, webPage{Title: "Sign in", Area: "portal", Template: "portal-signin",
			CSRF: s.anonymousCSRF(c, "/portal"), Error: "Too many sign-in links were asked for. Wait a few minutes and use the newest email."})
		return
	}
	_, err = s.Store.FindCustomer(c.Request.Context(), email)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		s.webFail(c, "portal", err)
		return
	}
	s.sendSignIn(c, email, models.AudienceCustomer, err == nil)
	s.render(c, http.StatusOK, webPage{Title: "Check your email", Area: "portal", Template: "portal-signin",
		CSRF: s.anonymousCSRF(c, "/portal"), Notice: signInSent})
}

// portalAuth consumes a magic link, posted from its confirmation page,
// and starts a session.
func (s *server) portalAuth(c *gin.Context) {
	if !s.checkCSRF(c, "portal", s.anonymousCSRF(c, "/portal")) {
		return
	}
	email, err := s.Store.ConsumeMagicLink(c.Request.Context(), c.PostForm("token"), models.AudienceCustomer, s.Now())
	if err != nil {
		s.render(c, http.StatusUnauthorized, webPage{Title: "Sign in", Area: "portal", Template: "portal-signin",
			CSRF: s.anonymousCSRF(c, "/portal"), Error: "This sign-in link is expired or was already used. Ask for a new one below."})
		return
	}
	customer, err := s.Store.FindCustomer(c.Request.Context(), email)
	if err == nil {
		err = s.signIn(c, models.AudienceCustomer, models.Credential{Email: email}, customer.ID)
	}
	if err != nil {
		s.webFail(c, "portal", err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/portal")
}

// customerLicense is the signed-in customer's license from the URL; any
// other license (or none) is a 404 page. Without a session it goes to
// the sign-in page.
func (s *server) customerLicense(c *gin.Context) (models.Session, models.License, bool) {
	sess, _, ok := s.session(c, models.AudienceCustomer)
	if !ok {
		c.Redirect(http.StatusSeeOther, "/portal?next="+c.Request.URL.Path)
		return sess, models.License{}, false
	}
	l, err := s.Store.GetLicense(c.Request.Context(), c.Param("id"))
	if err == nil && l.CustomerID != sess.CustomerID {
		err = models.NotFound("license_not_found", "no such license")
	}
	if err != nil {
		s.webFail(c, "portal", err)
		return sess, l, false
	}
	return sess, l, true
}

// DownloadLine is one downloadable version in the portal.
type DownloadLine struct {
	Product models.Product
	Release models.Release
	URL     string
}

// portalLicense shows one license: key, entitlements, domains, downloads.
func (s *server) portalLicense(c *gin.Context) {
	sess, l, ok := s.customerLicense(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	var (
		ents        []models.Entitlement
		activations []models.Activation
	)
	err := firstError(
		func() (err error) { ents, err = s.Store.GetEntitlements(ctx, l.ID); return },
		func() (err error) { activations, err = s.Store.ListActivations(ctx, l.ID); return },
	)
	if err != nil {
		s.webFail(c, "portal", err)
		return
	}
	var downloads []DownloadLine
	usable := models.Decide(models.ValidationFacts{License: &l, Now: s.Now()}).Valid
	for _, e := range ents {
		product, err := s.Store.GetProduct(ctx, e.ProductCode)
		if err != nil {
			continue // a product removed from the catalog has nothing to download
		}
		var releases []models.Release
		if len(l.Channels) > 0 {
			all, err := s.Store.ListReleases(ctx, product.Code)
			if err != nil {
				httpx.Fail(c, err)
				return
			}
			releases = models.OnChannels(all, l.Channels)
		}
		for _, r := range releases {
			downloads = append(downloads, DownloadLine{Product: product, Release: r,
				URL: "/downloads/" + product.Code + "/" + r.Version + "?dlid=" + l.Key()})
		}
	}
	slots, staging := domainUse(activations)
	addons, err := s.addonsFor(ctx, l, ents)
	if err != nil {
		s.webFail(c, "portal", err)
		return
	}
	notice := s.takeNotice(c)
	if code := c.Query("addon"); code != "" && notice == "" {
		notice = "Thank you! The add-on is added to this license as soon as the payment arrives; you will get the invoice by email."
	}
	s.render(c, http.StatusOK, webPage{Title: "License " + models.MaskDLID(l.Key()), Area: "portal", Template: "portal-license",
		Email: sess.Email, CSRF: sess.CSRFToken, Notice: notice, Data: gin.H{
			"License": l, "Entitlements": ents, "Activations": activations, "Downloads": downloads, "Usable": usable,
			"SlotsInUse": slots, "StagingInUse": staging, "Addons": addons,
			"Renewable": models.CheckRenewal(l) == nil,
		}})
}

// AddonOffer is a product the portal offers as an add-on to a license.
type AddonOffer struct {
	Product models.Product
	Price   string
}

// addonsFor lists the add-ons license l can buy: products sold as add-ons
// it is not entitled to, none when it cannot buy any (a trial, expired).
func (s *server) addonsFor(ctx context.Context, l models.License, ents []models.Entitlement) ([]AddonOffer, error) {
	products, err := s.Store.ListProducts(ctx)
	if err != nil {
		return nil, err
	}
	var offers []AddonOffer
	for _, p := range products {
		entitled := slices.ContainsFunc(ents, func(e models.Entitlement) bool { return e.ProductCode == p.Code })
		if models.CheckAddon(l, p, entitled) == nil {
			offers = append(offers, AddonOffer{Product: p, Price: models.FormatMoney(p.AddonPriceCents, p.AddonCurrency)})
		}
	}
	return offers, nil
}

// portalBuyAddon sends the customer to pay for an add-on: Stripe Checkout
// when configured, otherwise an add-on order the vendor's CRM follows up.
func (s *server) portalBuyAddon(c *gin.Context) {
	sess, l, ok := s.customerLicense(c)
	if !ok || !s.checkCSRF(c, "portal", sess.CSRFToken) {
		return
	}
	ctx := c.Request.Context()
	p, err := s.Store.AddonFor(ctx, l, c.PostForm("product"))
	var link payments.RenewalLink
	if err == nil {
		link, err = s.Renewals.AddonLink(ctx, l, p)
	}
	switch problem, isProblem := models.AsProblem(err); {
	case isProblem:
		s.webError(c, http.StatusConflict, "portal", problem.Message)
	case err != nil:
		s.webFail(c, "portal", err)
	case link.URL != "":
		c.Redirect(http.StatusSeeOther, link.URL)
	default:
		s.redirectWithNotice(c, "/portal/licenses/"+l.ID, fmt.Sprintf(
			"Your order %s for %s (%s) is placed; we will send you payment details, and the product is added once it is paid.",
			link.OrderID, p.Name, models.FormatMoney(p.AddonPriceCents, p.AddonCurrency)))
	}
}

// portalDeactivate frees one of the customer's domain slots.
func (s *server) portalDeactivate(c *gin.Context) {
	sess, l, ok := s.customerLicense(c)
	if !ok || !s.checkCSRF(c, "portal", sess.CSRFToken) {
		return
	}
	domain := c.PostForm("domain")
	err := s.Store.Deactivate(c.Request.Context(), l.ID, domain, s.Now())
	notice := domain + " was deactivated."
	switch {
	case errors.Is(err, models.ErrNotFound):
		notice = "Nothing changed: " + domain + " is not an active domain of this license."
	case err != nil:
		s.webFail(c, "portal", err)
		return
	}
	s.redirectWithNotice(c, "/portal/licenses/"+l.ID, notice)
}

// portalRenewPage is where the reminder emails' renew button lands.
func (s *server) portalRenewPage(c *gin.Context) {
	sess, l, ok := s.customerLicense(c)
	if !ok {
		return
	}
	tier, err := s.Store.GetTier(c.Request.Context(), l.TierKey)
	if err != nil {
		s.webFail(c, "portal", err)
		return
	}
	months, _ := tier.Months()
	s.render(c, http.StatusOK, webPage{Title: "Renew", Area: "portal", Template: "portal-renew", Email: sess.Email, CSRF: sess.CSRFToken,
		Data: gin.H{"License": l, "Tier": tier, "Months": months, "Price": models.FormatMoney(tier.PriceFor(months), tier.Currency),
			"Problem": models.CheckRenewal(l)}})
}

// portalPayPalReturn is where PayPal sends a customer who approved a
// renewal order: the order is captured (its webhook then renews the
// license) and the customer sees the license, its renewal on its way.
func (s *server) portalPayPalReturn(c *gin.Context) {
	licenseID, err := s.Renewals.CapturePayPal(c.Request.Context(), c.Query("token"))
	if p, isProblem := models.AsProblem(err); isProblem && !errors.Is(p, models.ErrNotFound) {
		s.webError(c, http.StatusConflict, "portal", p.Message)
		return
	}
	if err != nil {
		s.webFail(c, "portal", err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/portal?renewed="+url.QueryEscape(licenseID))
}

// portalRenew sends the customer to pay: Stripe Checkout when configured,
// otherwise a renewal order the vendor's CRM follows up.
func (s *server) portalRenew(c *gin.Context) {
	sess, l, ok := s.customerLicense(c)
	if !ok || !s.checkCSRF(c, "portal", sess.CSRFToken) {
		return
	}
	link, err := s.Renewals.Link(c.Request.Context(), l, nil)
	if p, isProblem := models.AsProblem(err); isProblem {
		s.webError(c, http.StatusConflict, "portal", p.Message)
		return
	}
	if err != nil {
		s.webFail(c, "portal", err)
		return
	}
	if link.URL != "" {
		c.Redirect(http.StatusSeeOther, link.URL)
		return
	}
	s.render(c, http.StatusOK, webPage{Title: "Renewal ordered", Area: "portal", Template: "portal-renewed", Email: sess.Email,
		CSRF: sess.CSRFToken, Data: gin.H{"License": l, "OrderID": link.OrderID}})
}

// portalInvoice downloads one of the customer's invoices.
func (s *server) portalInvoice(c *gin.Context) {
	sess, _, ok := s.session(c, models.AudienceCustomer)
	if !ok {
		c.Redirect(http.StatusSeeOther, "/portal")
		return
	}
	number := strings.TrimSuffix(c.Param("number"), ".pdf")
	inv, err := s.Store.GetInvoice(c.Request.Context(), number)
	if err == nil && inv.CustomerID != sess.CustomerID {
		err = models.NotFound("invoice_not_found", "no such invoice")
	}
	if err == nil {
		err = inv.CheckPDF()
	}
	if err != nil {
		s.webFail(c, "portal", err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+inv.Number+`.pdf"`)
	c.Data(http.StatusOK, "application/pdf", inv.PDF)
}

// portalCreditNote downloads one of the customer's credit notes.
func (s *server) portalCreditNote(c *gin.Context) {
	sess, _, ok := s.session(c, models.AudienceCustomer)
	if !ok {
		c.Redirect(http.StatusSeeOther, "/portal")
		return
	}
	number := strings.TrimSuffix(c.Param("number"), ".pdf")
	cn, err := s.Store.GetCreditNote(c.Request.Context(), number)
	if err == nil && cn.CustomerID != sess.CustomerID {
		err = models.NotFound("credit_note_not_found", "no such credit note")
	}
	if err != nil {
		s.webFail(c, "portal", err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+cn.Number+`.pdf"`)
	c.Data(http.StatusOK, "application/pdf", cn.PDF)
}
