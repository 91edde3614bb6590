// Package web is the customer portal and the admin dashboard:
// server-rendered pages (templates and static files embedded) that work
// without JavaScript (a few lines add click-to-copy), with magic-link
// sign-in, server-side sessions and CSRF tokens. Every change an operator
// makes goes through the license's workflow.
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/lifecycle"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/webhooks"
)

//go:embed templates static
var webFiles embed.FS

var pages = template.Must(template.New("pages").Funcs(template.FuncMap{
	"date": func(t *time.Time) string {
		if t == nil {
			return "never"
		}
		return t.UTC().Format("2 Jan 2006")
	},
	"datetime": func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") },
	"money":    models.FormatMoney,
	"mask":     models.MaskDLID,
	"join":     strings.Join,
	"lower":    strings.ToLower,
	// can hides what the operator's role may not do (the handlers check
	// again: a hidden button is no protection).
	"can": func(r models.Role, p string) bool { return r.Can(models.Permission(p)) },
}).ParseFS(webFiles, "templates/*.html"))

// webPage is what every page template gets.
type webPage struct {
	Title    string
	Area     string      // "portal" or "admin"
	Email    string      // signed-in user, if any
	Role     models.Role // a signed-in operator's
	CSRF     string
	Notice   string
	Error    string
	Data     any
	Template string
	// Refresh reloads a page that waits for something (without script).
	Refresh bool
}

// render writes a page; a template error is a bug and answers 500.
func (s *server) render(c *gin.Context, status int, p webPage) {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, p.Template, p); err != nil {
		httpx.Logger(c).Error("rendering page failed", "template", p.Template, "error", err)
		c.String(http.StatusInternalServerError, "Something went wrong on our side; the error is logged.")
		return
	}
	c.Header("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self' https://checkout.stripe.com; frame-ancestors 'none'")
	c.Header("X-Frame-Options", "DENY")
	c.Header("Referrer-Policy", "same-origin")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(status, "text/html; charset=utf-8", b.Bytes())
}

// webError answers a page request with a friendly page; 404 for what the
// visitor may not see (never "forbidden", which would confirm it exists).
func (s *server) webError(c *gin.Context, status int, area, message string) {
	s.render(c, status, webPage{Title: http.StatusText(status), Area: area, Template: "error", Error: message})
	c.Abort()
}

// staticFiles serves the embedded CSS and JavaScript.
func staticFiles() http.FileSystem {
	sub, err := fs.Sub(webFiles, "static")
	if err != nil {
		panic(err)
	}
	return http.FS(sub)
}

// Cookies: one session per area, HttpOnly, SameSite=Lax (links from emails
// still sign in), Secure when licenseflow is served over https.
const (
	portalCookie = "lf_portal"
	adminCookie  = "lf_admin"
	csrfCookie   = "lf_csrf"   // double-submit token for forms shown before sign-in
	noticeCookie = "lf_notice" // what the page after a form's redirect says
	// adminCookiePath is the whole site: the codec endpoint the Web UI
	// calls (/codec) needs the operator's session as much as /admin does.
	adminCookiePath = "/"
)

func (s *server) setCookie(c *gin.Context, name, value, path string, maxAge time.Duration) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: int(maxAge.Seconds()), HttpOnly: true,
		Secure: strings.HasPrefix(s.PublicURL, "https://"), SameSite: http.SameSiteLaxMode,
	})
}

// redirectWithNotice answers a form with a redirect to location, whose page
// then says notice. The notice travels in a one-minute cookie, never in the
// URL: a link cannot make a trusted page say what its sender chose.
func (s *server) redirectWithNotice(c *gin.Context, location, notice string) {
	s.setCookie(c, noticeCookie, base64.RawURLEncoding.EncodeToString([]byte(notice)), "/", time.Minute)
	c.Redirect(http.StatusSeeOther, location)
}

// takeNotice returns the notice a redirect left for this page, once.
func (s *server) takeNotice(c *gin.Context) string {
	raw, err := c.Cookie(noticeCookie)
	if err != nil {
		return ""
	}
	s.setCookie(c, noticeCookie, "", "/", -time.Second)
	notice, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || !utf8.Valid(notice) {
		return ""
	}
	return models.Clip(string(notice), 1000)
}

