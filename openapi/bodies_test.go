package openapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/app"
	"github.com/licenseflow/licenseflow/lifecycle/lifecyclefake"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/openapi"
	"github.com/licenseflow/licenseflow/testsupport"
)

// requiredOf reads the fields the served document requires of an
// operation's JSON body, and checks values has one for every property.
func requiredOf(t *testing.T, method, path string, values map[string]any) []string {
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
	schema := doc.Paths[path][strings.ToLower(method)].RequestBody.Content["application/json"].Schema
	require.NotEmpty(t, schema.Properties, "%s %s documents its body", method, path)
	for name := range schema.Properties {
		require.Contains(t, values, name, "the test has no value for %s of %s %s", name, method, path)
	}
	return schema.Required
}

// caller sends JSON bodies to router as catalogToken, answering the status
// and the field the error names.
func caller(t *testing.T, router http.Handler) func(method, path string, body map[string]any) (int, string) {
	return func(method, path string, body map[string]any) (int, string) {
		t.Helper()
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
}

// What integrators generate clients from must say what the server wants:
// for each body below, the fields the document requires alone are
// accepted, and leaving out any one of them is refused with that field
// named. (Tiers: TestOpenAPITierBodyRequiresWhatTheServerRequires.)
func TestOpenAPIBodiesRequireWhatTheServerRequires(t *testing.T) {
	gin.SetMode(gin.TestMode)
	st := testsupport.SQLite(t)
	_, err := st.EnsureToken(context.Background(), "admin", catalogToken, models.StringList{string(models.ScopeAdmin)})
	require.NoError(t, err)
	router := app.NewRouter(app.Deps{Store: st, Lifecycle: &lifecyclefake.Fake{}, SecretKeys: testsupport.SecretKeys(t)})
	call := caller(t, router)
	for _, c := range []struct {
		method, doc, path string
		values            map[string]any
		required          []string
		accepted          int
	}{
		{http.MethodPost, "/api/v1/products", "/api/v1/products", map[string]any{"code": "openapi-product", "repo": "OpenapiProduct",
			"name": "OpenAPI product", "platform": "joomla", "requires_key": true, "domain_required": true, "addon_price_cents": 1900, "addon_currency": "EUR"},
			[]string{"code", "repo", "name", "platform"}, http.StatusCreated},
		{http.MethodPost, "/api/v1/tokens", "/api/v1/tokens", map[string]any{"name": "crm", "scopes": []string{"licenses:read"}, "role": ""},
			[]string{"name", "scopes"}, http.StatusCreated},
		{http.MethodPost, "/api/v1/licensing/licenses", "/api/v1/licensing/licenses", map[string]any{"user_email": "openapi@example.com",
			"tier": "pos", "max_domains": 2, "expires_months": 12, "expires_at": nil, "order_id": "openapi-1", "customer_name": "Ann",
			"company": "Shop", "name": "Main shop", "domains": []string{}, "type": "commercial", "amount_cents": 100, "currency": "EUR",
			"payment_ref": "pay-1", "country": "DE", "vat_id": "DE123456789"},
			[]string{"user_email", "tier"}, http.StatusAccepted},
		{http.MethodPost, "/api/v1/licenses/validate", "/api/v1/licenses/validate", map[string]any{"dlid": strings.Repeat("0", 32),
			"domain": "shop.example.com", "product": "pos", "nonce": "n"},
			[]string{"dlid"}, http.StatusOK},
	} {
		t.Run(c.method+" "+c.doc, func(t *testing.T) {
			required := requiredOf(t, c.method, c.doc, c.values)
			assert.ElementsMatch(t, c.required, required)
			only := func(without string) map[string]any {
				body := map[string]any{}
				for _, f := range required {
					if f != without {
						body[f] = c.values[f]
					}
				}
				return body
			}
			for _, field := range required {
				status, named := call(c.method, c.path, only(field))
				assert.Equal(t, http.StatusUnprocessableEntity, status, "without %s", field)
				assert.Equal(t, field, named, "without %s, the error names it", field)
			}
			status, _ := call(c.method, c.path, only(""))
			assert.Equal(t, c.accepted, status, "the required fields alone")
		})
	}
}
