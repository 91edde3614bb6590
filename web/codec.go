package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
)

// The codec endpoint is how the Temporal Web UI (and `temporal workflow
// show --codec-endpoint`) reads the encrypted payloads of workflow
// histories: it answers only signed-in operators, so reading Temporal alone
// shows nothing but ciphertext. The Web UI calls it from its own origin
// with the operator's cookies (CodecOrigins), the CLI with an API token.

// mountCodec serves POST /codec/encode and /codec/decode (and their CORS
// preflights) through d.Codec.
func (s *server) mountCodec(r gin.IRouter) {
	if s.Codec == nil {
		return
	}
	codec := r.Group("/codec", httpx.NoStore, s.codecCORS)
	for _, path := range []string{"/encode", "/decode"} {
		codec.OPTIONS(path, func(c *gin.Context) { c.AbortWithStatus(http.StatusNoContent) })
		codec.POST(path, s.codecOperator, s.Codec)
	}
}

// codecCORS lets the configured Web UI origins call the endpoint with
// credentials (the operator's session cookie); other origins get no CORS
// headers, so a browser keeps them from reading the answer.
func (s *server) codecCORS(c *gin.Context) {
	c.Header("Vary", "Origin")
	origin := c.GetHeader("Origin")
	if origin == "" || !slices.Contains(s.CodecOrigins, strings.TrimSuffix(origin, "/")) {
		return
	}
	c.Header("Access-Control-Allow-Origin", origin)
	c.Header("Access-Control-Allow-Credentials", "true")
	c.Header("Access-Control-Allow-Methods", "POST, OPTIONS")
	c.Header("Access-Control-Allow-Headers", "Content-Type, X-Namespace, Authorization")
	c.Header("Access-Control-Max-Age", "600")
}

// codecOperator lets through an API token that may read licenses, or a
// dashboard session; anyone else gets 401.
func (s *server) codecOperator(c *gin.Context) {
	if c.GetHeader("Authorization") != "" {
		httpx.RequireScope(s.Store, s.Now, models.ScopeLicensesRead)(c)
		return
	}
	if _, _, ok := s.session(c, models.AudienceAdmin); !ok {
		httpx.Fail(c, httpx.NewError(http.StatusUnauthorized, "not_signed_in", "",
			"sign in to the admin dashboard (or send an API token with licenses:read) to decode workflow payloads"))
		return
	}
	c.Next()
}
