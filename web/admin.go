package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/lifecycle"
	"github.com/licenseflow/licenseflow/models"
)

// The admin dashboard: sales metrics, expiring licenses, customers, the
// outbox, workflows that need attention, and manual actions that all go
// through each license's workflow.

// operator returns the admin session of an operator whose role grants
// perm. Not signed in: the sign-in page (401). Signed in without the
// right: a page that says so (403), and nothing is done.
func (s *server) operator(c *gin.Context, perm models.Permission) (models.Session, bool) {
	sess, _, ok := s.session(c, models.AudienceAdmin)
	if !ok {
		s.render(c, http.StatusUnauthorized, webPage{Title: "Operator sign-in", Area: "admin", Template: "admin-signin",
			CSRF: s.anonymousCSRF(c, "/admin")})
		c.Abort()
		return sess, false
	}
	if !sess.Role.Can(perm) {
		s.forbidden(c, sess)
		return sess, false
	}
	return sess, true
}

// forbidden answers an operator whose role does not allow what they asked.
func (s *server) forbidden(c *gin.Context, sess models.Session) {
	s.render(c, http.StatusForbidden, webPage{Title: "Owners only", Area: "admin", Template: "error", Email: sess.Email, Role: sess.Role,
		CSRF: sess.CSRFToken, Error: "Only an owner of this dashboard may do this; you are signed in as " + string(sess.Role) +
			". Nothing was changed. Ask an owner (see LICENSEFLOW_ADMIN_EMAILS) to do it for you."})
	c.Abort()
}

func (s *server) adminPage(c *gin.Context, sess models.Session, status int, title, template string, data any) {
	s.render(c, status, webPage{Title: title, Area: "admin", Template: template, Email: sess.Email, Role: sess.Role, CSRF: sess.CSRFToken,
		Notice: s.takeNotice(c), Data: data})
}

// adminSignIn emails a magic link to an address in LICENSEFLOW_ADMIN_EMAILS
// or LICENSEFLOW_SUPPORT_EMAILS and answers any other address the same, in the same time (see
// sendSignIn).
func (s *server) adminSignIn(c *gin.Context) {
	if !s.checkCSRF(c, "admin", s.anonymousCSRF(c, "/admin")) {
		return
	}
	email, err := models.NormalizeEmail(c.PostForm("email"), "email")
	page := webPage{Title: "Operator sign-in", Area: "admin", Template: "admin-signin", CSRF: s.anonymousCSRF(c, "/admin")}
	switch {
	case err != nil:
		page.Error = "Enter your operator email address."
		s.render(c, http.StatusUnprocessableEntity, page)
		return
	case !s.signIns.Allow(c.ClientIP()):
		page.Error = "Too many sign-in links were asked for. Wait a few minutes."
		s.render(c, http.StatusTooManyRequests, page)
		return
	}
	_, known := s.emailRole(email)
	s.sendSignIn(c, email, models.AudienceAdmin, known)
	page.Notice = "If that address is an operator's, a sign-in link is on its way. It works once, for 15 minutes."
	s.render(c, http.StatusOK, page)
}

