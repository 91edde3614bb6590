package httpx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/models"
)

// Tokens authenticates API tokens.
type Tokens interface {
	AuthenticateToken(ctx context.Context, secret string, now time.Time) (models.APIToken, error)
}

// RequireScope lets a request through only with a live API token
// ("Authorization: Bearer lft_…") that carries one of scopes (or admin).
func RequireScope(tokens Tokens, now func() time.Time, scopes ...models.Scope) gin.HandlerFunc {
	return func(c *gin.Context) {
		header := c.GetHeader("Authorization")
		secret, ok := strings.CutPrefix(header, "Bearer ")
		if !ok || strings.TrimSpace(secret) == "" {
			c.Header("WWW-Authenticate", `Bearer realm="licenseflow"`)
			Fail(c, NewError(http.StatusUnauthorized, "missing_token", "",
				"send an API token as 'Authorization: Bearer <token>'"))
			return
		}
		tok, err := tokens.AuthenticateToken(c.Request.Context(), strings.TrimSpace(secret), now())
		if errors.Is(err, models.ErrNotFound) {
			c.Header("WWW-Authenticate", `Bearer realm="licenseflow", error="invalid_token"`)
			Fail(c, NewError(http.StatusUnauthorized, "invalid_token", "", "the API token is unknown or revoked"))
			return
		}
		if err != nil {
			Fail(c, fmt.Errorf("%w: %v", ErrDatabaseUnavailable, err))
			return
		}
		if !slices.ContainsFunc(scopes, tok.Allows) {
			names := make([]string, len(scopes))
			for i, sc := range scopes {
				names[i] = string(sc)
			}
			Fail(c, NewError(http.StatusForbidden, "insufficient_scope", "",
				fmt.Sprintf("token %q lacks the %s scope this endpoint needs", tok.Name, strings.Join(names, " or "))))
			return
		}
		c.Set(ctxToken, tok)
		c.Request = c.Request.WithContext(models.WithActor(c.Request.Context(), "token:"+tok.Name))
		c.Next()
	}
}

// Token is the API token RequireScope let through.
func Token(c *gin.Context) models.APIToken {
	tok, _ := c.Get(ctxToken)
	t, _ := tok.(models.APIToken)
	return t
}
