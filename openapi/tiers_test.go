package openapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/app"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/openapi"
	"github.com/licenseflow/licenseflow/testsupport"
)

const catalogToken = "lft_openapi-catalog-token"

// A valid value for every field of a tier body.
var tierValues = map[string]any{
	"key": "openapi-plan", "name": "OpenAPI plan", "description": "for the test", "products": []string{"base"},
	"max_domains": 2, "term": "annual", "term_months": 0, "price_cents": 4900, "currency": "EUR",
	"channels": []string{"stable"}, "active": true, "stripe_price_id": "price_1Nx",
}

// bodyRequires reads the fields the served document requires of an
// operation's JSON body.
func bodyRequires(t *testing.T, method, path string) []string {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]struct {
					Schema struct {
						Properties map[string]any `json:"properties"`
						Required   []string       `json:"required"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(openapi.Document(), &doc))
	schema := doc.Paths[path][method].RequestBody.Content["application/json"].Schema
	require.NotEmpty(t, schema.Properties, "%s %s documents its body inline", method, path)
	for name := range schema.Properties {
		require.Contains(t, tierValues, name, "the test has no value for %s", name)
	}
	return schema.Required
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
	call := func(method, path string, body map[string]any) (int, string) {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		req := httptest.NewRequest(method, path, bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+catalogToken)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, req)
		var answer struct {
			Error struct {
				Field string `json:"field"`
			} `json:"error"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &answer)
		return rec.Code, answer.Error.Field
	}
	only := func(fields []string, without string) map[string]any {
		body := map[string]any{}
		for _, f := range fields {
			if f != without {
				body[f] = tierValues[f]
			}
		}
		return body
	}

	post := bodyRequires(t, "post", "/api/v1/tiers")
	assert.ElementsMatch(t, []string{"key", "name", "products", "max_domains", "term", "currency", "channels"}, post)
	for _, field := range post {
		status, named := call(http.MethodPost, "/api/v1/tiers", only(post, field))
		assert.Equal(t, http.StatusUnprocessableEntity, status, "a POST without %s", field)
		assert.Equal(t, field, named, "a POST without %s names it", field)
	}
	status, _ := call(http.MethodPost, "/api/v1/tiers", only(post, ""))
	require.Equal(t, http.StatusCreated, status, "a POST of the required fields alone")

	put := bodyRequires(t, "put", "/api/v1/tiers/{key}")
	assert.NotContains(t, put, "key", "a PUT keeps the key of its path")
	for _, field := range put {
		status, named := call(http.MethodPut, "/api/v1/tiers/openapi-plan", only(put, field))
		assert.Equal(t, http.StatusUnprocessableEntity, status, "a PUT without %s", field)
		assert.Equal(t, field, named, "a PUT without %s names it", field)
	}
	status, _ = call(http.MethodPut, "/api/v1/tiers/openapi-plan", only(put, ""))
	assert.Equal(t, http.StatusOK, status, "a PUT of the required fields alone")
}
