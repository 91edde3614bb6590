package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/backoffice"
	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
)

// The dashboard's catalog: every operator sees the tiers, products and
// releases; owners edit tiers and products (the same store calls as the
// API's catalog routes) and publish releases (the same code as the API's
// upload).

// adminCatalog lists tiers and products, with each product's releases.
func (s *server) adminCatalog(c *gin.Context) {
	sess, ok := s.operator(c, models.PermView)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	var (
		tiers    []models.Tier
		products []models.Product
	)
	releases := map[string][]models.Release{}
	err := firstError(
		func() (err error) { tiers, err = s.Store.ListTiers(ctx, false); return },
		func() (err error) { products, err = s.Store.ListProducts(ctx); return },
	)
	for _, p := range products {
		if err == nil {
			releases[p.Code], err = s.Store.ListReleases(ctx, p.Code)
		}
	}
	if err != nil {
		s.webFail(c, "admin", err)
		return
	}
	s.adminPage(c, sess, http.StatusOK, "Catalog", "admin-catalog", gin.H{"Tiers": tiers, "Products": products, "Releases": releases})
}

// adminTierForm shows the form that adds a tier (no key) or edits one.
func (s *server) adminTierForm(c *gin.Context) {
	sess, ok := s.operator(c, models.PermCatalog)
	if !ok {
		return
	}
	form := url.Values{"active": {"on"}, "term": {string(models.TermAnnual)}}
	if key := c.Query("key"); key != "" {
		t, err := s.Store.GetTier(c.Request.Context(), key)
		if err != nil {
			s.webFail(c, "admin", err)
			return
		}
		form = tierValues(t)
	}
	s.catalogForm(c, sess, http.StatusOK, "admin-tier-form", "", form)
}

// adminSaveTier creates a tier, or replaces the one named by "existing".
func (s *server) adminSaveTier(c *gin.Context) {
	sess, ok := s.operator(c, models.PermCatalog)
	if !ok || !s.checkCSRF(c, "admin", sess.CSRFToken) {
		return
	}
	form := c.Request.PostForm
	t, problem := tierFrom(form)
	if problem == "" {
		var err error
		if existing := form.Get("existing"); existing != "" {
			t, err = s.Store.UpdateTier(c.Request.Context(), existing, t)
		} else {
			t, err = s.Store.CreateTier(c.Request.Context(), t)
		}
		if err == nil {
			s.redirectWithNotice(c, "/admin/catalog", "Saved tier "+t.Key+".")
			return
		}
		if problem = s.formProblem(c, err); problem == "" {
			return
		}
	}
	s.catalogForm(c, sess, http.StatusUnprocessableEntity, "admin-tier-form", problem, form)
}

// adminRetireTier stops selling a tier (licenses on it keep working).
func (s *server) adminRetireTier(c *gin.Context) {
	sess, ok := s.operator(c, models.PermCatalog)
	if !ok || !s.checkCSRF(c, "admin", sess.CSRFToken) {
		return
	}
	t, err := s.Store.RetireTier(c.Request.Context(), c.Param("key"))
	if err != nil {
		s.webFail(c, "admin", err)
		return
	}
	s.redirectWithNotice(c, "/admin/catalog", "Tier "+t.Key+" is no longer sold; licenses on it keep working.")
}

// adminProductForm shows the form that adds a product (no code) or edits one.
func (s *server) adminProductForm(c *gin.Context) {
	sess, ok := s.operator(c, models.PermCatalog)
	if !ok {
		return
	}
	form := url.Values{"requires_key": {"on"}, "platform": {string(models.PlatformJoomla)}}
	if code := c.Query("code"); code != "" {
		p, err := s.Store.GetProduct(c.Request.Context(), code)
		if err != nil {
			s.webFail(c, "admin", err)
			return
		}
		form = url.Values{"existing": {p.Code}, "code": {p.Code}, "repo": {p.Repo}, "name": {p.Name}, "platform": {string(p.Platform)}}
		if p.RequiresKey {
			form.Set("requires_key", "on")
		}
		if p.DomainRequired {
			form.Set("domain_required", "on")
		}
		if p.SoldAsAddon() {
			form.Set("addon_price", fmt.Sprintf("%d.%02d", p.AddonPriceCents/100, p.AddonPriceCents%100))
			form.Set("addon_currency", p.AddonCurrency)
		}
	}
	s.catalogForm(c, sess, http.StatusOK, "admin-product-form", "", form)
}