// session returns the signed-in session of an area, if any.
func (s *server) session(c *gin.Context, aud models.Audience) (models.Session, string, bool) {
	name := portalCookie
	if aud == models.AudienceAdmin {
		name = adminCookie
	}
	id, err := c.Cookie(name)
	if err != nil || id == "" {
		return models.Session{}, "", false
	}
	sess, err := s.Store.GetSession(c.Request.Context(), id, s.Now())
	if err != nil || sess.Audience != aud {
		return models.Session{}, "", false
	}
	// An operator stays one only while their address is in
	// LICENSEFLOW_ADMIN_EMAILS or LICENSEFLOW_SUPPORT_EMAILS, or their token
	// is live, and has the role those say now, not at sign-in.
	if aud == models.AudienceAdmin {
		role, known, err := s.operatorRole(c.Request.Context(), sess)
		if err != nil {
			httpx.Logger(c).Warn("operator's role not read; treated as signed out", "error", err)
			return models.Session{}, "", false
		}
		if !known {
			_ = s.Store.DeleteSession(c.Request.Context(), id)
			return models.Session{}, "", false
		}
		if role != sess.Role {
			if err := s.Store.SetSessionRole(c.Request.Context(), id, role); err != nil {
				httpx.Logger(c).Warn("operator's new role not recorded", "error", err)
			}
			sess.Role = role
		}
	}
	return sess, id, true
}

// operatorRole is the role an operator's session has now: from the
// address lists for a magic-link sign-in, from the token's scopes for a
// token sign-in. known is false when neither makes them an operator any
// more.
func (s *server) operatorRole(ctx context.Context, sess models.Session) (role models.Role, known bool, err error) {
	if sess.APITokenID != nil {
		tok, err := s.Store.GetLiveToken(ctx, *sess.APITokenID)
		if errors.Is(err, models.ErrNotFound) {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		role, known = models.TokenRole(tok)
		return role, known, nil
	}
	role, known = s.emailRole(sess.Email)
	return role, known, nil
}

// emailRole is the role an address signs in to the dashboard with.
func (s *server) emailRole(email string) (models.Role, bool) {
	switch {
	case slices.Contains(s.AdminEmails, email):
		return models.RoleOwner, true
	case slices.Contains(s.SupportEmails, email):
		return models.RoleSupport, true
	}
	return "", false
}

// signIn starts a session after a magic link or a token exchange.
func (s *server) signIn(c *gin.Context, aud models.Audience, cred models.Credential, customerID string) error {
	id, _, err := s.Store.CreateSession(c.Request.Context(), aud, cred, customerID, s.Now())
	if err != nil {
		return err
	}
	name, path := portalCookie, "/portal"
	if aud == models.AudienceAdmin {
		name, path = adminCookie, adminCookiePath
	}
	s.setCookie(c, name, id, path, models.SessionTTL)
	return nil
}

// anonymousCSRF returns the double-submit token of a visitor who is not
// signed in, setting its cookie on first use.
func (s *server) anonymousCSRF(c *gin.Context, path string) string {
	if tok, err := c.Cookie(csrfCookie); err == nil && len(tok) >= 32 {
		return tok
	}
	var b [24]byte
	_, _ = rand.Read(b[:])
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	s.setCookie(c, csrfCookie, tok, path, 2*time.Hour)
	return tok
}

// signOut ends the area's session (a form post carrying its CSRF token)
// and clears its cookie, then goes back to the area's sign-in page.
func (s *server) signOut(aud models.Audience) gin.HandlerFunc {
	area, cookie, paths := "portal", portalCookie, []string{"/portal"}
	if aud == models.AudienceAdmin {
		// A cookie set before the operator's session covered /codec sits on /admin.
		area, cookie, paths = "admin", adminCookie, []string{adminCookiePath, "/admin"}
	}
	return func(c *gin.Context) {
		if sess, id, ok := s.session(c, aud); ok {
			if !s.checkCSRF(c, area, sess.CSRFToken) {
				return
			}
			_ = s.Store.DeleteSession(c.Request.Context(), id)
		}
		for _, path := range paths {
			s.setCookie(c, cookie, "", path, -time.Second)
		}
		c.Redirect(http.StatusSeeOther, "/"+area)
	}
}

// checkCSRF refuses a form post whose csrf field does not match the
// session's token (or, before sign-in, the double-submit cookie).
func (s *server) checkCSRF(c *gin.Context, area, want string) bool {
	got := c.PostForm("csrf")
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		s.webError(c, http.StatusForbidden, area, "This form expired or did not come from this site. Go back, reload the page and try again.")
		return false
	}
	return true
}

// confirmSignIn answers a sign-in link's GET with a page whose button posts
// the link's token back: mail scanners and link previews fetch links, and
// would otherwise use up the single-use link (or sign themselves in). The
// GET reads and changes nothing; the POST (with the double-submit CSRF
// token this page sets) signs in.
func (s *server) confirmSignIn(c *gin.Context, area, title, areaName string) {
	s.render(c, http.StatusOK, webPage{Title: title, Area: area, Template: "signin-confirm", CSRF: s.anonymousCSRF(c, "/"+area),
		Data: gin.H{"Area": areaName, "Action": "/" + area + "/auth", "Token": c.Query("token")}})
}

