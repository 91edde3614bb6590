package openapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/app"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/testsupport"
)

const catalogToken = "lft_openapi-catalog-token"

// A valid value for every field of a tier body.
var tierValues = map[string]any{
	"key": "openapi-plan", "name": "OpenAPI plan", "description": "for the test", "products": []string{"base"},
	"max_domains": 2, "term": "annual", "term_months": 0, "price_cents": 4900, "currency": "EUR",
	"channels": []string{"stable"}, "active": true, "trial_days": 14, "stripe_price_id": "price_1Nx",
}

// The document requires exactly what the server requires of a tier: a
// body of the required fields alone is accepted, and leaving out any one
// of them is refused with that field named.
func TestOpenAPITierBodyRequiresWhatTheServerRequires(t *testing.T) {
	gin.SetMode(gin.TestMode)
	st := testsupport.SQLite(t)
	_, err := st.EnsureToken(context.Background(), "catalog", catalogToken, models.StringList{string(models.ScopeCatalogWrite)})
	require.NoError(t, err)
	router := app.NewRouter(app.Deps{Store: st, SecretKeys: testsupport.SecretKeys(t)})
	call := caller(t, router)
	only := func(fields []string, without string) map[string]any {
		body := map[string]any{}
		for _, f := range fields {
			if f != without {
				body[f] = tierValues[f]
			}
		}
		return body
	}

	post := requiredOf(t, http.MethodPost, "/api/v1/tiers", tierValues)
	assert.ElementsMatch(t, []string{"key", "name", "products", "max_domains", "term", "currency", "channels"}, post)
	for _, field := range post {
		status, named := call(http.MethodPost, "/api/v1/tiers", only(post, field))
		assert.Equal(t, http.StatusUnprocessableEntity, status, "a POST without %s", field)
		assert.Equal(t, field, named, "a POST without %s names it", field)
	}
	status, _ := call(http.MethodPost, "/api/v1/tiers", only(post, ""))
	require.Equal(t, http.StatusCreated, status, "a POST of the required fields alone")

	put := requiredOf(t, http.MethodPut, "/api/v1/tiers/{key}", tierValues)
	assert.NotContains(t, put, "key", "a PUT keeps the key of its path")
	for _, field := range put {
		status, named := call(http.MethodPut, "/api/v1/tiers/openapi-plan", only(put, field))
		assert.Equal(t, http.StatusUnprocessableEntity, status, "a PUT without %s", field)
		assert.Equal(t, field, named, "a PUT without %s names it", field)
	}
	status, _ = call(http.MethodPut, "/api/v1/tiers/openapi-plan", only(put, ""))
	assert.Equal(t, http.StatusOK, status, "a PUT of the required fields alone")
}
