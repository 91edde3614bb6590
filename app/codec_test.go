package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/licenseflow/licenseflow/app"
	"github.com/licenseflow/licenseflow/lifecycle/lifecyclefake"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payloadcodec"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/webhooks"
)

const (
	codecAdmin  = "lft_codec-test-admin-token"
	codecWriter = "lft_codec-test-orders-writer"
	webUIOrigin = "http://localhost:8233"
)

type codecEnv struct {
	srv     *httptest.Server
	sealed  string // a protojson {"payloads":[…]} of one encrypted payload
	license string // what it holds
}

func newCodecEnv(t *testing.T) *codecEnv {
	t.Helper()
	gin.SetMode(gin.TestMode)
	st := testsupport.SQLite(t)
	ctx := context.Background()
	_, err := st.EnsureToken(ctx, "admin", codecAdmin, models.StringList{string(models.ScopeAdmin)})
	require.NoError(t, err)
	_, err = st.EnsureToken(ctx, "crm", codecWriter, models.StringList{string(models.ScopeOrdersWrite)})
	require.NoError(t, err)
	keys := testsupport.SecretKeys(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(app.NewRouter(app.Deps{
		Store: st, Lifecycle: &lifecyclefake.Fake{}, Logger: quiet, PublicURL: "http://licenses.example.com",
		Webhooks:   app.Webhooks{Secrets: webhooks.NewSecretBox(keys)},
		SecretKeys: keys, CodecOrigins: []string{webUIOrigin},
	}))
	t.Cleanup(srv.Close)
	const license = `{"Email":"alice@customer.example","Tier":"pos"}`
	p, err := payloadcodec.DataConverter(keys).ToPayload(json.RawMessage(license))
	require.NoError(t, err)
	sealed, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{p}})
	require.NoError(t, err)
	require.NotContains(t, string(sealed), "alice")
	return &codecEnv{srv: srv, sealed: string(sealed), license: license}
}

func (e *codecEnv) decode(t *testing.T, client *http.Client, headers map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/codec/decode", strings.NewReader(e.sealed))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Namespace", "default")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// decoded returns the data of the single payload of a codec answer.
func decoded(t *testing.T, body string) string {
	t.Helper()
	var out commonpb.Payloads
	require.NoError(t, protojson.Unmarshal([]byte(body), &out), body)
	require.Len(t, out.Payloads, 1)
	return string(out.Payloads[0].Data)
}

func TestCodecEndpointAnswersOnlyOperators(t *testing.T) {
	e := newCodecEnv(t)
	anonymous := &http.Client{}

	resp, body := e.decode(t, anonymous, nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
	assert.Contains(t, body, `"code":"not_signed_in"`)
	assert.NotContains(t, body, "alice")

	resp, body = e.decode(t, anonymous, map[string]string{"Authorization": "Bearer lft_not-a-token"})
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
	resp, body = e.decode(t, anonymous, map[string]string{"Authorization": "Bearer " + codecWriter})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "an orders:write token reads no history: %s", body)

	// The CLI: an API token that may read licenses.
	resp, body = e.decode(t, anonymous, map[string]string{"Authorization": "Bearer " + codecAdmin})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.JSONEq(t, e.license, decoded(t, body))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))

	// The Web UI: the operator's dashboard session, from the UI's origin.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	signInWithToken(t, browser, e.srv.URL)
	resp, body = e.decode(t, browser, map[string]string{"Origin": webUIOrigin})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.JSONEq(t, e.license, decoded(t, body))
	assert.Equal(t, webUIOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))

	// Another origin gets no CORS grant, so a browser hides the answer.
	resp, _ = e.decode(t, browser, map[string]string{"Origin": "https://evil.example"})
	assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))

	// The preflight of the Web UI.
	req, _ := http.NewRequest(http.MethodOptions, e.srv.URL+"/codec/decode", nil)
	req.Header.Set("Origin", webUIOrigin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,x-namespace")
	resp, err := anonymous.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Equal(t, webUIOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "X-Namespace")
}

func TestCodecEndpointEncodesAndRejectsGarbage(t *testing.T) {
	e := newCodecEnv(t)
	auth := map[string]string{"Authorization": "Bearer " + codecAdmin}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/codec/encode",
		strings.NewReader(`{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"eyJhIjoxfQ=="}]}`))
	req.Header.Set("Authorization", auth["Authorization"])
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var out commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(body, &out))
	_, err = payloadcodec.KeyID(out.Payloads[0])
	assert.NoError(t, err, "encode encrypts")

	for _, bad := range []string{`{"payloads":`, `[]`, `{"payloads":[{"metadata":{"encoding":"YmluYXJ5L2VuY3J5cHRlZA=="},"data":"AAAA"}]}`} {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/codec/decode", strings.NewReader(bad))
		req.Header.Set("Authorization", auth["Authorization"])
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.True(t, resp.StatusCode >= 400 && resp.StatusCode < 500, "%s: %d %s", bad, resp.StatusCode, body)
		assert.Contains(t, string(body), `"error":{"code":`)
	}
}

var codecCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signInWithToken opens a dashboard session in client's jar through the
// admin token form.
func signInWithToken(t *testing.T, client *http.Client, base string) {
	t.Helper()
	resp, err := client.Get(base + "/admin")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := codecCSRF.FindSubmatch(page)
	require.NotNil(t, m)
	resp, err = client.PostForm(base+"/admin/token", url.Values{"csrf": {string(m[1])}, "token": {codecAdmin}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
}