// signInsPerAddress caps the sign-in links one address gets within a
// link's lifetime (across instances: counted in the database).
const signInsPerAddress = 5

// sendSignIn has the worker make and send a magic link to a known address
// (the worker holds the SMTP settings, and the link is made in its
// activity so that no workflow history holds it). A sign-in form must not
// tell who is a customer or an operator, so known and unknown addresses
// cost the same on the request path: both are counted against the
// per-address cap (applied silently), and the workflow is started after the
// answer, off the request path. A start that fails is logged; the person
// asks again.
func (s *server) sendSignIn(c *gin.Context, email string, aud models.Audience, known bool) {
	n, err := s.Store.CountRecentMagicLinks(c.Request.Context(), email, s.Now().Add(-models.MagicLinkTTL))
	if !known || err != nil || n >= signInsPerAddress {
		if err != nil {
			httpx.Logger(c).Warn("sign-in links not counted; none sent", "error", err)
		}
		return
	}
	var ref [8]byte
	_, _ = rand.Read(ref[:])
	log := httpx.Logger(c)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Lifecycle.SendSignIn(ctx, hex.EncodeToString(ref[:]), email, aud); err != nil {
			log.Error("sign-in email not started; the person will have to ask again", "audience", aud, "error", err)
		}
	}()
}

// Deps are the portal's and dashboard's collaborators.
type Deps struct {
	Store     *store.Store
	Lifecycle lifecycle.Client
	// Renewals prepares renewal payments for the portal's renew button.
	Renewals *payments.Renewals
	// Storefront starts purchases from the plans page and the portal.
	Storefront *payments.Storefront
	// PublicURL is where customers reach licenseflow (sign-in links,
	// Secure cookies over https).
	PublicURL string
	// AdminEmails sign in to the dashboard by magic link as owners,
	// SupportEmails as support operators (see models.Role).
	AdminEmails, SupportEmails []string
	// ReleasesDir holds uploaded release artifacts (the dashboard
	// publishes releases as the API does).
	ReleasesDir string
	// WebhookTargets says where webhook endpoints may point; WebhookSecrets
	// seals their signing secrets (nil: stored as they are).
	WebhookTargets webhooks.Targets
	WebhookSecrets *webhooks.SecretBox
	Now            func() time.Time
	// Codec answers Temporal's codec-server protocol for signed-in
	// operators at /codec/encode and /codec/decode; nil serves no codec.
	Codec gin.HandlerFunc
	// CodecOrigins are the Web UI origins (scheme://host:port) allowed to
	// call the codec endpoint with an operator's cookies.
	CodecOrigins []string
}

type server struct {
	Deps
	signIns *httpx.LimiterSet // magic links asked for, per client IP
	// tokenTries are admin-token sign-ins tried, per client IP: charged
	// before the token is looked up, so guessing tokens gets nowhere.
	tokenTries *httpx.LimiterSet
	// purchases are checkouts and orders started, per client IP: each
	// costs a Stripe call or tells the CRM about an order.
	purchases *httpx.LimiterSet
}

// maxFormValue bounds one form field (the longest is a reason).
const maxFormValue = 1000

// cleanForm refuses a posted form that is larger than 64 KiB or holds a
// value that is not one line of UTF-8 text of at most maxFormValue
// characters: no form here asks for more, and a database asked about NUL
// or invalid bytes fails instead of answering.
func (s *server) cleanForm(area string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.Method != http.MethodPost {
			c.Next()
			return
		}
		if strings.HasPrefix(c.ContentType(), "multipart/") {
			// Only the release upload takes files (and checks its own
			// fields); elsewhere a multipart body would slip past the
			// checks below.
			if c.FullPath() == releaseUploadPath {
				c.Next()
				return
			}
			s.webError(c, http.StatusUnsupportedMediaType, area, "This form cannot take files. Go back and try again.")
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 64<<10)
		if err := c.Request.ParseForm(); err != nil {
			s.webError(c, http.StatusBadRequest, area, "The form could not be read. Go back and try again.")
			return
		}
		for name, values := range c.Request.PostForm {
			for _, v := range values {
				if models.CheckLine(name, v, maxFormValue) != nil || models.CheckLine("field", name, 100) != nil {
					s.webError(c, http.StatusUnprocessableEntity, area, "The form holds text we cannot accept (too long, or with control characters). Go back and check it.")
					return
				}
			}
		}
		c.Next()
	}
}

