package httpx_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"

	"github.com/licenseflow/licenseflow/httpx"
)

func TestLogLinesCarryTheRequestID(t *testing.T) {
	gin.SetMode(gin.TestMode)
	var out bytes.Buffer
	r := httpx.NewRouter(httpx.Options{Logger: slog.New(slog.NewTextHandler(&out, nil))})
	r.GET("/fails", func(c *gin.Context) {
		httpx.Logger(c).Error("something broke")
		httpx.Logger(c).Error("and again")
		c.Status(http.StatusNotFound)
	})
	r.GET("/fine", func(c *gin.Context) { c.Status(http.StatusOK) })

	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/fine", nil))
	assert.Empty(t, out.String(), "successful requests log at debug")

	req := httptest.NewRequest(http.MethodGet, "/fails", nil)
	req.Header.Set("X-Request-ID", "req-42")
	w = httptest.NewRecorder()
	r.ServeHTTP(w, req)
	assert.Equal(t, "req-42", w.Header().Get("X-Request-ID"))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if assert.Len(t, lines, 3) {
		assert.Contains(t, lines[0], `msg="something broke" request_id=req-42`)
		assert.Contains(t, lines[1], `msg="and again" request_id=req-42`)
		assert.Contains(t, lines[2], `msg="http request" request_id=req-42 method=GET path=/fails status=404`)
	}
}
