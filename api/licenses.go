package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/backoffice"
	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
)

// CreateLicenseRequest is the CRM's "order completed" call.
type CreateLicenseRequest struct {
	UserEmail     string `json:"user_email"`
	Tier          string `json:"tier"`
	MaxDomains    *int   `json:"max_domains"`
	ExpiresMonths *int   `json:"expires_months"`
	// ExpiresAt buys a term ending on a date instead of expires_months.
	ExpiresAt    *string `json:"expires_at"`
	OrderID      string  `json:"order_id"`
	CustomerName string  `json:"customer_name"`
	Company      string  `json:"company"`
	// Name labels the license, e.g. the shop it runs.
	Name string `json:"name"`
	// Domains are activated with the purchase, as sites activate them.
	Domains     []string `json:"domains"`
	Type        string   `json:"type"`
	AmountCents *int64   `json:"amount_cents"`
	Currency    string   `json:"currency"`
	PaymentRef  string   `json:"payment_ref"`
	// Country (ISO 3166 alpha-2) and VATID set the customer's tax identity:
	// a VAT ID in another EU country than the seller's is reverse charged.
	Country string `json:"country"`
	VATID   string `json:"vat_id"`
}

// createLicense records the paid order and starts the license's workflow.
// 202: a new license is being issued; 200: this order was already recorded
// (the same license is returned, nothing new is issued).
func (s *server) createLicense(c *gin.Context) {
	var req CreateLicenseRequest
	if err := httpx.Decode(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	p, err := s.office().Purchase(ctx, backoffice.LicenseRequest(req))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	if req.OrderID == "" && c.GetHeader(httpx.IdempotencyHeader) != "" {
		// A retry after an outage carries the same key: it must find the
		// order the first attempt recorded, not record another one.
		sum := sha256.Sum256([]byte(fmt.Sprintf("%d %s", httpx.Token(c).ID, c.GetHeader(httpx.IdempotencyHeader))))
		p.OrderID = "idem_" + hex.EncodeToString(sum[:10])
	}
	order, license, created, err := s.office().CreateLicense(ctx, p)
	if errors.Is(err, backoffice.ErrWorkflowUnavailable) {
		httpx.Logger(c).Error("starting license workflow failed", "license", license.ID, "error", err)
		// The order is recorded; retrying with the same order_id starts the workflow.
		httpx.Fail(c, httpx.NewError(http.StatusServiceUnavailable, "temporal_unavailable", "",
			fmt.Sprintf("order %s is recorded but the workflow service is unreachable; retry the same request (same order_id) to finish", order.ID)))
		return
	}
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	status := http.StatusAccepted
	if !created {
		status = http.StatusOK
	}
	c.Header("Location", "/api/v1/licensing/licenses/"+license.ID)
	c.JSON(status, s.licenseView(c, license, nil))
}

// office is the manual work the dashboard shares.
func (s *server) office() backoffice.Office {
	return backoffice.Office{Store: s.Store, Lifecycle: s.Lifecycle, ReleasesDir: s.ReleasesDir, Now: s.Now}
}

// sellableTier finds an active tier (see backoffice.Office.SellableTier).
func (s *server) sellableTier(ctx context.Context, key string) (models.Tier, error) {
	return s.office().SellableTier(ctx, key)
}

// listLicenses lists licenses from the database (never waits on workflows).
func (s *server) listLicenses(c *gin.Context) {
	f := models.LicenseFilter{Email: c.Query("email"), Tier: strings.ToLower(c.Query("tier")), Cursor: c.Query("cursor"), Now: s.Now(), Limit: 50}
	if st := c.Query("status"); st != "" {
		if !slices.Contains(models.LicenseStatuses, models.LicenseStatus(st)) {
			httpx.Fail(c, httpx.Invalid("invalid_status", "status", "status must be one of pending, active, expiring, expired, suspended, revoked"))
			return
		}
		f.Status = models.LicenseStatus(st)
	}
	if w := c.Query("expiring_within"); w != "" {
		d, err := parseWindow(w)
		if err != nil {
			httpx.Fail(c, httpx.Invalid("invalid_expiring_within", "expiring_within", "expiring_within must be a number of days (30 or 30d) or a duration such as 720h"))
			return
		}
		f.ExpiringWithin = d
	}
	var ok bool
	if f.Limit, ok = pageLimit(c, f.Limit, 200); !ok {
		return
	}
	page, err := s.Store.ListLicenses(c.Request.Context(), f)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	out := httpx.Page[LicenseView]{Data: make([]LicenseView, 0, len(page.Licenses)), NextCursor: page.NextCursor}
	for _, l := range page.Licenses {
		out.Data = append(out.Data, s.licenseView(c, l, nil))
	}
	c.JSON(http.StatusOK, out)
}

func parseWindow(s string) (time.Duration, error) {
	if days, err := strconv.Atoi(strings.TrimSuffix(s, "d")); err == nil {
		if days < 0 || days > 3650 {
			return 0, errors.New("out of range")
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, errors.New("bad duration")
	}
	return d, nil
}

// workflowUnavailable is what a license's details say when its workflow
// does not answer.
const workflowUnavailable = "live state unavailable: Temporal did not answer; the stored license is shown"

// getLicense shows the stored license plus its workflow's live state; when
// the workflow cannot be reached the stored license is still shown.
func (s *server) getLicense(c *gin.Context) {
	l, ents, ok := s.loadLicense(c)
	if !ok {
		return
	}
	v := s.licenseView(c, l, ents)
	if l.IsMaster() { // no workflow: nothing to ask
		c.JSON(http.StatusOK, v)
		return
	}
	if st, err := s.Lifecycle.QueryLicense(c.Request.Context(), l.WorkflowID); err != nil {
		// The cause (hosts, ports, Temporal's own words) goes to the log,
		// not to every reader of the license.
		slog.WarnContext(c.Request.Context(), "license's workflow not queried", "license", l.ID, "error", err)
		v.Workflow = &WorkflowView{Reachable: false, Error: workflowUnavailable}
	} else {
		v.Workflow = workflowView(st)
	}
	c.JSON(http.StatusOK, v)
}

func (s *server) loadLicense(c *gin.Context) (models.License, []models.Entitlement, bool) {
	return s.loadLicenseByID(c, c.Param("id"))
}

// loadLicenseByID reads a license and its entitlements, answering the
// request with the error if that fails.
func (s *server) loadLicenseByID(c *gin.Context, id string) (models.License, []models.Entitlement, bool) {
	l, err := s.Store.GetLicense(c.Request.Context(), id)
	if err != nil {
		httpx.Fail(c, err)
		return l, nil, false
	}
	ents, err := s.Store.GetEntitlements(c.Request.Context(), l.ID)
	if err != nil {
		httpx.Fail(c, err)
		return l, nil, false
	}
	return l, ents, true
}

// PatchLicenseRequest changes a license; every field is optional, at least
// one is required, and they apply together or not at all.
type PatchLicenseRequest struct {
	// Domains replaces the license's active domains; it is changed in a
	// request of its own.
	Domains       *[]string `json:"domains"`
	Name          *string   `json:"name"`
	ExpiresMonths *int      `json:"expires_months"`
	ExpiresAt     *string   `json:"expires_at"`
	Tier          *string   `json:"tier"`
	MaxDomains    *int      `json:"max_domains"`
	Status        *string   `json:"status"`
	Reason        string    `json:"reason"`
	OrderID       string    `json:"order_id"`
	PaymentRef    string    `json:"payment_ref"`
	AmountCents   *int64    `json:"amount_cents"`
}

// patchLicense applies changes through the workflow's patch update; a
// renewal by months records a paid renewal order (invoiced by the workflow).
func (s *server) patchLicense(c *gin.Context) {
	var req PatchLicenseRequest
	l, ok := s.licenseChange(c, httpx.Decode, &req, func() []line {
		return []line{{"reason", req.Reason, models.MaxReasonLength}, {"payment_ref", req.PaymentRef, models.MaxPaymentRefLength}}
	})
	if !ok {
		return
	}
	if err := models.CheckNotMaster(l, "changed"); err != nil {
		httpx.Fail(c, err)
		return
	}
	if req.Domains != nil {
		s.setDomains(c, l, req)
		return
	}
	if !needsWrite(c, "changes other than domains") {
		return
	}
	patch := models.PatchRequest{Reason: req.Reason, RequestID: c.GetHeader(httpx.IdempotencyHeader)}
	if req.Name != nil {
		name := strings.TrimSpace(*req.Name)
		if err := models.CheckLicenseName(name); err != nil {
			httpx.Fail(c, err)
			return
		}
		patch.Name = &name
	}
	if req.Tier != nil {
		tier, err := s.sellableTier(c.Request.Context(), *req.Tier)
		if err != nil {
			httpx.Fail(c, err)
			return
		}
		patch.Tier = tier.Key
	}
	if req.MaxDomains != nil {
		active, err := s.Store.CountActiveDomains(c.Request.Context(), l.ID)
		if err != nil {
			httpx.Fail(c, err)
			return
		}
		patch.MaxDomains = &models.SetMaxDomainsRequest{MaxDomains: *req.MaxDomains, ActiveDomains: active}
	}
	if req.Status != nil {
		patch.Status = models.LicenseStatus(*req.Status)
	}
	if req.ExpiresMonths != nil && req.ExpiresAt != nil {
		httpx.Fail(c, httpx.Invalid("ambiguous_renewal", "expires_at", "give either expires_months (a renewal) or expires_at (a correction of the expiry), not both"))
		return
	}
	if req.ExpiresAt != nil { // a correction, not a renewal: nothing is paid or invoiced
		at, err := backoffice.ParseExpiresAt(*req.ExpiresAt)
		if err != nil {
			httpx.Fail(c, err)
			return
		}
		patch.ExpiresAt = &at
	}
	renew, err := s.renewalFrom(c, l, renewalInput{
		Months: req.ExpiresMonths, OrderID: req.OrderID, PaymentRef: req.PaymentRef, AmountCents: req.AmountCents,
	})
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	patch.Renew = renew
	s.applyUpdate(c, l, &patch)
}

// setDomains replaces a license's active domains (seed 001's domains by
// PATCH), normalized and limited as activation is; alone in its request,
// so the change is all or nothing.
func (s *server) setDomains(c *gin.Context, l models.License, req PatchLicenseRequest) {
	if req.Name != nil || req.ExpiresMonths != nil || req.ExpiresAt != nil || req.Tier != nil || req.MaxDomains != nil ||
		req.Status != nil || req.OrderID != "" || req.PaymentRef != "" || req.AmountCents != nil {
		httpx.Fail(c, httpx.Invalid("domains_alone", "domains", "change domains in a request of their own, without other fields"))
		return
	}
	domains, err := models.NormalizeDomainList(*req.Domains, l.MaxDomains, "domains")
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	if err := s.Store.SetDomains(c.Request.Context(), l.ID, domains, s.Now()); err != nil {
		httpx.Fail(c, err)
		return
	}
	l, ents, ok := s.loadLicenseByID(c, l.ID)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, s.licenseView(c, l, ents))
}

type renewalInput struct {
	Months      *int
	ExpiresAt   *string
	OrderID     string
	PaymentRef  string
	AmountCents *int64
}

// renewalFrom turns renewal fields into a RenewRequest (nil when there are
// none). Renewing by months records a paid renewal order first, priced from
// the tier unless amount_cents says otherwise.
func (s *server) renewalFrom(c *gin.Context, l models.License, in renewalInput) (*models.RenewRequest, error) {
	if in.Months == nil && in.ExpiresAt == nil {
		return nil, nil
	}
	if in.Months != nil && in.ExpiresAt != nil {
		return nil, httpx.Invalid("ambiguous_renewal", "expires_at", "give either expires_months or expires_at, not both")
	}
	if in.ExpiresAt != nil {
		at, err := backoffice.ParseExpiresAt(*in.ExpiresAt)
		if err != nil {
			return nil, err
		}
		return &models.RenewRequest{ExpiresAt: &at, PaymentRef: in.PaymentRef}, nil
	}
	months := *in.Months
	if months < 1 || months > models.MaxTermMonths {
		return nil, httpx.Invalid("invalid_expires_months", "expires_months", fmt.Sprintf("expires_months must be between 1 and %d", models.MaxTermMonths))
	}
	// Refuse what the workflow would refuse before a paid order is recorded.
	if err := models.CheckRenewal(l); err != nil {
		return nil, err
	}
	tier, err := s.Store.GetTier(c.Request.Context(), l.TierKey)
	if err != nil {
		return nil, err
	}
	amount := tier.PriceFor(months)
	if in.AmountCents != nil {
		if *in.AmountCents < 0 {
			return nil, httpx.Invalid("invalid_amount", "amount_cents", "amount_cents cannot be negative")
		}
		amount = *in.AmountCents
	}
	id, err := backoffice.OrderID(in.OrderID)
	if err != nil {
		return nil, err
	}
	paymentRef := strings.TrimSpace(in.PaymentRef)
	order, err := s.Store.RecordLicenseOrder(c.Request.Context(), models.LicenseOrder{
		OrderID: id, License: l, Months: months, AmountCents: amount, Currency: tier.Currency,
		PaymentRef: paymentRef, PaidAt: s.Now(),
	})
	if err != nil {
		return nil, err
	}
	if paymentRef == "" {
		paymentRef = "order:" + order.ID // the same order never renews twice
	}
	return &models.RenewRequest{Months: months, PaymentRef: paymentRef, OrderID: order.ID}, nil
}

// ActionRequest is the body of POST /licensing/licenses/{id}/{action}; every
// field is optional.
type ActionRequest struct {
	Months      *int    `json:"months"`
	ExpiresAt   *string `json:"expires_at"`
	OrderID     string  `json:"order_id"`
	PaymentRef  string  `json:"payment_ref"`
	AmountCents *int64  `json:"amount_cents"`
	Reason      string  `json:"reason"`
}

// licenseAction runs renew, suspend, reinstate or revoke as a workflow update.
func (s *server) licenseAction(c *gin.Context) {
	action := models.Action(c.Param("action"))
	if !slices.Contains([]models.Action{models.ActionRenew, models.ActionSuspend, models.ActionReinstate, models.ActionRevoke}, action) {
		httpx.Fail(c, httpx.NewError(http.StatusNotFound, "route_not_found", "", fmt.Sprintf("unknown action %q; use renew, suspend, reinstate or revoke", action)))
		return
	}
	if action == models.ActionRevoke && !needsWrite(c, "revoking") {
		return
	}
	var req ActionRequest
	l, ok := s.licenseChange(c, httpx.DecodeOptional, &req, func() []line {
		return []line{{"reason", req.Reason, models.MaxReasonLength}, {"payment_ref", req.PaymentRef, models.MaxPaymentRefLength}}
	})
	if !ok {
		return
	}
	if l.IsMaster() {
		if action != models.ActionRevoke { // no workflow to suspend, renew or reinstate
			httpx.Fail(c, models.CheckNotMaster(l, verbs[action]))
			return
		}
		// Revoking the master license would leave the vendor without
		// access (seed 001): it issues a new key instead.
		if !httpx.Token(c).Allows(models.ScopeAdmin) {
			httpx.Fail(c, httpx.NewError(http.StatusForbidden, "insufficient_scope", "", "rotating the master license's key needs the admin scope"))
			return
		}
		s.answerRotation(c, l.ID, req.Reason)
		return
	}
	requestID := c.GetHeader(httpx.IdempotencyHeader)
	switch action {
	case models.ActionRenew:
		if req.Months == nil && req.ExpiresAt == nil {
			tier, err := s.Store.GetTier(c.Request.Context(), l.TierKey)
			if err != nil {
				httpx.Fail(c, err)
				return
			}
			months, _ := tier.Months()
			req.Months = &months
		}
		renew, err := s.renewalFrom(c, l, renewalInput{Months: req.Months, ExpiresAt: req.ExpiresAt, OrderID: req.OrderID, PaymentRef: req.PaymentRef, AmountCents: req.AmountCents})
		if err != nil {
			httpx.Fail(c, err)
			return
		}
		s.applyUpdate(c, l, renew)
	case models.ActionSuspend:
		s.applyUpdate(c, l, &models.SuspendRequest{Reason: req.Reason, RequestID: requestID})
	case models.ActionReinstate:
		s.applyUpdate(c, l, &models.ReinstateRequest{RequestID: requestID})
	case models.ActionRevoke:
		s.applyUpdate(c, l, &models.RevokeRequest{Reason: req.Reason, RequestID: requestID})
	}
}

// needsWrite refuses what licenses:support alone does not allow (see
// models.ScopeLicensesSupport); what says what was asked for.
func needsWrite(c *gin.Context, what string) bool {
	if tok := httpx.Token(c); !tok.Allows(models.ScopeLicensesWrite) {
		httpx.Fail(c, httpx.NewError(http.StatusForbidden, "insufficient_scope", "",
			fmt.Sprintf("token %q lacks the licenses:write scope that %s needs (licenses:support suspends, reinstates, renews and sets domains)", tok.Name, what)))
		return false
	}
	return true
}

// applyUpdate sends the update and answers with the license as it now is:
// the workflow projects its state before answering, so the database view
// and the workflow agree.
func (s *server) applyUpdate(c *gin.Context, l models.License, msg models.LicenseUpdate) {
	st, err := s.Lifecycle.UpdateLicense(c.Request.Context(), l, msg)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	l, ents, ok := s.loadLicense(c)
	if !ok {
		return
	}
	v := s.licenseView(c, l, ents)
	v.Workflow = workflowView(st)
	c.JSON(http.StatusOK, v)
}

// licenseChange is how every change to the license in the URL begins:
// decode the body into req, check its one-line fields (read after
// decoding), load the license. On a failure it has answered the request
// and ok is false.
func (s *server) licenseChange(c *gin.Context, decode func(*gin.Context, any) error, req any, lines func() []line) (l models.License, ok bool) {
	if err := decode(c, req); err != nil {
		httpx.Fail(c, err)
		return l, false
	}
	if lines != nil {
		if err := checkLines(lines()...); err != nil {
			httpx.Fail(c, err)
			return l, false
		}
	}
	l, err := s.Store.GetLicense(c.Request.Context(), c.Param("id"))
	if err != nil {
		httpx.Fail(c, err)
		return l, false
	}
	return l, true
}

// line is a one-line text field and its limit.
type line struct {
	field, value string
	max          int
}

// checkLines checks one-line text fields in order (see models.CheckLine).
func checkLines(lines ...line) error {
	for _, l := range lines {
		if err := models.CheckLine(l.field, l.value, l.max); err != nil {
			return err
		}
	}
	return nil
}

// verbs name actions in a sentence: "the master license cannot be suspended".
var verbs = map[models.Action]string{models.ActionRenew: "renewed", models.ActionSuspend: "suspended", models.ActionReinstate: "reinstated"}

// rotateKey issues the master license a new key at once (POST
// …/rotate-key). Any other license keeps its DLID for life: 409.
func (s *server) rotateKey(c *gin.Context) {
	var req ActionRequest
	if _, ok := s.licenseChange(c, httpx.DecodeOptional, &req, func() []line {
		return []line{{"reason", req.Reason, models.MaxReasonLength}}
	}); !ok {
		return
	}
	s.answerRotation(c, c.Param("id"), req.Reason)
}

// answerRotation rotates the master key and answers with the license and
// its new key, shown this once; the ledger keeps both keys masked.
func (s *server) answerRotation(c *gin.Context, id, reason string) {
	key, _, err := s.Store.RotateMasterKey(c.Request.Context(), id, models.ActorFrom(c.Request.Context()), strings.TrimSpace(reason), s.Now())
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	l, ents, ok := s.loadLicenseByID(c, id)
	if !ok {
		return
	}
	v := s.licenseView(c, l, ents)
	v.DLID, v.DLIDMasked = key, models.MaskDLID(key)
	httpx.Sensitive(c, "the master license's new key "+v.DLIDMasked) // never kept for an idempotent replay
	c.JSON(http.StatusOK, v)
}
