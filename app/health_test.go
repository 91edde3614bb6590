package app_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/licenseflow/licenseflow/app"
	"github.com/licenseflow/licenseflow/lifecycle/lifecyclefake"
	"github.com/licenseflow/licenseflow/testsupport"
)

// TestReadinessNamesTheDownPartWithoutItsError: /readyz is public, so it
// says Temporal is unavailable but not the error naming its host and port.
func TestReadinessNamesTheDownPartWithoutItsError(t *testing.T) {
	var logged strings.Builder
	flows := &lifecyclefake.Fake{HealthErr: errors.New("dial tcp 10.20.30.40:7233: connect: connection refused")}
	router := app.NewRouter(app.Deps{Store: testsupport.SQLite(t), Lifecycle: flows, SecretKeys: testsupport.SecretKeys(t),
		Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	w := httptest.NewRecorder()
	router.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	body, _ := io.ReadAll(w.Body)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.JSONEq(t, `{"status":"unavailable","checks":{"database":"ok","temporal":"unavailable"}}`, string(body))
	assert.NotContains(t, string(body), "10.20.30.40")
	assert.Contains(t, logged.String(), "10.20.30.40", "the operator finds the cause in the log")
}
