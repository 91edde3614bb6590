package api

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/backoffice"
	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
)

// CreateOrderRequest is the CRM recording an order before payment.
type CreateOrderRequest struct {
	ID            string `json:"id"`
	Kind          string `json:"kind"`
	CustomerEmail string `json:"customer_email"`
	CustomerName  string `json:"customer_name"`
	Company       string `json:"company"`
	Tier          string `json:"tier"`
	LicenseID     string `json:"license_id"`
	// Product is the product an add-on order buys for license_id.
	Product     string `json:"product"`
	Months      *int   `json:"months"`
	MaxDomains  *int   `json:"max_domains"`
	AmountCents *int64 `json:"amount_cents"`
	Currency    string `json:"currency"`
	// Country and VATID set the customer's tax identity (see CreateLicenseRequest).
	Country string `json:"country"`
	VATID   string `json:"vat_id"`
}

// createOrder records a pending order: kind new (a purchase; the license is
// issued when the order is paid), renewal (of license_id) or addon
// (product, for license_id). 201 when created, 200 when the same order was
// already recorded.
func (s *server) createOrder(c *gin.Context) {
	var req CreateOrderRequest
	if err := httpx.Decode(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	n, err := s.newOrder(c.Request.Context(), req)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	o, created, err := s.Store.CreateOrder(c.Request.Context(), n)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	c.Header("Location", "/api/v1/orders/"+o.ID)
	c.JSON(status, orderView(o))
}

func (s *server) newOrder(ctx context.Context, req CreateOrderRequest) (models.NewOrder, error) {
	id, err := backoffice.OrderID(req.ID)
	if err != nil {
		return models.NewOrder{}, err
	}
	if err := checkLines(
		line{"customer_name", req.CustomerName, models.MaxNameLength},
		line{"company", req.Company, models.MaxNameLength},
	); err != nil {
		return models.NewOrder{}, err
	}
	n := models.NewOrder{ID: id, Kind: models.OrderKind(cmp.Or(req.Kind, string(models.OrderNew))),
		CustomerName: strings.TrimSpace(req.CustomerName), Company: strings.TrimSpace(req.Company)}
	if n.Country, n.VATID, err = models.TaxIdentity(req.Country, req.VATID, "country", "vat_id"); err != nil {
		return n, err
	}
	var tier models.Tier
	switch n.Kind {
	case models.OrderNew:
		if n.Email, err = models.NormalizeEmail(req.CustomerEmail, "customer_email"); err != nil {
			return n, err
		}
		if tier, err = s.sellableTier(ctx, req.Tier); err != nil {
			return n, err
		}
	case models.OrderRenewal, models.OrderAddon:
		if strings.TrimSpace(req.LicenseID) == "" {
			return n, httpx.Invalid("missing_license_id", "license_id", "a renewal or add-on order names its license in license_id")
		}
		l, err := s.Store.GetLicense(ctx, strings.TrimSpace(req.LicenseID))
		if p, ok := models.AsProblem(err); ok {
			return n, httpx.Invalid(p.Code, "license_id", p.Message)
		} else if err != nil {
			return n, err
		}
		if n.Kind == models.OrderAddon {
			return s.addonOrder(ctx, n, l, req)
		}
		if err := models.CheckRenewal(l); err != nil {
			return n, err
		}
		if tier, err = s.Store.GetTier(ctx, l.TierKey); err != nil {
			return n, err
		}
		n.LicenseID, n.Email = l.ID, l.Customer.Email
	default:
		return n, httpx.Invalid("invalid_kind", "kind", "kind must be new, renewal or addon")
	}
	if req.Product != "" {
		return n, httpx.Invalid("unexpected_product", "product", "product goes with kind addon only")
	}
	n.Tier, n.MaxDomains, n.Currency = tier, tier.MaxDomains, tier.Currency
	n.Months, n.Lifetime = tier.Months()
	if req.Months != nil {
		if n.Lifetime || *req.Months < 1 || *req.Months > models.MaxTermMonths {
			return n, httpx.Invalid("invalid_months", "months", fmt.Sprintf("months must be between 1 and %d, and absent for lifetime tiers", models.MaxTermMonths))
		}
		n.Months = *req.Months
	}
	if req.MaxDomains != nil {
		if n.Kind == models.OrderRenewal || *req.MaxDomains < 1 || *req.MaxDomains > models.MaxDomainsLimit {
			return n, httpx.Invalid("invalid_max_domains", "max_domains", fmt.Sprintf("max_domains must be between 1 and %d, on new orders only", models.MaxDomainsLimit))
		}
		n.MaxDomains = *req.MaxDomains
	}
	n.AmountCents = tier.PriceFor(n.Months)
	return n, orderPrice(&n, req)
}

// orderPrice lets the CRM's amount and currency, when given, replace the
// catalog's price of n.
func orderPrice(n *models.NewOrder, req CreateOrderRequest) error {
	if req.AmountCents != nil {
		if *req.AmountCents < 0 {
			return httpx.Invalid("invalid_amount", "amount_cents", "amount_cents cannot be negative")
		}
		n.AmountCents = *req.AmountCents
	}
	if req.Currency != "" {
		var err error
		if n.Currency, err = models.NormalizeCurrency(req.Currency, "currency"); err != nil {
			return err
		}
	}
	return nil
}

// addonOrder prices an add-on order for license l: the product's add-on
// price, for as long as the license lasts (no months, no domains).
func (s *server) addonOrder(ctx context.Context, n models.NewOrder, l models.License, req CreateOrderRequest) (models.NewOrder, error) {
	if req.Months != nil || req.MaxDomains != nil {
		return n, httpx.Invalid("invalid_addon_order", "", "an add-on lasts as long as its license: give no months or max_domains")
	}
	p, err := s.Store.AddonFor(ctx, l, req.Product)
	if problem, ok := models.AsProblem(err); ok && problem.Code == "product_not_found" {
		return n, httpx.Invalid(problem.Code, "product", problem.Message)
	} else if err != nil {
		return n, err
	}
	tier, err := s.Store.GetTier(ctx, l.TierKey)
	if err != nil {
		return n, err
	}
	n.Tier, n.LicenseID, n.Email, n.Product = tier, l.ID, l.Customer.Email, p.Code
	n.MaxDomains, n.AmountCents, n.Currency = l.MaxDomains, p.AddonPriceCents, p.AddonCurrency
	return n, orderPrice(&n, req)
}

// PayOrderRequest marks an order paid.
type PayOrderRequest struct {
	PaymentRef string `json:"payment_ref"`
}

// OrderPaid answers a paid order with the license it issued or extended.
type OrderPaid struct {
	Order   OrderView   `json:"order"`
	License LicenseView `json:"license"`
}

// payOrder marks an order paid and acts on it: a new order issues its
// license (202: being issued), a renewal extends its license on the same
// DLID, an add-on grants its product (200 for both, with the license as it
// is then); each is invoiced. Paying the same order again changes nothing.
func (s *server) payOrder(c *gin.Context) {
	var req PayOrderRequest
	if err := httpx.DecodeOptional(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	if err := checkLines(line{"payment_ref", req.PaymentRef, models.MaxPaymentRefLength}); err != nil {
		httpx.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	if err := s.checkIssuable(ctx, c.Param("id")); err != nil {
		httpx.Fail(c, err)
		return
	}
	o, l, err := s.Store.PayOrder(ctx, c.Param("id"), strings.TrimSpace(req.PaymentRef), s.Now())
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	if o.Kind == models.OrderNew {
		tier, err := s.Store.GetTier(ctx, o.TierKey)
		if err != nil {
			httpx.Fail(c, err)
			return
		}
		if err := s.Lifecycle.StartLicense(ctx, l, o, tier, o.Customer.Name); err != nil {
			httpx.Fail(c, httpx.NewError(http.StatusServiceUnavailable, "temporal_unavailable", "",
				fmt.Sprintf("order %s is paid but the workflow service is unreachable; retry this request to issue the license", o.ID)))
			return
		}
		c.JSON(http.StatusAccepted, OrderPaid{Order: orderView(o), License: s.licenseView(c, l, nil)})
		return
	}
	var paid models.LicenseUpdate = &models.RenewRequest{Months: o.Months, PaymentRef: "order:" + o.ID, OrderID: o.ID}
	if o.Kind == models.OrderAddon {
		paid = &models.AddEntitlementRequest{Product: o.Product, OrderID: o.ID}
	}
	st, err := s.Lifecycle.UpdateLicense(ctx, l, paid)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	l, ents, ok := s.loadLicenseByID(c, l.ID)
	if !ok {
		return
	}
	v := s.licenseView(c, l, ents)
	v.Workflow = workflowView(st)
	c.JSON(http.StatusOK, OrderPaid{Order: orderView(o), License: v})
}

// checkIssuable refuses to pay a new order whose license could never be
// issued: its customer's address or name would not fit the workflow's
// search attributes and emails (an order recorded before the limits, or
// by hand). The order stays pending and no license waits for a workflow
// that cannot start.
func (s *server) checkIssuable(ctx context.Context, id string) error {
	o, err := s.Store.GetOrder(ctx, id)
	if err != nil || o.Kind != models.OrderNew || o.Status != models.OrderPending {
		return err
	}
	if _, err := models.NormalizeEmail(o.Customer.Email, "customer_email"); err != nil {
		return err
	}
	return checkLines(line{"customer_name", o.Customer.Name, models.MaxNameLength}, line{"company", o.Customer.Company, models.MaxNameLength})
}

func (s *server) licenseOrders(c *gin.Context) {
	l, err := s.Store.GetLicense(c.Request.Context(), c.Param("id"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	orders, err := s.Store.ListOrders(c.Request.Context(), l.ID)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, pageOf(orders, orderView))
}

// listOrders lists orders newest first, for a CRM following payments:
// filters status, email, customer_id, license_id, created_from (inclusive)
// and created_before (exclusive, RFC 3339); cursor pages of limit (1-200, 50).
func (s *server) listOrders(c *gin.Context) {
	f := models.OrderFilter{Email: c.Query("email"), CustomerID: c.Query("customer_id"), LicenseID: c.Query("license_id"),
		Cursor: c.Query("cursor"), Limit: 50}
	if st := c.Query("status"); st != "" {
		if !slices.Contains(models.OrderStatuses, models.OrderStatus(st)) {
			httpx.Fail(c, httpx.Invalid("invalid_status", "status", "status must be one of "+joined(models.OrderStatuses)))
			return
		}
		f.Status = models.OrderStatus(st)
	}
	for _, bound := range []struct {
		param string
		into  *time.Time
	}{{"created_from", &f.CreatedFrom}, {"created_before", &f.CreatedBefore}} {
		raw := c.Query(bound.param)
		if raw == "" {
			continue
		}
		at, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			httpx.Fail(c, httpx.Invalid("invalid_"+bound.param, bound.param, bound.param+" must be an RFC 3339 time such as 2026-01-31T00:00:00Z"))
			return
		}
		*bound.into = at
	}
	var ok bool
	if f.Limit, ok = pageLimit(c, f.Limit, 200); !ok {
		return
	}
	page, err := s.Store.FilterOrders(c.Request.Context(), f)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	out := httpx.Page[OrderView]{Data: make([]OrderView, 0, len(page.Orders)), NextCursor: page.NextCursor}
	for _, o := range page.Orders {
		out.Data = append(out.Data, orderView(o))
	}
	c.JSON(http.StatusOK, out)
}

// joined lists values for an error message.
func joined[T ~string](values []T) string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return strings.Join(out, ", ")
}

// RenewalLinkRequest optionally overrides the renewal term.
type RenewalLinkRequest struct {
	Months *int `json:"months"`
}

// renewalLink prepares a renewal payment: a Stripe Checkout URL, or a
// pending CRM order.
func (s *server) renewalLink(c *gin.Context) {
	var req RenewalLinkRequest
	l, ok := s.licenseChange(c, httpx.DecodeOptional, &req, nil)
	if !ok {
		return
	}
	if err := models.CheckNotMaster(l, "renewed"); err != nil {
		httpx.Fail(c, err)
		return
	}
	link, err := s.Renewals.Link(c.Request.Context(), l, req.Months)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, link)
}