// releaseUploadPath is the one form that posts a file.
const releaseUploadPath = "/admin/catalog/products/:code/releases"

// Mount adds the portal, the dashboard and their static files to r.
func Mount(r gin.IRouter, d Deps) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.ReleasesDir == "" {
		d.ReleasesDir = "data/releases"
	}
	if d.Storefront == nil {
		d.Storefront = &payments.Storefront{Store: d.Store, PublicURL: d.PublicURL}
	}
	s := &server{Deps: d, signIns: httpx.NewLimiterSet(10, 10), tokenTries: httpx.NewLimiterSet(10, 10),
		purchases: httpx.NewLimiterSet(10, 10)}
	r.StaticFS("/static", staticFiles())
	portal := r.Group("/portal", httpx.NoStore, s.cleanForm("portal"))
	portal.GET("", s.portalHome)
	portal.POST("/signin", s.portalSignIn)
	portal.GET("/auth", func(c *gin.Context) { s.confirmSignIn(c, "portal", "Sign in", "the customer portal") })
	portal.POST("/auth", s.portalAuth)
	portal.POST("/signout", s.signOut(models.AudienceCustomer))
	portal.GET("/licenses/:id", s.portalLicense)
	portal.POST("/licenses/:id/deactivate", s.portalDeactivate)
	portal.GET("/licenses/:id/renew", s.portalRenewPage)
	portal.POST("/licenses/:id/renew", s.portalRenew)
	portal.GET(strings.TrimPrefix(payments.PayPalReturnPath, "/portal"), s.portalPayPalReturn)
	portal.POST("/licenses/:id/addons", s.portalBuyAddon)
	portal.GET("/invoices/:number", s.portalInvoice)
	portal.GET("/credit-notes/:number", s.portalCreditNote)
	portal.GET("/plans", s.portalPlans)
	portal.POST("/plans/:tier/checkout", s.portalCheckout)

	plans := r.Group("/plans", httpx.NoStore, s.cleanForm("plans"))
	plans.GET("", s.plansPage)
	plans.GET("/:tier/checkout", s.checkoutConfirm)
	plans.POST("/:tier/checkout", s.checkoutStart)
	checkout := r.Group("/checkout", httpx.NoStore)
	checkout.GET("/success", s.checkoutSuccess)
	checkout.GET("/status", s.checkoutStatus)

	admin := r.Group("/admin", httpx.NoStore, s.cleanForm("admin"))
	admin.GET("", s.adminDashboard)
	admin.POST("/signin", s.adminSignIn)
	admin.GET("/auth", func(c *gin.Context) { s.confirmSignIn(c, "admin", "Operator sign-in", "the admin dashboard") })
	admin.POST("/auth", s.adminAuth)
	admin.POST("/token", s.adminTokenSignIn)
	admin.POST("/signout", s.signOut(models.AudienceAdmin))
	admin.GET("/customers", s.adminCustomers)
	admin.GET("/customers/:id", s.adminCustomer)
	admin.GET("/licenses/:id", s.adminLicense)
	admin.GET("/licenses/new", s.adminNewLicense)
	admin.POST("/licenses", s.adminCreateLicense)
	admin.POST("/licenses/:id/action", s.adminAction)
	admin.POST("/licenses/:id/domains", s.adminDomains)
	admin.GET("/catalog", s.adminCatalog)
	admin.GET("/catalog/tier", s.adminTierForm)
	admin.POST("/catalog/tiers", s.adminSaveTier)
	admin.POST("/catalog/tiers/:key/retire", s.adminRetireTier)
	admin.GET("/catalog/product", s.adminProductForm)
	admin.POST("/catalog/products", s.adminSaveProduct)
	admin.GET("/catalog/products/:code/release", s.adminReleaseForm)
	admin.POST(strings.TrimPrefix(releaseUploadPath, "/admin"), s.adminPublishRelease)
	admin.GET("/outbox", s.adminOutbox)
	admin.GET("/outbox/:id", s.adminEmail)
	admin.GET("/webhooks", s.adminWebhooks)
	admin.POST("/webhooks", s.adminCreateWebhook)
	admin.GET("/webhooks/:id", s.adminWebhook)
	admin.POST("/webhooks/:id/action", s.adminWebhookAction)
	admin.POST("/webhooks/:id/deliveries/:delivery/redeliver", s.adminRedeliver)
	s.mountCodec(r)
	r.GET("/", func(c *gin.Context) { c.Redirect(http.StatusFound, "/portal") })
}
