package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/models"
)

// requireScope lets a request through only with a live API token
// ("Authorization: Bearer lft_…") that carries one of scopes (or admin).
func (s *server) requireScope(scopes ...models.Scope) gin.HandlerFunc {
	return func(c *gin.Context) {
		header := c.GetHeader("Authorization")
		secret, ok := strings.CutPrefix(header, "Bearer ")
		if !ok || strings.TrimSpace(secret) == "" {
			c.Header("WWW-Authenticate", `Bearer realm="licenseflow"`)
			abort(c, newError(http.StatusUnauthorized, "missing_token", "",
				"send an API token as 'Authorization: Bearer <token>'"))
			return
		}
		tok, err := s.Store.AuthenticateToken(c.Request.Context(), strings.TrimSpace(secret), s.Now())
		if errors.Is(err, models.ErrNotFound) {
			c.Header("WWW-Authenticate", `Bearer realm="licenseflow", error="invalid_token"`)
			abort(c, newError(http.StatusUnauthorized, "invalid_token", "", "the API token is unknown or revoked"))
			return
		}
		if err != nil {
			abort(c, fmt.Errorf("%w: %v", errDatabaseUnavailable, err))
			return
		}
		if !slices.ContainsFunc(scopes, tok.Allows) {
			names := make([]string, len(scopes))
			for i, sc := range scopes {
				names[i] = string(sc)
			}
			abort(c, newError(http.StatusForbidden, "insufficient_scope", "",
				fmt.Sprintf("token %q lacks the %s scope this endpoint needs", tok.Name, strings.Join(names, " or "))))
			return
		}
		c.Set(ctxToken, tok)
		c.Next()
	}
}

func token(c *gin.Context) models.APIToken {
	tok, _ := c.Get(ctxToken)
	t, _ := tok.(models.APIToken)
	return t
}
