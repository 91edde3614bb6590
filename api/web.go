package api

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
)

// The customer portal and the admin dashboard are server-rendered pages
// that work without JavaScript (a few lines add click-to-copy).

//go:embed web
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
}).ParseFS(webFiles, "web/*.html"))

// webPage is what every page template gets.
type webPage struct {
	Title    string
	Area     string // "portal" or "admin"
	Email    string // signed-in user, if any
	CSRF     string
	Notice   string
	Error    string
	Data     any
	Template string
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
	sub, err := fs.Sub(webFiles, "web/static")
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
	csrfCookie   = "lf_csrf" // double-submit token for forms shown before sign-in
)

func (s *server) setCookie(c *gin.Context, name, value, path string, maxAge time.Duration) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: int(maxAge.Seconds()), HttpOnly: true,
		Secure: strings.HasPrefix(s.PublicURL, "https://"), SameSite: http.SameSiteLaxMode,
	})
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
	return sess, id, true
}

// signIn starts a session after a magic link or a token exchange.
func (s *server) signIn(c *gin.Context, aud models.Audience, email, customerID string) error {
	id, _, err := s.Store.CreateSession(c.Request.Context(), aud, email, customerID, s.Now())
	if err != nil {
		return err
	}
	name, path := portalCookie, "/portal"
	if aud == models.AudienceAdmin {
		name, path = adminCookie, "/admin"
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

// startSignInEmail sends a magic link through the worker, which holds the
// SMTP settings (the same outbox path as every email).
func (s *server) startSignInEmail(c *gin.Context, email string, aud models.Audience) error {
	ctx := c.Request.Context()
	token, err := s.Store.CreateMagicLink(ctx, email, aud, s.Now())
	if err != nil {
		return err
	}
	path := "/portal/auth"
	if aud == models.AudienceAdmin {
		path = "/admin/auth"
	}
	sum := sha256.Sum256([]byte(token))
	key := hex.EncodeToString(sum[:8]) // unique per link, and reveals nothing of it
	return s.lifecycle.SendSignIn(ctx, key, email, fmt.Sprintf("%s%s?token=%s", s.PublicURL, path, token), aud == models.AudienceAdmin)
}

// webRoutes mounts the portal and the dashboard.
func (s *server) webRoutes(r *gin.Engine) {
	r.StaticFS("/static", staticFiles())
	portal := r.Group("/portal")
	portal.GET("", s.portalHome)
	portal.POST("/signin", s.portalSignIn)
	portal.GET("/auth", s.portalAuth)
	portal.POST("/signout", s.portalSignOut)
	portal.GET("/licenses/:id", s.portalLicense)
	portal.POST("/licenses/:id/deactivate", s.portalDeactivate)
	portal.GET("/licenses/:id/renew", s.portalRenewPage)
	portal.POST("/licenses/:id/renew", s.portalRenew)
	portal.GET("/invoices/:number", s.portalInvoice)

	admin := r.Group("/admin")
	admin.GET("", s.adminDashboard)
	admin.POST("/signin", s.adminSignIn)
	admin.GET("/auth", s.adminAuth)
	admin.POST("/token", s.adminTokenSignIn)
	admin.POST("/signout", s.adminSignOut)
	admin.GET("/customers", s.adminCustomers)
	admin.GET("/customers/:id", s.adminCustomer)
	admin.GET("/licenses/:id", s.adminLicense)
	admin.POST("/licenses/:id/action", s.adminAction)
	admin.GET("/outbox", s.adminOutbox)
	admin.GET("/outbox/:id", s.adminEmail)
	r.GET("/", func(c *gin.Context) { c.Redirect(http.StatusFound, "/portal") })
}
