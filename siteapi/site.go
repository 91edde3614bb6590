package siteapi

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/licensetoken"
	"github.com/licenseflow/licenseflow/metrics"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/sealing"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/usage"
)

// SiteRequest is what an installed site sends: its key, and for some calls
// its domain, the product asking and a nonce echoed in the signed answer.
type SiteRequest struct {
	DLID    string `json:"dlid"`
	Domain  string `json:"domain"`
	Product string `json:"product"`
	Nonce   string `json:"nonce"`
}

// SiteAnswer is licenseflow's signed answer to a site. Valid and Code are
// separate: an expired license in its grace period is valid with code
// EXPIRED and detail IN_GRACE.
type SiteAnswer struct {
	Valid       bool   `json:"valid"`
	Code        string `json:"code"`
	Detail      string `json:"detail,omitempty"`
	Activated   *bool  `json:"activated,omitempty"`
	Deactivated *bool  `json:"deactivated,omitempty"`
	// Staging says the request's domain is a staging or local copy of a
	// site: it activates without taking a slot.
	Staging         bool         `json:"staging,omitempty"`
	License         *SiteLicense `json:"license,omitempty"`
	ActivationLimit int          `json:"activation_limit"`
	ActivationUsage int          `json:"activation_usage"`
	TS              time.Time    `json:"ts"`
	Nonce           string       `json:"nonce,omitempty"`
	// Scope names the key, domain and product this answer is about; a
	// site must check it is its own question.
	Scope Scope `json:"scope"`
}

// SiteLicense is the license as a site sees it.
type SiteLicense struct {
	ID            string               `json:"id"`
	Tier          string               `json:"tier"`
	Status        models.LicenseStatus `json:"status"`
	ExpiresAt     *time.Time           `json:"expires_at"`
	GraceUntil    *time.Time           `json:"grace_until"`
	Entitlements  []string             `json:"entitlements"`
	MaxDomains    int                  `json:"max_domains"`
	ActiveDomains []string             `json:"active_domains"`
	// StagingDomains are the active domains that take no slot.
	StagingDomains []string `json:"staging_domains,omitempty"`
}

// Deps are the site-facing API's collaborators.
type Deps struct {
	Store *store.Store
	// Keys seal the signing keys' private halves in the database
	// (LICENSEFLOW_SECRET_KEYS); required.
	Keys *sealing.Keyring
	// Usage records site-facing hits.
	Usage *usage.Recorder
	// PublicURL is where sites reach licenseflow (download links in feeds).
	PublicURL string
	Now       func() time.Time
	// SiteCacheTTL keeps looked-up keys in memory, invalidated by the
	// store's change notices; 0 reads the database every time (use 0 when
	// another process writes licenses and no notices reach this one, i.e.
	// SQLite shared by separate processes).
	SiteCacheTTL time.Duration
	// Staging tells staging copies of sites, which take no domain slot.
	Staging models.StagingRule
	// Metrics counts validations and activations; nil counts nothing.
	Metrics *metrics.Metrics
	// LastSeen writes heartbeats in batches; nil writes each at once.
	LastSeen *usage.LastSeen
	// TokenValidity is how long an offline token is usable (0: 30 days).
	TokenValidity time.Duration
	// DomainSilence is how long a domain may stay silent before it is
	// released. A heartbeat is left to LastSeen only while the domain's
	// stored last_seen is younger than half of it, so a lost batch never
	// makes a live domain look silent; 0 writes every heartbeat at once.
	DomainSilence time.Duration
}

// server holds what the site-facing endpoints share: signing, rate limits,
// the usage recorder and the key cache.
type server struct {
	Deps
	signer      *signer
	domainRule  *domainRule
	unknownKeys *httpx.LimiterSet // per client IP, for keys that match nothing
	activations *httpx.LimiterSet // per license
	cache       *Cache            // nil: no cache
}

