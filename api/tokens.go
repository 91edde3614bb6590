package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
)

// TokenRequest creates an API token.
type TokenRequest struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
	// Role gives the scopes of an operator role instead of scopes:
	// "owner" (admin) or "support" (licenses:read, licenses:support).
	Role string `json:"role"`
}

// TokenCreated shows a new token's secret, the only time it is shown.
type TokenCreated struct {
	Token  string    `json:"token"`
	Detail TokenView `json:"detail"`
}

func (s *server) createToken(c *gin.Context) {
	var req TokenRequest
	if err := httpx.Decode(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	if err := checkLines(line{"name", req.Name, models.MaxNameLength}); err != nil {
		httpx.Fail(c, err)
		return
	}
	scopes, err := tokenScopes(req)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	secret, tok, err := s.Store.CreateToken(c.Request.Context(), req.Name, scopes)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	httpx.Sensitive(c, fmt.Sprintf("API token %d (%q)", tok.ID, tok.Name))
	c.JSON(http.StatusCreated, TokenCreated{Token: secret, Detail: tokenView(tok)})
}

func (s *server) listTokens(c *gin.Context) {
	ts, err := s.Store.ListTokens(c.Request.Context())
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, pageOf(ts, tokenView))
}

func (s *server) revokeToken(c *gin.Context) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil {
		httpx.Fail(c, httpx.Invalid("invalid_id", "id", "token id must be a number"))
		return
	}
	if err := s.Store.RevokeToken(c.Request.Context(), uint(id), s.Now()); err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// tokenScopes are the scopes a token request asks for: its role's, or the
// scopes it lists (one or the other).
func tokenScopes(req TokenRequest) (models.StringList, error) {
	if req.Role == "" {
		return models.ParseScopes(req.Scopes)
	}
	if len(req.Scopes) > 0 {
		return nil, httpx.Invalid("role_and_scopes", "role", "give either a role or scopes, not both")
	}
	role, err := models.ParseRole(req.Role)
	if err != nil {
		return nil, err
	}
	return role.Scopes(), nil
}
