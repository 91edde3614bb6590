package siteapi

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
)

// releasePageTemplate is the public page about one release: what Joomla's
// update feed links as the release's information (its infourl), so an
// administrator clicking it sees the notes without a key or a token.
var releasePageTemplate = template.Must(template.New("release").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Product.Name}} {{.Release.Version}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#222}
.meta{color:#666}.notes{white-space:pre-wrap;border-left:3px solid #ccc;padding-left:1rem}</style>
</head>
<body>
<h1>{{.Product.Name}} {{.Release.Version}}</h1>
<p class="meta">{{.Release.Channel}} release, published {{.Release.PublishedAt.UTC.Format "2 January 2006"}}{{with .Release.PHPMinimum}} · PHP {{.}} or later{{end}}{{with .Release.TargetPlatform}} · Joomla {{.}}{{end}}</p>
{{if .Release.Notes}}<div class="notes">{{.Release.Notes}}</div>{{else}}<p>No release notes were published with this version.</p>{{end}}
<p class="meta">Install it from your site's update manager, or download it with your license key from the customer portal.</p>
</body>
</html>
`))

// releasePage answers GET /releases/{product}/{version}: public, like the
// feeds that link to it (release notes are no secret; the artifact stays
// behind the key).
func (s *server) releasePage(c *gin.Context) {
	ctx := c.Request.Context()
	product, err := s.Store.GetProduct(ctx, c.Param("product"))
	var r models.Release
	if err == nil {
		r, err = s.Store.GetRelease(ctx, product.Code, c.Param("version"))
	}
	if errors.Is(err, models.ErrNotFound) {
		c.Header("Content-Security-Policy", "default-src 'none'")
		c.Data(http.StatusNotFound, "text/plain; charset=utf-8", []byte("There is no such release.\n"))
		return
	}
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	var page bytes.Buffer
	if err := releasePageTemplate.Execute(&page, struct {
		Product models.Product
		Release models.Release
	}{product, r}); err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, "text/html; charset=utf-8", page.Bytes())
}