// Mount adds the routes installed sites call to r.
func Mount(r gin.IRouter, d Deps) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Keys == nil {
		panic("siteapi: Deps.Keys is required: signing keys are sealed under it")
	}
	s := &server{Deps: d, signer: &signer{store: d.Store, keys: d.Keys}, domainRule: &domainRule{store: d.Store},
		unknownKeys: httpx.NewLimiterSet(60, 30), activations: httpx.NewLimiterSet(30, 20)}
	if d.SiteCacheTTL > 0 {
		s.cache = NewCache(d.Store, d.SiteCacheTTL)
	}
	admin := httpx.RequireScope(d.Store, d.Now, models.ScopeAdmin)

	// Installed sites only have their key.
	v1 := r.Group("/api/v1")
	v1.POST("/licenses/validate", s.validate)
	v1.POST("/licenses/activate", s.activate)
	v1.POST("/licenses/deactivate", s.deactivate)
	v1.POST("/licenses/heartbeat", s.heartbeat)
	v1.POST("/licenses/token", s.siteToken)
	v1.GET("/keys/public", s.publicKeys)
	// Operators issue tokens for a license and rotate the signing key.
	v1.POST("/licenses/:id/token", admin, s.adminToken)
	v1.POST("/keys/rotate", admin, s.rotateKey)
	v1.POST("/keys/:kid/retire", admin, s.retireKey)

	r.GET("/updates/:product", s.joomlaFeed)
	r.GET("/updates/:product/latest", s.latestVersion)
	r.GET("/downloads/:product/:version", s.download)
	// WordPress plugins and themes using EDD's updater (it adds the slash).
	for _, path := range []string{EDDPath, EDDPath + "/"} {
		r.GET(path, s.edd)
		r.POST(path, s.edd)
	}
	r.GET("/releases/:product/:version", s.releasePage)
}

// maxSiteField bounds a site's nonce and product name.
const maxSiteField = 128

// siteCall reads and checks a site request and looks its key up. ok=false
// means the request was already answered: malformed input, a rate limit,
// or an outage (503: a site must never be told a good key is invalid
// because the database is down). sl is nil for a key that matches nothing.
func (s *server) siteCall(c *gin.Context, needDomain bool) (req SiteRequest, sl *models.SiteLicense, ok bool) {
	if err := httpx.Decode(c, &req); err != nil {
		httpx.Fail(c, err)
		return req, nil, false
	}
	for _, f := range []struct{ field, value string }{{"nonce", req.Nonce}, {"product", req.Product}} {
		if err := models.CheckLine(f.field, f.value, maxSiteField); err != nil { // echoed in signed answers
			httpx.Fail(c, err)
			return req, nil, false
		}
	}
	req.DLID = strings.ToLower(strings.TrimSpace(req.DLID))
	if req.DLID == "" {
		httpx.Fail(c, httpx.Invalid("missing_dlid", "dlid", "send the license key as dlid"))
		return req, nil, false
	}
	if err := checkNonceCommitment(req); err != nil { // over the domain as sent, before it is normalized
		httpx.Fail(c, err)
		return req, nil, false
	}
	if req.Domain != "" || needDomain {
		domain, err := models.NormalizeDomain(req.Domain)
		if err != nil {
			httpx.Fail(c, err)
			return req, nil, false
		}
		req.Domain = domain
	}
	if s.unknownKeysLimited(c) { // before the lookup: a right key is no way out of the limit
		return req, nil, false
	}
	found, err := s.lookupKey(c, req.DLID)
	if err != nil {
		httpx.Fail(c, err)
		return req, nil, false
	}
	if found == nil && s.tooManyUnknownKeys(c) {
		return req, nil, false
	}
	return req, found, true
}

// lookupKey finds the license of a key (nil when none has it). The stored
// key is compared in constant time; malformed keys never reach the database.
func (s *server) lookupKey(c *gin.Context, raw string) (*models.SiteLicense, error) {
	dlid, ok := models.ParseDLID(raw)
	if !ok {
		return nil, nil
	}
	var (
		sl  models.SiteLicense
		err error
	)
	if s.cache != nil {
		sl, err = s.cache.Lookup(c.Request.Context(), dlid)
	} else {
		sl, err = s.Store.LookupSiteLicense(c.Request.Context(), dlid)
	}
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(sl.License.Key()), []byte(dlid)) != 1 {
		return nil, nil
	}
	return &sl, nil
}

// isStaging tells whether domain is a staging copy of one of sl's sites: a
// domain already active as one stays one; otherwise the rule decides, with
// the license's production domains as what a staging prefix may stand in
// front of.
func (s *server) isStaging(sl *models.SiteLicense, domain string) bool {
	if sl == nil {
		return s.Staging.IsStaging(domain, nil)
	}
	if slices.Contains(sl.StagingDomains, domain) {
		return true
	}
	production := make([]string, 0, len(sl.ActiveDomains))
	for _, d := range sl.ActiveDomains {
		if !slices.Contains(sl.StagingDomains, d) {
			production = append(production, d)
		}
	}
	return s.Staging.IsStaging(domain, production)
}