// adminSaveProduct creates a product, or replaces the one named by "existing".
func (s *server) adminSaveProduct(c *gin.Context) {
	sess, ok := s.operator(c, models.PermCatalog)
	if !ok || !s.checkCSRF(c, "admin", sess.CSRFToken) {
		return
	}
	form := c.Request.PostForm
	p := models.Product{Code: form.Get("code"), Repo: form.Get("repo"), Name: form.Get("name"), Platform: models.Platform(form.Get("platform")),
		RequiresKey: form.Get("requires_key") != "", DomainRequired: form.Get("domain_required") != "", AddonCurrency: form.Get("addon_currency")}
	var addonPrice *int64
	if problem := optionalAmount(form.Get("addon_price"), &addonPrice); problem != "" {
		s.catalogForm(c, sess, http.StatusUnprocessableEntity, "admin-product-form",
			"add-on price: give it such as 49 or 49.50, or leave it empty if the product is not sold on its own", form)
		return
	}
	if addonPrice != nil {
		p.AddonPriceCents = *addonPrice
	}
	var err error
	if existing := form.Get("existing"); existing != "" {
		p, err = s.Store.UpdateProduct(c.Request.Context(), existing, p)
	} else {
		p, err = s.Store.CreateProduct(c.Request.Context(), p)
	}
	if err == nil {
		s.redirectWithNotice(c, "/admin/catalog", "Saved product "+p.Code+".")
		return
	}
	if problem := s.formProblem(c, err); problem != "" {
		s.catalogForm(c, sess, http.StatusUnprocessableEntity, "admin-product-form", problem, form)
	}
}

func (s *server) catalogForm(c *gin.Context, sess models.Session, status int, template, problem string, form url.Values) {
	products, err := s.Store.ListProducts(c.Request.Context())
	if err != nil {
		s.webFail(c, "admin", err)
		return
	}
	s.render(c, status, webPage{Title: "Catalog", Area: "admin", Template: template, Email: sess.Email, Role: sess.Role, CSRF: sess.CSRFToken,
		Error: problem, Data: gin.H{"Form": form, "Products": products,
			"Terms":     []models.Term{models.TermAnnual, models.TermMonthly, models.TermLifetime, models.TermCustom},
			"Platforms": []models.Platform{models.PlatformJoomla, models.PlatformDolibarr, models.PlatformWordPress, models.PlatformBoth}}})
}

// formProblem is the readable problem of a refused form; for a failure on
// our side it answers the request itself and returns "".
func (s *server) formProblem(c *gin.Context, err error) string {
	if e := httpx.ToError(err); e.Status < 500 {
		return fieldProblem(e)
	}
	s.webFail(c, "admin", err)
	return ""
}

// tierFrom reads the tier form as the API reads a TierRequest (active
// unless unticked).
func tierFrom(form url.Values) (models.Tier, string) {
	t := models.Tier{Key: form.Get("key"), Name: form.Get("name"), Description: form.Get("description"),
		Products: splitList(form.Get("products")), Term: models.Term(form.Get("term")), Currency: form.Get("currency"),
		Channels: splitList(form.Get("channels")), Active: form.Get("active") != "", StripePriceID: form.Get("stripe_price_id")}
	var maxDomains, months *int
	var price *int64
	problem := firstProblem(optionalInt(form.Get("max_domains"), "max_domains", &maxDomains),
		optionalInt(form.Get("term_months"), "term_months", &months), optionalAmount(form.Get("price"), &price))
	if maxDomains != nil {
		t.MaxDomains = *maxDomains
	}
	if months != nil {
		t.TermMonths = *months
	}
	if price != nil {
		t.PriceCents = *price
	}
	return t, strings.Replace(problem, "amount:", "price:", 1)
}

