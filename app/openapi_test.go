package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/app"
	"github.com/licenseflow/licenseflow/lifecycle/lifecyclefake"
	"github.com/licenseflow/licenseflow/testsupport"
)

var ginParam = regexp.MustCompile(`[:*]([A-Za-z_]+)`)

// documented lists "METHOD /path/{param}" for every operation of the
// served document.
func documented(t *testing.T, h http.Handler) []string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
	var out []string
	for path, item := range doc.Paths {
		for method := range item {
			out = append(out, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// Whoever adds a route under /api/v1 documents it in openapi.Operations
// (and whoever removes one removes its documentation).
func TestEveryAPIRouteIsDocumentedAndNothingElse(t *testing.T) {
	gin.SetMode(gin.TestMode)
	r := app.NewRouter(app.Deps{Store: testsupport.SQLite(t), Lifecycle: &lifecyclefake.Fake{}, SecretKeys: testsupport.SecretKeys(t)})
	var routes []string
	for _, rt := range r.Routes() {
		if strings.HasPrefix(rt.Path, "/api/v1/") {
			routes = append(routes, rt.Method+" "+ginParam.ReplaceAllString(rt.Path, "{$1}"))
		}
	}
	slices.Sort(routes)
	docs := documented(t, r)
	for _, route := range routes {
		assert.Contains(t, docs, route, "route %s has no operation in openapi.Operations", route)
	}
	for _, doc := range docs {
		assert.Contains(t, routes, doc, "openapi.Operations documents %s, which no route serves", doc)
	}
	assert.Greater(t, len(routes), 40)
}

func TestTheDocumentIsValidOpenAPI31(t *testing.T) {
	gin.SetMode(gin.TestMode)
	r := app.NewRouter(app.Deps{Store: testsupport.SQLite(t), Lifecycle: &lifecyclefake.Fake{}, SecretKeys: testsupport.SecretKeys(t)})
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	doc, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes())
	require.NoError(t, err)
	assert.True(t, doc.IsOpenAPI31OrLater())
	require.NoError(t, doc.Validate(context.Background()))

	op := doc.Paths.Find("/api/v1/licensing/licenses/{id}").Get
	require.NotNil(t, op)
	assert.NotNil(t, op.Responses.Status(http.StatusOK), "success documented")
	assert.NotNil(t, op.Responses.Default(), "errors documented")
	assert.Equal(t, "token", func() string {
		for name := range (*op.Security)[0] {
			return name
		}
		return ""
	}())
	assert.Empty(t, *doc.Paths.Find("/api/v1/licenses/validate").Post.Security, "sites need no token")
	assert.Contains(t, (*doc.Paths.Find("/api/v1/webhooks/stripe").Post.Security)[0], "stripeSignature")
}