func (s *server) decide(sl *models.SiteLicense, req SiteRequest) models.Decision {
	f := models.ValidationFacts{Product: req.Product, Domain: req.Domain, Now: s.Now(), DomainIsStaging: s.isStaging(sl, req.Domain),
		DomainRequired: s.domainRule.requires(req.Product)}
	if sl != nil {
		f.License, f.Entitled, f.ActiveDomains, f.StagingDomains = &sl.License, sl.Entitled, sl.ActiveDomains, sl.StagingDomains
	}
	return models.Decide(f)
}

func (s *server) siteAnswer(sl *models.SiteLicense, req SiteRequest, d models.Decision) SiteAnswer {
	a := SiteAnswer{Valid: d.Valid, Code: d.Code, Detail: d.Detail, TS: s.Now().UTC().Truncate(time.Second), Nonce: req.Nonce,
		Staging: s.isStaging(sl, req.Domain), Scope: scopeOf(req)}
	if sl == nil || sl.License.Status == models.StatusPending {
		return a
	}
	l := sl.License
	repos := make([]string, 0, len(sl.Entitlements))
	for _, e := range sl.Entitlements {
		repos = append(repos, e.Repo)
	}
	a.License = &SiteLicense{ID: l.ID, Tier: l.TierKey, Status: l.Status, ExpiresAt: l.ExpiresAt, GraceUntil: l.GraceUntil,
		Entitlements: repos, MaxDomains: l.MaxDomains, ActiveDomains: sl.ActiveDomains, StagingDomains: sl.StagingDomains}
	if a.License.ActiveDomains == nil {
		a.License.ActiveDomains = []string{}
	}
	a.ActivationLimit, a.ActivationUsage = l.MaxDomains, sl.SlotsInUse()
	return a
}

// answer signs and sends a site answer, and records the hit.
func (s *server) answer(c *gin.Context, kind models.UsageKind, sl *models.SiteLicense, req SiteRequest, a SiteAnswer) {
	if sl != nil {
		s.Usage.Record(models.UsageEvent{LicenseID: sl.License.ID, Kind: kind, Domain: req.Domain,
			IP: c.ClientIP(), Result: a.Code, At: s.Now()})
	}
	s.signed(c, http.StatusOK, a)
}

// signed writes v as JSON with its Ed25519 signature header.
func (s *server) signed(c *gin.Context, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	signature, err := s.signer.signAnswer(c.Request.Context(), body)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Header(licensetoken.SignatureHeader, signature)
	c.Data(status, "application/json; charset=utf-8", body)
}

// validate answers POST /api/v1/licenses/validate.
func (s *server) validate(c *gin.Context) {
	req, sl, ok := s.siteCall(c, false)
	if !ok {
		return
	}
	d := s.decide(sl, req)
	s.Metrics.Validation(d.Code)
	if d.Valid && req.Domain != "" {
		// A site that validates is in use as much as one that sends
		// heartbeats: both keep its domain from being released as silent.
		// The answer stands even when that cannot be written now.
		if err := s.keepDomain(c.Request.Context(), sl, req.Domain); err != nil {
			httpx.Logger(c).Warn("last-seen time of a validating domain not recorded", "domain", req.Domain, "error", err)
		}
	}
	s.answer(c, models.UsageValidate, sl, req, s.siteAnswer(sl, req, d))
}

// activate takes a domain slot for a site (or refreshes it).
func (s *server) activate(c *gin.Context) {
	req, sl, ok := s.siteCall(c, true)
	if !ok {
		return
	}
	d, activated, err := s.activateDomain(c, sl, req)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	a := s.siteAnswer(sl, req, d)
	a.Activated = &activated
	s.answer(c, models.UsageActivate, sl, req, a)
}