// adminAuth consumes an operator's magic link, posted from its
// confirmation page.
func (s *server) adminAuth(c *gin.Context) {
	if !s.checkCSRF(c, "admin", s.anonymousCSRF(c, "/admin")) {
		return
	}
	email, err := s.Store.ConsumeMagicLink(c.Request.Context(), c.PostForm("token"), models.AudienceAdmin, s.Now())
	role, known := s.emailRole(email)
	if err == nil && !known {
		err = models.Invalid("not_an_operator", "email", "that address is no longer an operator")
	}
	if err != nil {
		s.render(c, http.StatusUnauthorized, webPage{Title: "Operator sign-in", Area: "admin", Template: "admin-signin",
			CSRF: s.anonymousCSRF(c, "/admin"), Error: "This sign-in link is expired or was already used. Ask for a new one."})
		return
	}
	if err := s.signIn(c, models.AudienceAdmin, models.Credential{Email: email, Role: role}, ""); err != nil {
		s.webFail(c, "admin", err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin")
}

// adminTokenSignIn exchanges an API token for a dashboard session with the
// role its scopes amount to (models.TokenRole): admin is an owner; a token
// that reads licenses and may change them is support; others are refused.
func (s *server) adminTokenSignIn(c *gin.Context) {
	if !s.checkCSRF(c, "admin", s.anonymousCSRF(c, "/admin")) {
		return
	}
	if !s.tokenTries.Allow(c.ClientIP()) {
		s.render(c, http.StatusTooManyRequests, webPage{Title: "Operator sign-in", Area: "admin", Template: "admin-signin",
			CSRF: s.anonymousCSRF(c, "/admin"), Error: "Too many sign-in attempts from your address. Wait a few minutes."})
		return
	}
	tok, err := s.Store.AuthenticateToken(c.Request.Context(), strings.TrimSpace(c.PostForm("token")), s.Now())
	role, known := models.TokenRole(tok)
	if err != nil || !known {
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			s.webFail(c, "admin", err)
			return
		}
		s.render(c, http.StatusUnauthorized, webPage{Title: "Operator sign-in", Area: "admin", Template: "admin-signin",
			CSRF: s.anonymousCSRF(c, "/admin"), Error: "That is not a live API token with the admin scope (owners) or the licenses:read and licenses:support scopes (support)."})
		return
	}
	if err := s.signIn(c, models.AudienceAdmin, models.Credential{Email: "token:" + tok.Name, APITokenID: tok.ID, Role: role}, ""); err != nil {
		s.webFail(c, "admin", err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin")
}

// Chart is the monthly sales chart, laid out here and drawn as inline SVG.
type Chart struct {
	Width, Height int
	Bars          []ChartBar
	Labels        []ChartLabel
	Max           int
}

// ChartBar is one bar.
type ChartBar struct {
	X, Y, W, H int
	Class      string
	Title      string
}

// ChartLabel is one month's label.
type ChartLabel struct {
	X    int
	Text string
}

func salesChart(months []models.MonthMetrics) Chart {
	const width, height, pad, barW = 720, 220, 24, 10
	c := Chart{Width: width, Height: height, Max: 1}
	for _, m := range months {
		c.Max = max(c.Max, m.New, m.Renewed, m.Churned)
	}
	slot := (width - 2*pad) / max(len(months), 1)
	scale := func(n int) int { return n * (height - 2*pad) / c.Max }
	for i, m := range months {
		x := pad + i*slot + (slot-3*barW)/2
		for j, v := range []struct {
			n     int
			class string
		}{{m.New, "new"}, {m.Renewed, "renewed"}, {m.Churned, "churned"}} {
			h := scale(v.n)
			c.Bars = append(c.Bars, ChartBar{X: x + j*barW, Y: height - pad - h, W: barW - 1, H: h, Class: v.class,
				Title: fmt.Sprintf("%s: %d %s", m.Month, v.n, v.class)})
		}
		c.Labels = append(c.Labels, ChartLabel{X: x + barW/2, Text: m.Month[2:]})
	}
	return c
}

// adminDashboard shows the last twelve months, revenue by tier, licenses
// expiring within 30 days and workflows that need attention.
func (s *server) adminDashboard(c *gin.Context) {
	sess, ok := s.operator(c, models.PermView)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	now := s.Now().UTC()
	months, tiers, err := s.Store.SalesMetrics(ctx, now.AddDate(0, -11, 0), now, now)
	if err != nil {
		s.webFail(c, "admin", err)
		return
	}
	expiring, err := s.Store.ListLicenses(ctx, models.LicenseFilter{ExpiringWithin: 30 * 24 * time.Hour, Now: now, Limit: 100})
	if err != nil {
		s.webFail(c, "admin", err)
		return
	}
	failedEmails, err := s.Store.ListEmails(ctx, models.EmailFilter{Status: models.EmailFailed, Limit: 20})
	if err != nil {
		s.webFail(c, "admin", err)
		return
	}
	var master *models.License
	if l, err := s.Store.GetLicense(ctx, models.MasterLicenseID); err == nil {
		master = &l
	} else if !errors.Is(err, models.ErrNotFound) {
		s.webFail(c, "admin", err)
		return
	}
	totals := models.MonthMetrics{Revenue: map[string]int64{}}
	for _, m := range months {
		totals.New, totals.Renewed, totals.Churned = totals.New+m.New, totals.Renewed+m.Renewed, totals.Churned+m.Churned
		totals.AddOns += m.AddOns
	}
	s.adminPage(c, sess, http.StatusOK, "Dashboard", "admin-dashboard", gin.H{
		"Months": months, "Chart": salesChart(months), "Tiers": tiers, "Totals": totals, "Expiring": expiring.Licenses,
		"Attention": s.Lifecycle.NeedingAttention(ctx), "FailedEmails": failedEmails, "Master": master,
	})
}

// adminCustomers searches customers.
func (s *server) adminCustomers(c *gin.Context) {
	sess, ok := s.operator(c, models.PermView)
	if !ok {
		return
	}
	q := strings.TrimSpace(c.Query("q"))
	var found []models.Customer
	if q != "" {
		var err error
		if found, err = s.Store.SearchCustomers(c.Request.Context(), q, 50); err != nil {
			s.webFail(c, "admin", err)
			return
		}
	}
	s.adminPage(c, sess, http.StatusOK, "Customers", "admin-customers", gin.H{"Query": q, "Customers": found})
}

// adminCustomer shows one customer: licenses, orders, invoices, emails.
func (s *server) adminCustomer(c *gin.Context) {
	sess, ok := s.operator(c, models.PermView)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	customer, err := s.Store.GetCustomer(ctx, c.Param("id"))
	if err != nil {
		s.webFail(c, "admin", err)
		return
	}
	var (
		licenses []models.License
		orders   []models.Order
		invoices []models.Invoice
		emails   []models.EmailMessage
	)
	err = firstError(
		func() (err error) { licenses, err = s.Store.CustomerLicenses(ctx, customer.ID); return },
		func() (err error) { orders, err = s.Store.CustomerOrders(ctx, customer.ID); return },
		func() (err error) { invoices, err = s.Store.CustomerInvoices(ctx, customer.ID); return },
		func() (err error) {
			emails, err = s.Store.ListEmails(ctx, models.EmailFilter{To: customer.Email, Limit: 50})
			return
		},
	)
	if err != nil {
		s.webFail(c, "admin", err)
		return
	}
	s.adminPage(c, sess, http.StatusOK, customer.Email, "admin-customer", gin.H{
		"Customer": customer, "Licenses": licenses, "Orders": orders, "Invoices": invoices, "Emails": emails})
}

// adminLicense shows a license with its live workflow state, usage and
// the manual actions.
func (s *server) adminLicense(c *gin.Context) {
	sess, ok := s.operator(c, models.PermView)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	l, err := s.Store.GetLicense(ctx, c.Param("id"))
	if err != nil {
		s.webFail(c, "admin", err)
		return
	}
	var (
		ents        []models.Entitlement
		activations []models.Activation
		usage       models.Usage
		tiers       []models.Tier
		products    []models.Product
		ledger      []models.LicenseEvent
	)
	err = firstError(
		func() (err error) { ents, err = s.Store.GetEntitlements(ctx, l.ID); return },
		func() (err error) { activations, err = s.Store.ListActivations(ctx, l.ID); return },
		func() (err error) { usage, err = s.Store.UsageSince(ctx, l.ID, s.Now().AddDate(0, 0, -30)); return },
		func() (err error) { tiers, err = s.Store.ListTiers(ctx, true); return },
		func() (err error) { products, err = s.Store.ListProducts(ctx); return },
		func() (err error) {
			ledger, err = s.Store.LicenseLedger(ctx, models.LedgerFilter{LicenseID: l.ID, Limit: 200})
			return
		},
	)
	if err != nil {
		s.webFail(c, "admin", err)
		return
	}
	var live *lifecycle.Live
	if st, err := s.Lifecycle.QueryLicense(ctx, l.WorkflowID); err == nil {
		live = &st
	}
	active, staging := domainUse(activations)
	s.adminPage(c, sess, http.StatusOK, "License "+l.ID, "admin-license", gin.H{
		"License": l, "ActiveDomains": active, "StagingDomains": staging, "Entitlements": ents, "Activations": activations, "Usage": usage, "Tiers": tiers,
		"Products": products, "Workflow": live, "WorkflowURL": s.Lifecycle.WorkflowURL(l.WorkflowID), "Ledger": ledger,
		"SuspiciousUsage": lastSuspiciousUsage(ledger, s.Now().AddDate(0, 0, -30)),
	})
}

// adminAction applies a manual action through the license's workflow
// (a validated update: an illegal one is refused with its reason and
// changes nothing), then shows the license as the workflow left it.
func (s *server) adminAction(c *gin.Context) {
	sess, ok := s.operator(c, models.PermLicenseCare)
	if !ok || !s.checkCSRF(c, "admin", sess.CSRFToken) {
		return
	}
	if ownersOnlyActions[c.PostForm("action")] && !sess.Role.Can(models.PermLicenseAdmin) {
		s.forbidden(c, sess)
		return
	}
	ctx := models.WithActor(c.Request.Context(), operatorActor(sess))
	l, err := s.Store.GetLicense(ctx, c.Param("id"))
	if err != nil {
		s.webFail(c, "admin", err)
		return
	}
	if l.IsMaster() {
		s.masterAction(c, sess, l)
		return
	}
	reason := strings.TrimSpace(c.PostForm("reason"))
	if err := models.CheckLine("reason", reason, models.MaxReasonLength); err != nil {
		s.redirectToLicense(c, l.ID, "Not done: "+err.Error())
		return
	}
	if reason == "" {
		reason = "by " + sess.Email
	}
	var msg models.LicenseUpdate
	switch c.PostForm("action") {
	case "extend":
		months, err := strconv.Atoi(c.PostForm("months"))
		if err != nil || months < 1 || months > models.MaxTermMonths {
			s.redirectToLicense(c, l.ID, fmt.Sprintf("Extend by 1 to %d months.", models.MaxTermMonths))
			return
		}
		// A goodwill extension: no order, no invoice.
		msg = &models.RenewRequest{Months: months}
	case "correct-expiry":
		// A correction, not a renewal: the form's date and time are UTC.
		to, err := time.Parse("2006-01-02T15:04", c.PostForm("expires_at"))
		if err != nil {
			s.redirectToLicense(c, l.ID, "Give the new expiry as a date and time (UTC).")
			return
		}
		msg = &models.CorrectExpiryRequest{ExpiresAt: to, Reason: strings.TrimSpace(c.PostForm("reason"))}
	case "suspend":
		msg = &models.SuspendRequest{Reason: reason}
	case "reinstate":
		msg = &models.ReinstateRequest{}
	case "revoke":
		msg = &models.RevokeRequest{Reason: reason}
	case "change-tier":
		msg = &models.ChangeTierRequest{Tier: c.PostForm("tier")}
	case "add-entitlement":
		msg = &models.AddEntitlementRequest{Product: c.PostForm("product")}
	case "remove-entitlement":
		msg = &models.RemoveEntitlementRequest{Product: c.PostForm("product"), Reason: reason}
	default:
		s.webError(c, http.StatusBadRequest, "admin", "Unknown action.")
		return
	}
	if _, err := s.Lifecycle.UpdateLicense(ctx, l, msg); err != nil {
		if e := httpx.ToError(err); e.Status < 500 {
			s.redirectToLicense(c, l.ID, "Not done: "+e.Message)
			return
		}
		s.webFail(c, "admin", err)
		return
	}
	s.redirectToLicense(c, l.ID, "Done: "+strings.ReplaceAll(c.PostForm("action"), "-", " ")+".")
}

// masterAction replaces the master license's key (seed 001: revoking it
// generates a new one) and shows the new key this once; the master
// license has no workflow and no other action.
func (s *server) masterAction(c *gin.Context, sess models.Session, l models.License) {
	switch c.PostForm("action") {
	case "rotate-key", "revoke":
	default:
		s.redirectToLicense(c, l.ID, "Not done: the master license never expires and has no lifecycle; replace its key instead.")
		return
	}
	reason := strings.TrimSpace(c.PostForm("reason"))
	if err := models.CheckLine("reason", reason, models.MaxReasonLength); err != nil {
		s.redirectToLicense(c, l.ID, "Not done: "+err.Error())
		return
	}
	key, l, err := s.Store.RotateMasterKey(c.Request.Context(), l.ID, operatorActor(sess), reason, s.Now())
	if err != nil {
		s.webFail(c, "admin", err)
		return
	}
	s.adminPage(c, sess, http.StatusOK, "Master license key", "admin-master-key", gin.H{"License": l, "Key": key})
}

// ownersOnlyActions change what a license is worth or end it for good;
// support operators may only suspend and reinstate.
var ownersOnlyActions = map[string]bool{"extend": true, "correct-expiry": true, "revoke": true, "change-tier": true, "add-entitlement": true, "remove-entitlement": true, "rotate-key": true}

// operatorActor names the operator for the license's ledger: their email,
// or the API token they signed in with.
func operatorActor(sess models.Session) string {
	if strings.HasPrefix(sess.Email, "token:") {
		return sess.Email
	}
	return "admin:" + sess.Email
}

func (s *server) redirectToLicense(c *gin.Context, id, notice string) {
	s.redirectWithNotice(c, "/admin/licenses/"+id, notice)
}

// adminOutbox lists recent emails.
func (s *server) adminOutbox(c *gin.Context) {
	sess, ok := s.operator(c, models.PermView)
	if !ok {
		return
	}
	msgs, err := s.Store.ListEmails(c.Request.Context(), models.EmailFilter{Limit: 100, Status: models.EmailStatus(c.Query("status"))})
	if err != nil {
		s.webFail(c, "admin", err)
		return
	}
	s.adminPage(c, sess, http.StatusOK, "Outbox", "admin-outbox", gin.H{"Emails": msgs, "Status": c.Query("status")})
}

// adminEmail shows one outbox message.
func (s *server) adminEmail(c *gin.Context) {
	sess, ok := s.operator(c, models.PermView)
	if !ok {
		return
	}
	id, _ := strconv.Atoi(c.Param("id"))
	msg, err := s.Store.GetEmail(c.Request.Context(), uint(id))
	if err != nil {
		s.webFail(c, "admin", err)
		return
	}
	if msg.Template == models.SignInTemplate && !sess.Role.Can(models.PermSignInEmails) {
		s.forbidden(c, sess) // its link could sign the reader in as an owner
		return
	}
	s.adminPage(c, sess, http.StatusOK, msg.Subject, "admin-email", msg)
}

// firstError runs the page's reads in order and stops at the first failure.
func firstError(reads ...func() error) error {
	for _, read := range reads {
		if err := read(); err != nil {
			return err
		}
	}
	return nil
}

// lastSuspiciousUsage is the newest key-sharing note of a ledger (newest
// first) since the given time, flagged on the license's page; nil if none.
func lastSuspiciousUsage(ledger []models.LicenseEvent, since time.Time) *models.LicenseEvent {
	for i, e := range ledger {
		if e.Action == models.LedgerSuspiciousUsage && e.At.After(since) {
			return &ledger[i]
		}
	}
	return nil
}

// domainUse counts a license's active domains that take a slot and its
// active staging copies, which take none but are capped at max_domains too.
func domainUse(activations []models.Activation) (slots, staging int) {
	for _, a := range activations {
		switch {
		case a.Status != models.ActivationActive:
		case a.Staging:
			staging++
		default:
			slots++
		}
	}
	return slots, staging
}
