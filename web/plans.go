package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments"
)

// The plans page and its checkout: every tier on sale with its terms and
// prices, a Buy button per term whose target (/plans/<tier>/checkout?term=…)
// a vendor's own site may link to, the Stripe Checkout Session or, without
// Stripe, a pending order, and the success page that waits for the license.

// PlanView is one tier on the plans page.
type PlanView struct {
	Tier     models.Tier
	Products []string
	Offers   []OfferView
}

// OfferView is one term of a plan, with its price and Buy link.
type OfferView struct {
	models.Offer
	Label string
	Price string
	// Link is the embeddable checkout URL of this term.
	Link string
}

// termLabel says how long a term lasts, after its price.
func termLabel(o models.Offer) string {
	switch {
	case o.Lifetime:
		return "once, for life"
	case o.Months == 1:
		return "per month"
	case o.Months == 12:
		return "per year"
	default:
		return fmt.Sprintf("for %d months", o.Months)
	}
}

func offerView(t models.Tier, o models.Offer) OfferView {
	return OfferView{Offer: o, Label: termLabel(o), Price: models.FormatMoney(o.PriceCents, t.Currency),
		Link: "/plans/" + url.PathEscape(t.Key) + "/checkout?term=" + url.QueryEscape(o.Term)}
}

// planViews lists the tiers on sale, with their products' names.
func (s *server) planViews(c *gin.Context) ([]PlanView, error) {
	ctx := c.Request.Context()
	tiers, err := s.Store.ListTiers(ctx, true)
	if err != nil {
		return nil, err
	}
	products, err := s.Store.ListProducts(ctx)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(products))
	for _, p := range products {
		names[p.Code] = p.Name
	}
	var out []PlanView
	for _, t := range tiers {
		offers := t.Offers()
		if len(offers) == 0 {
			continue
		}
		v := PlanView{Tier: t}
		for _, code := range t.Products {
			if name, ok := names[code]; ok {
				v.Products = append(v.Products, name)
			}
		}
		for _, o := range offers {
			v.Offers = append(v.Offers, offerView(t, o))
		}
		out = append(out, v)
	}
	return out, nil
}

// plansPage lists every plan on sale.
func (s *server) plansPage(c *gin.Context) {
	plans, err := s.planViews(c)
	if err != nil {
		s.webFail(c, "plans", err)
		return
	}
	s.render(c, http.StatusOK, webPage{Title: "Plans", Area: "plans", Template: "plans", CSRF: s.anonymousCSRF(c, "/plans"),
		Notice: s.takeNotice(c), Data: gin.H{"Plans": plans, "Stripe": s.Storefront.Selling(), "Action": "/plans"}})
}

// choice is a plan and term a checkout link or form asked for, checked
// against the catalog.
type choice struct {
	Tier    models.Tier
	Offer   OfferView
	Domains int
	// Query carries the choice from the confirm page to its form.
	Term, Months, DomainsRaw string
}

// chooseOffer reads the tier from the path and the term from the query or
// the form; anything the catalog does not sell is a page that says what
// is, and nothing is created.
func (s *server) chooseOffer(c *gin.Context, area string) (choice, bool) {
	ch := models.CheckoutChoice{Term: c.Query("term"), Months: c.Query("months"), Domains: c.Query("domains")}
	if c.Request.Method == http.MethodPost {
		ch = models.CheckoutChoice{Term: c.PostForm("term"), Months: c.PostForm("months"), Domains: c.PostForm("domains")}
	}
	key := c.Param("tier")
	tier, err := s.Store.GetTier(c.Request.Context(), key)
	if err == nil && !tier.Active {
		err = models.NotFound("tier_not_found", "no such plan")
	}
	if errors.Is(err, models.ErrNotFound) {
		s.webError(c, http.StatusNotFound, area, "We do not sell a plan called "+strconv.Quote(models.Clip(key, 80))+". Pick one on the plans page.")
		return choice{}, false
	}
	if err != nil {
		s.webFail(c, area, err)
		return choice{}, false
	}
	offer, domains, err := tier.ChooseOffer(ch)
	if p, ok := models.AsProblem(err); ok {
		status := http.StatusUnprocessableEntity
		if errors.Is(err, models.ErrNotFound) {
			status = http.StatusNotFound
		}
		s.webError(c, status, area, "This link does not buy anything we sell: "+p.Message+". Pick a plan on the plans page.")
		return choice{}, false
	}
	return choice{Tier: tier, Offer: offerView(tier, offer), Domains: domains, Term: offer.Term, Months: ch.Months, DomainsRaw: ch.Domains}, true
}

// checkoutConfirm answers the embeddable link: a page that names the plan
// and asks for the email address; only its button (a POST with the CSRF
// token this page sets) creates anything, so following or prefetching a
// link never does.
func (s *server) checkoutConfirm(c *gin.Context) {
	ch, ok := s.chooseOffer(c, "plans")
	if !ok {
		return
	}
	s.renderConfirm(c, http.StatusOK, ch, "", c.Query("email"))
}