// activateDomain takes a slot for req.Domain, or none for a staging copy
// (or refreshes it); sl gets the new active domains. When the license
// cannot be used or every slot is taken, d says why and activated is
// false. err is for the caller to answer (a rate limit, an outage).
func (s *server) activateDomain(c *gin.Context, sl *models.SiteLicense, req SiteRequest) (d models.Decision, activated bool, err error) {
	domain, staging := req.Domain, s.isStaging(sl, req.Domain)
	req.Domain = "" // the license itself must be usable; the domain is what we add
	if d = s.decide(sl, req); !d.Valid {
		s.Metrics.Activation(d.Code, staging)
		return d, false, nil
	}
	if !s.activations.Allow(sl.License.ID) {
		c.Header("Retry-After", "60")
		return d, false, httpx.NewError(http.StatusTooManyRequests, "too_many_activations", "",
			"this license changed its domains too often; retry in a minute")
	}
	activate := s.Store.Activate
	if staging {
		activate = s.Store.ActivateStaging
	}
	_, active, err := activate(c.Request.Context(), sl.License.ID, domain, s.Now())
	if p, isProblem := models.AsProblem(err); isProblem && p.Code == models.CodeTooManyDomains {
		s.Metrics.Activation(models.CodeTooManyDomains, staging)
		return models.Decision{Code: models.CodeTooManyDomains, Detail: p.Message}, false, nil
	}
	if err != nil {
		return d, false, err
	}
	sl.ActiveDomains = active
	if staging && !slices.Contains(sl.StagingDomains, domain) {
		sl.StagingDomains = slices.Concat(sl.StagingDomains, []string{domain}) // a copy: sl may share the cache's slices
	}
	s.Metrics.Activation("ACTIVATED", staging)
	return d, true, nil
}

// deactivate frees a site's domain slot.
func (s *server) deactivate(c *gin.Context) {
	req, sl, ok := s.siteCall(c, true)
	if !ok {
		return
	}
	done := false
	if sl == nil {
		a := s.siteAnswer(nil, req, s.decide(nil, req))
		a.Deactivated = &done
		s.answer(c, models.UsageActivate, nil, req, a)
		return
	}
	err := s.Store.Deactivate(c.Request.Context(), sl.License.ID, req.Domain, s.Now())
	d := models.Decision{Valid: true, Code: models.CodeValid}
	switch p, isProblem := models.AsProblem(err); {
	case isProblem:
		d = models.Decision{Code: p.Code, Detail: p.Message}
	case err != nil:
		httpx.Fail(c, err)
		return
	default:
		done = true
		sl.ActiveDomains, sl.StagingDomains = without(sl.ActiveDomains, req.Domain), without(sl.StagingDomains, req.Domain)
	}
	a := s.siteAnswer(sl, req, d)
	a.Deactivated = &done
	s.answer(c, models.UsageActivate, sl, req, a)
}

// heartbeat tells licenseflow an active domain is still in use, so it is
// not released as silent; the answer is a full validation.
func (s *server) heartbeat(c *gin.Context) {
	req, sl, ok := s.siteCall(c, true)
	if !ok {
		return
	}
	if sl != nil {
		if err := s.keepDomain(c.Request.Context(), sl, req.Domain); err != nil {
			httpx.Fail(c, err)
			return
		}
	}
	s.answer(c, models.UsageHeartbeat, sl, req, s.siteAnswer(sl, req, s.decide(sl, req)))
}

// keepDomain records that an active domain of sl is still in use: in the
// next batch when its stored last_seen is recent, at once otherwise. A
// domain that is not active has nothing to keep (the answer says so).
func (s *server) keepDomain(ctx context.Context, sl *models.SiteLicense, domain string) error {
	stored, active := sl.LastSeen[domain]
	if !active {
		return nil
	}
	now := s.Now()
	if s.LastSeen != nil && now.Sub(stored) < s.DomainSilence/2 {
		s.LastSeen.Seen(models.Heartbeat{LicenseID: sl.License.ID, Domain: domain, At: now})
		return nil
	}
	err := s.Store.Heartbeat(ctx, sl.License.ID, domain, now)
	if errors.Is(err, models.ErrNotFound) { // deactivated since sl was read
		return nil
	}
	return err
}

func without(list []string, item string) []string {
	out := make([]string, 0, len(list))
	for _, x := range list {
		if x != item {
			out = append(out, x)
		}
	}
	return out
}

// PublicKey is one published verification key.
type PublicKey struct {
	KeyID     string `json:"kid"`
	Algorithm string `json:"alg"`
	PublicKey string `json:"public_key"`
	Active    bool   `json:"active"`
}

// PublicKeys are the keys that verify signed answers and offline tokens,
// and the header signed answers carry.
type PublicKeys struct {
	Keys            []PublicKey `json:"keys"`
	SignatureHeader string      `json:"signature_header"`
}

// publicKeys publishes the public half of every key whose signatures
// verify: the active key, and a replaced one for keyOverlap after it was
// replaced, so the tokens and answers it signed verify until they run out.
// A retired key is not listed.
func (s *server) publicKeys(c *gin.Context) {
	if _, err := s.signer.key(c.Request.Context()); err != nil { // the first start creates one
		httpx.Fail(c, err)
		return
	}
	keys, err := s.Store.PublishedSigningKeys(c.Request.Context(), s.Now().Add(-keyOverlap(s.tokenValidity())))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	out := make([]PublicKey, len(keys))
	for i, k := range keys {
		out[i] = publicKeyOf(k)
	}
	c.JSON(http.StatusOK, PublicKeys{Keys: out, SignatureHeader: licensetoken.SignatureHeader})
}

