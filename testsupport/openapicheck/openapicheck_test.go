package openapicheck_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/testsupport/openapicheck"
)

func answer(status int, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
}

func serve(t *testing.T, h http.Handler, method, path string) {
	t.Helper()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, path, nil))
}

func TestAnswersThatDriftFromTheDocumentAreReported(t *testing.T) {
	for name, c := range map[string]struct {
		status int
		body   string
		method string
		path   string
		ok     bool
	}{
		"a documented answer":          {200, `{"keys":[],"signature_header":"X-Licenseflow-Signature"}`, "GET", "/api/v1/keys/public", true},
		"the error shape":              {404, `{"error":{"code":"license_not_found","message":"no such license"}}`, "GET", "/api/v1/licensing/licenses/lic_x", true},
		"an undocumented field":        {200, `{"keys":[],"signature_header":"x","extra":1}`, "GET", "/api/v1/keys/public", false},
		"a missing field":              {200, `{"keys":[]}`, "GET", "/api/v1/keys/public", false},
		"an undocumented status":       {201, `{"keys":[],"signature_header":"x"}`, "GET", "/api/v1/keys/public", false},
		"an error without its shape":   {409, `{"message":"conflict"}`, "POST", "/api/v1/licensing/licenses/lic_x/revoke", false},
		"the specific path wins":       {201, `{"provider":"crm","order_id":"ord_1","message":"m"}`, "POST", "/api/v1/licensing/licenses/lic_x/renewal-link", true},
		"outside /api/v1 is not held":  {200, `{"anything":true}`, "GET", "/edd-sl", true},
		"an unknown route is not held": {404, `{"error":{"code":"route_not_found","message":"no"}}`, "GET", "/api/v1/nothing", true},
	} {
		t.Run(name, func(t *testing.T) {
			checker, err := openapicheck.New()
			require.NoError(t, err)
			serve(t, checker.Wrap(answer(c.status, c.body)), c.method, c.path)
			assert.Equal(t, c.ok, len(checker.Problems()) == 0, "%v", checker.Problems())
		})
	}
}