func tierValues(t models.Tier) url.Values {
	v := url.Values{"existing": {t.Key}, "key": {t.Key}, "name": {t.Name}, "description": {t.Description},
		"products": {strings.Join(t.Products, ", ")}, "max_domains": {strconv.Itoa(t.MaxDomains)}, "term": {string(t.Term)},
		"term_months": {strconv.Itoa(t.TermMonths)}, "price": {fmt.Sprintf("%d.%02d", t.PriceCents/100, t.PriceCents%100)}, "currency": {t.Currency},
		"channels": {strings.Join(t.Channels, ", ")}, "stripe_price_id": {t.StripePriceID}}
	if t.Active {
		v.Set("active", "on")
	}
	return v
}

func splitList(raw string) []string {
	var out []string
	for _, v := range strings.Split(raw, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// adminReleaseForm shows the upload form of a product's next release.
func (s *server) adminReleaseForm(c *gin.Context) {
	sess, ok := s.operator(c, models.PermReleases)
	if !ok {
		return
	}
	s.releasePage(c, sess, http.StatusOK, "", url.Values{"channel": {"stable"}})
}

func (s *server) releasePage(c *gin.Context, sess models.Session, status int, problem string, form url.Values) {
	p, err := s.Store.GetProduct(c.Request.Context(), c.Param("code"))
	if err != nil {
		s.webFail(c, "admin", err)
		return
	}
	s.render(c, status, webPage{Title: "Publish " + p.Name, Area: "admin", Template: "admin-release-form", Email: sess.Email, Role: sess.Role,
		CSRF: sess.CSRFToken, Error: problem, Data: gin.H{"Product": p, "Form": form}})
}

// adminPublishRelease takes the upload form (multipart, up to 1 GiB; the
// role is checked before the body is read) and publishes through
// backoffice, as the API does.
func (s *server) adminPublishRelease(c *gin.Context) {
	sess, ok := s.operator(c, models.PermReleases)
	if !ok {
		return
	}
	ctx := models.WithActor(c.Request.Context(), operatorActor(sess))
	product, err := s.Store.GetProduct(ctx, c.Param("code"))
	if err != nil {
		s.webFail(c, "admin", err)
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, backoffice.MaxArtifactBytes)
	if err := c.Request.ParseMultipartForm(32 << 20); err != nil {
		s.webError(c, http.StatusBadRequest, "admin", "The upload could not be read (at most 1 GiB). Go back and try again.")
		return
	}
	defer func() { _ = c.Request.MultipartForm.RemoveAll() }()
	if !s.checkCSRF(c, "admin", sess.CSRFToken) {
		return
	}
	form := url.Values(c.Request.MultipartForm.Value)
	for name, values := range form {
		for _, v := range values {
			if name != "notes" && models.CheckLine(name, v, maxFormValue) != nil {
				s.releasePage(c, sess, http.StatusUnprocessableEntity, name+": one line of text, at most 1000 characters", form)
				return
			}
		}
	}
	var (
		name string
		file io.Reader
	)
	if f, header, err := c.Request.FormFile("file"); err == nil {
		defer f.Close()
		name, file = header.Filename, f
	}
	r, err := s.office().Publish(ctx, product, backoffice.ReleaseForm{Version: form.Get("version"), Channel: form.Get("channel"),
		Notes: form.Get("notes"), Element: form.Get("element"), Type: form.Get("type"), TargetPlatform: form.Get("target_platform"),
		PHPMinimum: form.Get("php_minimum"), Requires: form.Get("requires"), Tested: form.Get("tested")}, name, file)
	switch {
	case errors.Is(err, backoffice.ErrAnnounceNotStarted):
		httpx.Logger(c).Error("starting the new-release notification failed; start it from the Web UI", "release", r.Version, "error", err)
		s.redirectWithNotice(c, "/admin/catalog", "Published "+product.Code+" "+r.Version+", but the email to entitled customers did not start; start it from the Temporal Web UI.")
	case err != nil:
		if problem := s.formProblem(c, err); problem != "" {
			s.releasePage(c, sess, httpx.ToError(err).Status, problem, form)
		}
	default:
		s.redirectWithNotice(c, "/admin/catalog", "Published "+product.Code+" "+r.Version+" ("+r.Filename+"); entitled customers are being told.")
	}
}