// publicKeyOf is how a key is published.
func publicKeyOf(k models.SigningKey) PublicKey {
	return PublicKey{KeyID: k.ID, Algorithm: "ed25519", PublicKey: base64.StdEncoding.EncodeToString(k.PublicKey), Active: k.Active}
}

// rotateKey makes a new signing key (admin). The one it replaces signs no
// more and stays published for the overlap.
func (s *server) rotateKey(c *gin.Context) {
	k, err := newSigningKey(s.Keys)
	if err == nil {
		err = s.Store.AddSigningKey(c.Request.Context(), k, s.Now())
	}
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	s.signer.set(k)
	c.JSON(http.StatusCreated, publicKeyOf(k))
}

// RetiredKey answers a retirement: the key retired and the one that signs.
type RetiredKey struct {
	Retired   PublicKey `json:"retired"`
	RetiredAt time.Time `json:"retired_at"`
	Active    PublicKey `json:"active"`
}

// retireKey retires a signing key (admin), a leaked one at once: it is
// published no more, so sites that refresh their keys refuse what it
// signed, and its private half is deleted. Retiring the active key puts a
// new one in its place.
func (s *server) retireKey(c *gin.Context) {
	ctx := c.Request.Context()
	replacement, err := newSigningKey(s.Keys)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	retired, err := s.Store.RetireSigningKey(ctx, c.Param("kid"), replacement, s.Now())
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	s.signer.forget(retired.ID)
	active, err := s.signer.key(ctx)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, RetiredKey{Retired: publicKeyOf(retired), RetiredAt: *retired.RetiredAt, Active: publicKeyOf(active)})
}

// tokenValidity is how long an offline token is usable.
func (s *server) tokenValidity() time.Duration {
	if s.TokenValidity <= 0 {
		return 30 * 24 * time.Hour
	}
	return s.TokenValidity
}

// LicenseToken is an offline license token and what it claims.
type LicenseToken struct {
	Token  string              `json:"token"`
	Claims licensetoken.Claims `json:"claims"`
}

// siteToken issues an offline token to a site holding a usable key.
func (s *server) siteToken(c *gin.Context) {
	_, sl, ok := s.siteCall(c, false)
	if !ok {
		return
	}
	s.issueToken(c, sl)
}

// adminToken issues an offline token for a license by id.
func (s *server) adminToken(c *gin.Context) {
	l, err := s.Store.GetLicense(c.Request.Context(), c.Param("id"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	if l.Key() == "" {
		httpx.Fail(c, models.Conflict("license_pending", "the license is still being issued; retry in a few seconds"))
		return
	}
	sl, err := s.Store.LookupSiteLicense(c.Request.Context(), l.Key())
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	s.issueToken(c, &sl)
}

// issueToken signs an offline token for a license in good standing only:
// a revoked, suspended or expired license (in grace too) gets none, so its
// last token runs out at its valid_until.
func (s *server) issueToken(c *gin.Context, sl *models.SiteLicense) {
	if d := s.decide(sl, SiteRequest{}); d.Code != models.CodeValid {
		detail := d.Detail
		if detail == "" {
			detail = d.Code
		}
		httpx.Fail(c, httpx.NewError(http.StatusForbidden, strings.ToLower(d.Code), "dlid", "no token for this key: "+detail))
		return
	}
	key, err := s.signer.key(c.Request.Context())
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	l := sl.License
	claims := licensetoken.Claims{DLID: l.Key(), Tier: l.TierKey, ExpiresAt: l.ExpiresAt, GraceUntil: l.GraceUntil,
		MaxDomains: l.MaxDomains, IssuedAt: s.Now().UTC().Truncate(time.Second), Entitlements: []string{}}
	validUntil := claims.IssuedAt.Add(s.tokenValidity())
	claims.ValidUntil = &validUntil
	for _, e := range sl.Entitlements {
		claims.Entitlements = append(claims.Entitlements, e.Repo)
	}
	tok, err := licensetoken.Sign(claims, key.ID, key.PrivateKey)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	claims.KeyID = key.ID
	c.JSON(http.StatusOK, LicenseToken{Token: tok, Claims: claims})
}
