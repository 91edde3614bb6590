package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
)

// ProductRequest creates or replaces a product.
type ProductRequest struct {
	Code        string          `json:"code"`
	Repo        string          `json:"repo"`
	Name        string          `json:"name"`
	Platform    models.Platform `json:"platform"`
	RequiresKey *bool           `json:"requires_key"`
	// DomainRequired (default false) refuses site requests for the product
	// that name no domain.
	DomainRequired bool `json:"domain_required"`
	// AddonPriceCents (default 0: not sold on its own) sells the product as
	// an add-on on top of any tier, in AddonCurrency.
	AddonPriceCents int64  `json:"addon_price_cents"`
	AddonCurrency   string `json:"addon_currency"`
}

func (r ProductRequest) product() models.Product {
	p := models.Product{Code: r.Code, Repo: r.Repo, Name: r.Name, Platform: r.Platform, RequiresKey: true, DomainRequired: r.DomainRequired,
		AddonPriceCents: r.AddonPriceCents, AddonCurrency: r.AddonCurrency}
	if r.RequiresKey != nil {
		p.RequiresKey = *r.RequiresKey
	}
	return p
}

func (s *server) listProducts(c *gin.Context) {
	ps, err := s.Store.ListProducts(c.Request.Context())
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, pageOf(ps, productView))
}

func (s *server) getProduct(c *gin.Context) {
	p, err := s.Store.GetProduct(c.Request.Context(), c.Param("code"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, productView(p))
}

func (s *server) createProduct(c *gin.Context) {
	var req ProductRequest
	if err := httpx.Decode(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	p, err := s.Store.CreateProduct(c.Request.Context(), req.product())
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, productView(p))
}

func (s *server) updateProduct(c *gin.Context) {
	var req ProductRequest
	if err := httpx.Decode(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	p, err := s.Store.UpdateProduct(c.Request.Context(), c.Param("code"), req.product())
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, productView(p))
}

func (s *server) deleteProduct(c *gin.Context) {
	if err := s.Store.DeleteProduct(c.Request.Context(), c.Param("code")); err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// TierRequest creates or replaces a tier.
type TierRequest struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	// Description tells buyers what the plan is for (plain text).
	Description string      `json:"description"`
	Products    []string    `json:"products"`
	MaxDomains  int         `json:"max_domains"`
	Term        models.Term `json:"term"`
	TermMonths  int         `json:"term_months"`
	PriceCents  int64       `json:"price_cents"`
	Currency    string      `json:"currency"`
	Channels    []string    `json:"channels"`
	Active      *bool       `json:"active"`
	// TrialDays offers a free trial of that many days (0: none).
	TrialDays int `json:"trial_days"`
	// StripePriceID sells the tier under an existing Stripe price.
	StripePriceID string `json:"stripe_price_id"`
}

func (r TierRequest) tier() models.Tier {
	t := models.Tier{Key: r.Key, Name: r.Name, Description: r.Description, Products: r.Products, MaxDomains: r.MaxDomains, Term: r.Term,
		TermMonths: r.TermMonths, PriceCents: r.PriceCents, Currency: r.Currency, Channels: r.Channels, Active: true,
		StripePriceID: r.StripePriceID, TrialDays: r.TrialDays}
	if r.Active != nil {
		t.Active = *r.Active
	}
	return t
}

func (s *server) listTiers(c *gin.Context) {
	ts, err := s.Store.ListTiers(c.Request.Context(), c.Query("active") == "true")
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, pageOf(ts, tierView))
}

func (s *server) getTier(c *gin.Context) {
	t, err := s.Store.GetTier(c.Request.Context(), c.Param("key"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, tierView(t))
}

func (s *server) createTier(c *gin.Context) {
	var req TierRequest
	if err := httpx.Decode(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	t, err := s.Store.CreateTier(c.Request.Context(), req.tier())
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, tierView(t))
}

func (s *server) updateTier(c *gin.Context) {
	var req TierRequest
	if err := httpx.Decode(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	t, err := s.Store.UpdateTier(c.Request.Context(), c.Param("key"), req.tier())
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, tierView(t))
}

// retireTier stops selling a tier; licenses on it keep working, so tiers
// are never deleted.
func (s *server) retireTier(c *gin.Context) {
	t, err := s.Store.RetireTier(c.Request.Context(), c.Param("key"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, tierView(t))
}