func (s *server) renderConfirm(c *gin.Context, status int, ch choice, problem, email string) {
	s.render(c, status, webPage{Title: "Buy " + ch.Tier.Name, Area: "plans", Template: "plans-confirm", CSRF: s.anonymousCSRF(c, "/plans"),
		Error: problem, Data: gin.H{"Choice": ch, "Email": models.Clip(email, 254), "Stripe": s.Storefront.Selling()}})
}

// checkoutStart is the Buy button: a Stripe Checkout Session (303 to
// Stripe), or without Stripe a pending order the CRM follows up.
func (s *server) checkoutStart(c *gin.Context) {
	if !s.checkCSRF(c, "plans", s.anonymousCSRF(c, "/plans")) {
		return
	}
	ch, ok := s.chooseOffer(c, "plans")
	if !ok {
		return
	}
	email := strings.TrimSpace(c.PostForm("email"))
	if email == "" && !s.Storefront.Selling() {
		// The plans page's button: the CRM needs an address to send the
		// payment details to.
		s.renderConfirm(c, http.StatusOK, ch, "", "")
		return
	}
	s.startPurchase(c, "plans", ch, payments.Purchase{Email: email}, func(problem string) {
		s.renderConfirm(c, http.StatusUnprocessableEntity, ch, problem, email)
	})
}

// startPurchase creates the session or order and sends the buyer on.
func (s *server) startPurchase(c *gin.Context, area string, ch choice, p payments.Purchase, refuse func(problem string)) {
	if !s.purchases.Allow(c.ClientIP()) {
		s.webError(c, http.StatusTooManyRequests, area, "Too many purchases were started from here. Wait a few minutes and try again.")
		return
	}
	p.Tier, p.Offer, p.MaxDomains = ch.Tier, ch.Offer.Offer, ch.Domains
	link, err := s.Storefront.Start(c.Request.Context(), p)
	if prob, ok := models.AsProblem(err); ok && prob.Field == "email" {
		refuse("Enter the email address the license should go to.")
		return
	}
	if err != nil {
		s.webFail(c, area, err)
		return
	}
	if link.URL != "" {
		c.Redirect(http.StatusSeeOther, link.URL)
		return
	}
	s.render(c, http.StatusOK, webPage{Title: "Order received", Area: area, Template: "plans-requested", CSRF: s.anonymousCSRF(c, "/plans"),
		Data: gin.H{"Choice": ch, "Link": link}})
}

// checkoutOf finds the checkout of the session id in the query. A session
// id reveals only its order's progress: never the buyer, never the key.
func (s *server) checkoutOf(c *gin.Context) (models.Checkout, models.CheckoutStatus, error) {
	ctx := c.Request.Context()
	co, err := s.Store.GetCheckout(ctx, c.Query("session_id"))
	if err != nil {
		return co, models.CheckoutStatus{}, err
	}
	plan := co.TierKey
	if tier, err := s.Store.GetTier(ctx, co.TierKey); err == nil {
		plan = tier.Name
	}
	st, err := s.Store.CheckoutStatus(ctx, co, plan)
	return co, st, err
}

// checkoutSuccess is where Stripe sends the buyer back. The webhook may
// come before or after: the page says what is known and, until the license
// is issued, looks again every few seconds.
func (s *server) checkoutSuccess(c *gin.Context) {
	_, st, err := s.checkoutOf(c)
	if err != nil {
		s.webFail(c, "plans", err)
		return
	}
	s.render(c, http.StatusOK, webPage{Title: "Thank you", Area: "plans", Template: "plans-success",
		Refresh: st.Stage == models.CheckoutAwaitingPayment || st.Stage == models.CheckoutIssuing, Data: gin.H{"Status": st}})
}

// checkoutStatus is the success page's progress as JSON, for its script.
func (s *server) checkoutStatus(c *gin.Context) {
	_, st, err := s.checkoutOf(c)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

// portalPlans offers the plans to the signed-in customer: what they buy
// lands in their account, under their address.
func (s *server) portalPlans(c *gin.Context) {
	sess, _, ok := s.session(c, models.AudienceCustomer)
	if !ok {
		c.Redirect(http.StatusSeeOther, "/portal?next=/portal/plans")
		return
	}
	plans, err := s.planViews(c)
	if err != nil {
		s.webFail(c, "portal", err)
		return
	}
	s.render(c, http.StatusOK, webPage{Title: "Buy a plan", Area: "portal", Template: "plans", Email: sess.Email, CSRF: sess.CSRFToken,
		Data: gin.H{"Plans": plans, "Stripe": s.Storefront.Selling(), "Action": "/portal/plans", "Account": sess.Email}})
}

// portalCheckout starts a signed-in customer's purchase, for their address.
func (s *server) portalCheckout(c *gin.Context) {
	sess, _, ok := s.session(c, models.AudienceCustomer)
	if !ok {
		c.Redirect(http.StatusSeeOther, "/portal?next=/portal/plans")
		return
	}
	if !s.checkCSRF(c, "portal", sess.CSRFToken) {
		return
	}
	ch, ok := s.chooseOffer(c, "portal")
	if !ok {
		return
	}
	s.startPurchase(c, "portal", ch, payments.Purchase{Email: sess.Email, CustomerID: sess.CustomerID}, func(problem string) {
		s.webError(c, http.StatusUnprocessableEntity, "portal", problem)
	})
}
