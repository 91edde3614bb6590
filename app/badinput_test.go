package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v79/webhook"

	"github.com/licenseflow/licenseflow/app"
	"github.com/licenseflow/licenseflow/lifecycle/lifecyclefake"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/usage"
	"github.com/licenseflow/licenseflow/webhooks"
)

// The bad-input table: every route that takes input, sent each class of
// bad input an attacker or a careless client sends (oversize, wrong types,
// unknown fields, injection strings, CR/LF, invalid UTF-8, path traversal),
// through the whole router on a real SQLite store with the workflows
// faked. Each answer must be a 4xx (never a 5xx) with a JSON error and a
// stable code (an HTML page for the portal and dashboard forms), and
// nothing may come of it: no row in any table, no workflow started,
// updated or signalled, no email.

const (
	badInputAdmin  = "lft_bad-input-admin-token"
	badInputSecret = "whsec_bad_input"
)

type badInputEnv struct {
	store   *store.Store
	flows   *lifecyclefake.Fake
	srv     *httptest.Server
	license models.License // issued, with a key
	order   string         // a pending CRM order
}

func newBadInputEnv(t *testing.T) *badInputEnv {
	t.Helper()
	gin.SetMode(gin.TestMode)
	st := testsupport.SQLite(t)
	ctx := context.Background()
	_, err := st.EnsureToken(ctx, "admin", badInputAdmin, models.StringList{string(models.ScopeAdmin)})
	require.NoError(t, err)
	tier, err := st.GetTier(ctx, "pos")
	require.NoError(t, err)
	_, l, _, err := st.RecordPurchase(ctx, models.Purchase{OrderID: "bad-1", Email: "victim@example.com", Tier: tier,
		MaxDomains: 2, Months: 12, Type: models.TypeCommercial, PaidAt: time.Now()})
	require.NoError(t, err)
	expires := models.Instant(time.Now().AddDate(1, 0, 0))
	l, err = st.MintLicense(ctx, models.Mint{LicenseID: l.ID, TierKey: "pos", MaxDomains: 2, Channels: tier.Channels, StartsAt: time.Now(), ExpiresAt: &expires})
	require.NoError(t, err)
	_, _, err = st.SetEntitlements(ctx, l.ID, "pos")
	require.NoError(t, err)
	_, _, err = st.CreateOrder(ctx, models.NewOrder{ID: "bad-pending", Email: "crm@example.com", Tier: tier, Kind: models.OrderNew,
		Months: 12, MaxDomains: 3, AmountCents: 100, Currency: "EUR"})
	require.NoError(t, err)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	recorder := usage.NewRecorder(st, quiet, 10*time.Millisecond)
	t.Cleanup(recorder.Close)
	flows := &lifecyclefake.Fake{}
	srv := httptest.NewServer(app.NewRouter(app.Deps{
		Store: st, Lifecycle: flows, Logger: quiet, PublicURL: "http://licenses.example.com",
		WebhookSecrets: []string{badInputSecret}, ReleasesDir: t.TempDir(), Usage: recorder,
		AdminEmails: []string{"ops@example.com"}, SecretKeys: testsupport.SecretKeys(t),
		Webhooks: app.Webhooks{Secrets: webhooks.NewSecretBox(testsupport.SecretKeys(t))},
	}))
	t.Cleanup(srv.Close)
	keys, err := http.Get(srv.URL + "/api/v1/keys/public") // makes the key that signs answers to sites
	require.NoError(t, err)
	keys.Body.Close()
	require.Equal(t, http.StatusOK, keys.StatusCode)
	return &badInputEnv{store: st, flows: flows, srv: srv, license: l, order: "bad-pending"}
}

// badRequest is one bad request and what it must be answered with.
type badRequest struct {
	class, name    string
	method, path   string
	body           []byte
	contentType    string
	headers        map[string]string
	noToken        bool
	status         int    // the exact status
	code           string // the exact error code
	html           bool   // a page, not a JSON error
	stripeSign     bool   // sign the body as Stripe would
	stripeSignedAt time.Time
}

var stableCode = regexp.MustCompile(`^[a-z][a-z0-9_]*$|^[A-Z][A-Z_]*$`)

func (e *badInputEnv) send(t *testing.T, client *http.Client, r badRequest) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(r.method, e.srv.URL+r.path, bytes.NewReader(r.body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if !r.noToken {
		req.Header.Set("Authorization", "Bearer "+badInputAdmin)
	}
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	if r.stripeSign {
		at := r.stripeSignedAt
		if at.IsZero() {
			at = time.Now()
		}
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: r.body, Secret: badInputSecret, Timestamp: at})
		req.Header.Set("Stripe-Signature", signed.Header)
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

// json builds a body from a map (so the bad value is the only thing wrong).
func jsonBody(fields map[string]any) []byte {
	b, err := json.Marshal(fields)
	if err != nil {
		panic(err)
	}
	return b
}

// with returns a copy of base with the given fields set.
func with(base map[string]any, kv ...any) []byte {
	m := map[string]any{}
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return jsonBody(m)
}

// upload is a multipart release upload with one field or the file name bad.
func upload(fields map[string]string, filename string, content []byte) ([]byte, string) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	base := map[string]string{"version": "7.0.0", "channel": "stable", "notes": "Notes."}
	for k, v := range fields {
		base[k] = v
	}
	for k, v := range base {
		_ = mw.WriteField(k, v)
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="`+strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(filename)+`"`)
	f, _ := mw.CreatePart(h)
	_, _ = f.Write(content)
	_ = mw.Close()
	return body.Bytes(), mw.FormDataContentType()
}

func (e *badInputEnv) table() []badRequest {
	lic := "/api/v1/licensing/licenses/" + e.license.ID
	dlid := e.license.Key()
	huge := strings.Repeat("x", 10000)
	long := func(n int) string { return strings.Repeat("a", n) }
	email2100 := long(64) + "@" + strings.Repeat("abcdefghi.", 203) + "com"
	purchase := map[string]any{"user_email": "new@example.com", "tier": "pos"}
	order := map[string]any{"id": "crm-new", "customer_email": "new@example.com", "tier": "pos"}
	tier := map[string]any{"key": "gold", "name": "Gold", "products": []string{"base"}, "max_domains": 3, "term": "annual",
		"price_cents": 100, "currency": "EUR", "channels": []string{"stable"}}
	product := map[string]any{"code": "gold", "repo": "Gold", "name": "Gold", "platform": "joomla"}
	site := map[string]any{"dlid": dlid, "domain": "shop.example.com"}
	twoMiB := append(append([]byte(`{"user_email":"`), bytes.Repeat([]byte("a"), 2<<20)...), []byte(`"}`)...)
	// An injection with a slash leaves the route once the router decodes
	// the path (the slash of "</script>" lands on a route that takes no
	// GET): each names what its path segments are answered with.
	type answer struct {
		status int
		code   string
	}
	notFound := answer{404, "license_not_found"}
	injections := []struct {
		value          string
		license        answer
		order, version string
	}{
		{`' OR '1'='1' --`, notFound, "order_not_found", "release_not_found"},
		{`"; DROP TABLE licenses; --`, notFound, "order_not_found", "release_not_found"},
		{`<script>alert(1)</script>`, answer{405, "method_not_allowed"}, "route_not_found", "route_not_found"},
		{`{{.Secret}}`, notFound, "order_not_found", "release_not_found"},
		{`${jndi:ldap://x/a}`, answer{404, "route_not_found"}, "route_not_found", "route_not_found"},
		{`%00`, notFound, "order_not_found", "release_not_found"},
		{`../../etc/passwd`, answer{404, "route_not_found"}, "route_not_found", "route_not_found"},
	}

	var rs []badRequest
	add := func(r badRequest) { rs = append(rs, r) }

	// Oversize: bodies over 1 MiB, fields over their limits (search
	// attributes, email headers, sized columns).
	for _, p := range []string{"/api/v1/licensing/licenses", "/api/v1/orders", "/api/v1/tiers", "/api/v1/products", "/api/v1/tokens", lic + "/suspend", "/api/v1/licenses/validate", "/api/v1/webhooks/stripe"} {
		add(badRequest{class: "oversize", name: "2 MiB body " + p, method: http.MethodPost, path: p, body: twoMiB, status: http.StatusRequestEntityTooLarge, code: "body_too_large"})
	}
	add(badRequest{class: "oversize", name: "10,000-character email", method: http.MethodPost, path: "/api/v1/licensing/licenses", body: with(purchase, "user_email", long(64)+"@"+strings.Repeat("abcdefghi.", 993)+"com"), status: 422, code: "invalid_email"})
	add(badRequest{class: "oversize", name: "2,100-character order email", method: http.MethodPost, path: "/api/v1/orders", body: with(order, "customer_email", email2100), status: 422, code: "invalid_email"})
	add(badRequest{class: "oversize", name: "long customer name", method: http.MethodPost, path: "/api/v1/licensing/licenses", body: with(purchase, "customer_name", huge), status: 422, code: "too_long"})
	add(badRequest{class: "oversize", name: "long company", method: http.MethodPost, path: "/api/v1/orders", body: with(order, "company", huge), status: 422, code: "too_long"})
	add(badRequest{class: "oversize", name: "long payment reference", method: http.MethodPost, path: "/api/v1/orders/" + e.order + "/paid", body: jsonBody(map[string]any{"payment_ref": huge}), status: 422, code: "too_long"})
	add(badRequest{class: "oversize", name: "long reason", method: http.MethodPatch, path: lic, body: jsonBody(map[string]any{"status": "suspended", "reason": huge}), status: 422, code: "too_long"})
	add(badRequest{class: "oversize", name: "long revoke reason", method: http.MethodPost, path: lic + "/revoke", body: jsonBody(map[string]any{"reason": huge}), status: 422, code: "too_long"})
	add(badRequest{class: "oversize", name: "long tier name", method: http.MethodPost, path: "/api/v1/tiers", body: with(tier, "name", huge), status: 422, code: "too_long"})
	add(badRequest{class: "oversize", name: "long tier name on update", method: http.MethodPut, path: "/api/v1/tiers/pos", body: with(tier, "name", huge), status: 422, code: "too_long"})
	add(badRequest{class: "oversize", name: "long product name", method: http.MethodPost, path: "/api/v1/products", body: with(product, "name", huge), status: 422, code: "too_long"})
	add(badRequest{class: "oversize", name: "long token name", method: http.MethodPost, path: "/api/v1/tokens", body: jsonBody(map[string]any{"name": huge, "scopes": []string{"admin"}}), status: 422, code: "too_long"})
	add(badRequest{class: "oversize", name: "long tier key", method: http.MethodPost, path: "/api/v1/licensing/licenses", body: with(purchase, "tier", huge), status: 422, code: "too_long"})
	add(badRequest{class: "oversize", name: "long order id", method: http.MethodPost, path: "/api/v1/orders", body: with(order, "id", huge), status: 422, code: "invalid_order_id"})
	add(badRequest{class: "oversize", name: "long nonce", method: http.MethodPost, path: "/api/v1/licenses/validate", body: with(site, "nonce", huge), noToken: true, status: 422, code: "too_long"})
	add(badRequest{class: "oversize", name: "long domain", method: http.MethodPost, path: "/api/v1/licenses/activate", body: with(site, "domain", huge), noToken: true, status: 422, code: "invalid_domain"})
	add(badRequest{class: "oversize", name: "64-character label", method: http.MethodPost, path: "/api/v1/licenses/activate", body: with(site, "domain", long(64)+".com"), noToken: true, status: 422, code: "invalid_domain"})
	add(badRequest{class: "oversize", name: "long Idempotency-Key", method: http.MethodPost, path: "/api/v1/orders", body: jsonBody(order), headers: map[string]string{"Idempotency-Key": huge}, status: 400, code: "invalid_idempotency_key"})
	body, ct := upload(map[string]string{"notes": strings.Repeat("n", models.MaxNotesLength+1)}, "pkg.zip", []byte("zip"))
	add(badRequest{class: "oversize", name: "release notes", method: http.MethodPost, path: "/api/v1/products/pos/releases", body: body, contentType: ct, status: 422, code: "too_long"})
	body, ct = upload(nil, long(300)+".zip", []byte("zip"))
	add(badRequest{class: "oversize", name: "long file name", method: http.MethodPost, path: "/api/v1/products/pos/releases", body: body, contentType: ct, status: 422, code: "invalid_filename"})

	// Wrong types.
	for _, c := range []struct {
		path, method string
		body         map[string]any
	}{
		{"/api/v1/licensing/licenses", http.MethodPost, map[string]any{"user_email": 42, "tier": "pos"}},
		{"/api/v1/licensing/licenses", http.MethodPost, with2(purchase, "max_domains", "3")},
		{"/api/v1/licensing/licenses", http.MethodPost, with2(purchase, "amount_cents", 1.5)},
		{lic, http.MethodPatch, map[string]any{"expires_months": "12"}},
		{lic + "/renew", http.MethodPost, map[string]any{"months": []int{12}}},
		{"/api/v1/orders", http.MethodPost, with2(order, "months", true)},
		{"/api/v1/orders/" + e.order + "/paid", http.MethodPost, map[string]any{"payment_ref": 7}},
		{"/api/v1/tiers", http.MethodPost, with2(tier, "products", "base")},
		{"/api/v1/products", http.MethodPost, with2(product, "requires_key", "yes")},
		{"/api/v1/tokens", http.MethodPost, map[string]any{"name": "crm", "scopes": "admin"}},
		{lic + "/renewal-link", http.MethodPost, map[string]any{"months": "twelve"}},
		{"/api/v1/licenses/validate", http.MethodPost, map[string]any{"dlid": 7}},
		{"/api/v1/licenses/token", http.MethodPost, map[string]any{"dlid": []string{dlid}}},
	} {
		add(badRequest{class: "wrong type", name: c.method + " " + c.path + " " + string(jsonBody(c.body)), method: c.method, path: c.path, body: jsonBody(c.body), status: 400, code: "invalid_type"})
	}
	add(badRequest{class: "wrong type", name: "array body", method: http.MethodPost, path: "/api/v1/orders", body: []byte(`[1,2]`), status: 400, code: "invalid_type"})
	add(badRequest{class: "wrong type", name: "not JSON", method: http.MethodPost, path: "/api/v1/licensing/licenses", body: []byte(`user_email=a@b.c`), status: 400, code: "invalid_json"})
	add(badRequest{class: "wrong type", name: "truncated JSON", method: http.MethodPost, path: "/api/v1/licenses/activate", body: []byte(`{"dlid":"` + dlid), noToken: true, status: 400, code: "invalid_json"})
	add(badRequest{class: "wrong type", name: "two objects", method: http.MethodPost, path: "/api/v1/tiers", body: []byte(`{"key":"a"}{"key":"b"}`), status: 400, code: "invalid_json"})
	add(badRequest{class: "wrong type", name: "upload as JSON", method: http.MethodPost, path: "/api/v1/products/pos/releases", body: []byte(`{"version":"1.0.0"}`), status: 400, code: "invalid_form"})
	add(badRequest{class: "wrong type", name: "token id not a number", method: http.MethodDelete, path: "/api/v1/tokens/abc", status: 422, code: "invalid_id"})
	add(badRequest{class: "wrong type", name: "limit not a number", method: http.MethodGet, path: "/api/v1/licensing/licenses?limit=ten", status: 422, code: "invalid_limit"})
	add(badRequest{class: "wrong type", name: "bad status filter", method: http.MethodGet, path: "/api/v1/licensing/licenses?status=gone", status: 422, code: "invalid_status"})
	add(badRequest{class: "wrong type", name: "bad window", method: http.MethodGet, path: "/api/v1/licensing/licenses?expiring_within=soon", status: 422, code: "invalid_expiring_within"})
	add(badRequest{class: "wrong type", name: "bad expires_at", method: http.MethodPatch, path: lic, body: jsonBody(map[string]any{"expires_at": "tomorrow"}), status: 422, code: "invalid_expires_at"})
	add(badRequest{class: "wrong type", name: "negative amount", method: http.MethodPost, path: "/api/v1/licensing/licenses", body: with(purchase, "amount_cents", -1), status: 422, code: "invalid_amount"})
	add(badRequest{class: "wrong type", name: "max_domains zero", method: http.MethodPost, path: "/api/v1/orders", body: with(order, "max_domains", 0), status: 422, code: "invalid_max_domains"})
	add(badRequest{class: "wrong type", name: "currency euro sign", method: http.MethodPost, path: "/api/v1/licensing/licenses", body: with(purchase, "currency", "€"), status: 422, code: "invalid_currency"})
	add(badRequest{class: "wrong type", name: "currency not ISO 4217", method: http.MethodPost, path: "/api/v1/orders", body: with(order, "currency", "XYZ"), status: 422, code: "invalid_currency"})
	add(badRequest{class: "wrong type", name: "tier currency euro sign", method: http.MethodPost, path: "/api/v1/tiers", body: with(tier, "currency", "€"), status: 422, code: "invalid_currency"})
	add(badRequest{class: "wrong type", name: "domain ..", method: http.MethodPost, path: "/api/v1/licenses/activate", body: with(site, "domain", ".."), noToken: true, status: 422, code: "invalid_domain"})
	add(badRequest{class: "wrong type", name: "domain ...", method: http.MethodPost, path: "/api/v1/licenses/heartbeat", body: with(site, "domain", "..."), noToken: true, status: 422, code: "invalid_domain"})
	body, ct = upload(map[string]string{"version": "one"}, "a.zip", []byte("z"))
	add(badRequest{class: "wrong type", name: "release version", method: http.MethodPost, path: "/api/v1/products/pos/releases", body: body, contentType: ct, status: 422, code: "invalid_version"})

	// Unknown fields: a typo is named, never ignored.
	for _, c := range []struct{ method, path, field string }{
		{http.MethodPost, "/api/v1/licensing/licenses", "expire_months"},
		{http.MethodPatch, lic, "expiry"},
		{http.MethodPost, lic + "/suspend", "reasons"},
		{http.MethodPost, "/api/v1/orders", "email"},
		{http.MethodPost, "/api/v1/orders/" + e.order + "/paid", "ref"},
		{http.MethodPost, "/api/v1/tiers", "price"},
		{http.MethodPut, "/api/v1/products/pos", "title"},
		{http.MethodPost, "/api/v1/tokens", "scope"},
		{http.MethodPost, lic + "/renewal-link", "month"},
		{http.MethodPost, "/api/v1/licenses/validate", "key"},
	} {
		add(badRequest{class: "unknown field", name: c.method + " " + c.path, method: c.method, path: c.path, body: []byte(`{"` + c.field + `":1}`), status: 400, code: "unknown_field"})
	}

	// Injection strings where they can never be valid: emails, keys, ids,
	// domains, URLs.
	for _, c := range injections {
		inj := c.value
		add(badRequest{class: "injection", name: "email " + inj, method: http.MethodPost, path: "/api/v1/licensing/licenses", body: with(purchase, "user_email", inj), status: 422, code: "invalid_email"})
		add(badRequest{class: "injection", name: "tier " + inj, method: http.MethodPost, path: "/api/v1/orders", body: with(order, "tier", inj), status: 422, code: "tier_not_found"})
		add(badRequest{class: "injection", name: "order id " + inj, method: http.MethodPost, path: "/api/v1/orders", body: with(order, "id", inj), status: 422, code: "invalid_order_id"})
		add(badRequest{class: "injection", name: "tier key " + inj, method: http.MethodPost, path: "/api/v1/tiers", body: with(tier, "key", inj), status: 422, code: "invalid_key"})
		add(badRequest{class: "injection", name: "product code " + inj, method: http.MethodPost, path: "/api/v1/products", body: with(product, "code", inj), status: 422, code: "invalid_code"})
		add(badRequest{class: "injection", name: "scope " + inj, method: http.MethodPost, path: "/api/v1/tokens", body: jsonBody(map[string]any{"name": "x", "scopes": []string{inj}}), status: 422, code: "invalid_scope"})
		add(badRequest{class: "injection", name: "domain " + inj, method: http.MethodPost, path: "/api/v1/licenses/activate", body: with(site, "domain", inj), noToken: true, status: 422, code: "invalid_domain"})
		add(badRequest{class: "injection", name: "license id " + inj, method: http.MethodGet, path: "/api/v1/licensing/licenses/" + url.PathEscape(inj), status: c.license.status, code: c.license.code})
		add(badRequest{class: "injection", name: "order id in path " + inj, method: http.MethodPost, path: "/api/v1/orders/" + url.PathEscape(inj) + "/paid", status: 404, code: c.order})
		add(badRequest{class: "injection", name: "license renewal " + inj, method: http.MethodPost, path: "/api/v1/orders", body: jsonBody(map[string]any{"id": "crm-r", "kind": "renewal", "license_id": inj}), status: 422, code: "license_not_found"})
		add(badRequest{class: "injection", name: "version " + inj, method: http.MethodGet, path: "/downloads/pos/" + url.PathEscape(inj) + "?dlid=" + dlid, noToken: true, status: 404, code: c.version})
	}

	// CR/LF (header injection into emails, summaries, ledger lines).
	for _, c := range []struct {
		method, path string
		body         []byte
		code         string
	}{
		{http.MethodPost, "/api/v1/licensing/licenses", with(purchase, "user_email", "a@example.com\r\nBcc: all@example.com"), "invalid_email"},
		{http.MethodPost, "/api/v1/licensing/licenses", with(purchase, "customer_name", "Ada\r\nBcc: all@example.com"), "invalid_text"},
		{http.MethodPost, "/api/v1/orders", with(order, "customer_name", "Ada\nSubject: free"), "invalid_text"},
		{http.MethodPost, "/api/v1/orders", with(order, "company", "ACME\r"), "invalid_text"},
		{http.MethodPost, lic + "/suspend", jsonBody(map[string]any{"reason": "x\r\nX-Injected: 1"}), "invalid_text"},
		{http.MethodPatch, lic, jsonBody(map[string]any{"status": "suspended", "reason": "x\ny"}), "invalid_text"},
		{http.MethodPost, lic + "/renew", jsonBody(map[string]any{"payment_ref": "p\r\n"}), "invalid_text"},
		{http.MethodPost, "/api/v1/tiers", with(tier, "name", "Gold\r\nBcc: x@example.com"), "invalid_text"},
		{http.MethodPost, "/api/v1/products", with(product, "name", "Gold\nSubject: x"), "invalid_text"},
		{http.MethodPost, "/api/v1/tokens", jsonBody(map[string]any{"name": "crm\r\n", "scopes": []string{"admin"}}), "invalid_text"},
		{http.MethodPost, "/api/v1/licenses/validate", with(site, "nonce", "n\r\nx"), "invalid_text"},
	} {
		add(badRequest{class: "CRLF", name: c.method + " " + c.path + " " + string(c.body), method: c.method, path: c.path, body: c.body, status: 422, code: c.code, noToken: strings.Contains(c.path, "/licenses/validate")})
	}
	body, ct = upload(map[string]string{"target_platform": "5.*\r\n<evil/>"}, "pkg.zip", []byte("zip"))
	add(badRequest{class: "CRLF", name: "target platform", method: http.MethodPost, path: "/api/v1/products/pos/releases", body: body, contentType: ct, status: 422, code: "invalid_target_platform"})
	add(badRequest{class: "CRLF", name: "path", method: http.MethodGet, path: "/api/v1/orders/a%0d%0aX-Injected:%201", status: 400, code: "invalid_encoding"})
	add(badRequest{class: "CRLF", name: "query", method: http.MethodGet, path: "/api/v1/licensing/licenses?email=a%0d%0ab", status: 400, code: "invalid_encoding"})

	// Invalid UTF-8 and NUL.
	for _, p := range []struct{ method, path string }{
		{http.MethodPost, "/api/v1/licensing/licenses"}, {http.MethodPost, "/api/v1/orders"}, {http.MethodPost, "/api/v1/tiers"},
		{http.MethodPut, "/api/v1/products/pos"}, {http.MethodPost, lic + "/revoke"}, {http.MethodPatch, lic},
		{http.MethodPost, "/api/v1/licenses/activate"}, {http.MethodPost, "/api/v1/tokens"},
	} {
		add(badRequest{class: "invalid UTF-8", name: p.method + " " + p.path, method: p.method, path: p.path, body: []byte("{\"user_email\":\"M\xfcller@example.com\",\"reason\":\"\xc3\x28\"}"), status: 400, code: "invalid_encoding", noToken: strings.Contains(p.path, "/licenses/activate")})
	}
	add(badRequest{class: "invalid UTF-8", name: "NUL in name", method: http.MethodPost, path: "/api/v1/licensing/licenses", body: with(purchase, "customer_name", "Ada\x00"), status: 422, code: "invalid_text"})
	add(badRequest{class: "invalid UTF-8", name: "NUL in tier name", method: http.MethodPost, path: "/api/v1/tiers", body: with(tier, "name", "Gold\x00"), status: 422, code: "invalid_text"})
	add(badRequest{class: "invalid UTF-8", name: "NUL in product", method: http.MethodPost, path: "/api/v1/licenses/validate", body: with(site, "product", "pos\x00"), noToken: true, status: 422, code: "invalid_text"})
	add(badRequest{class: "invalid UTF-8", name: "path", method: http.MethodGet, path: "/api/v1/licensing/licenses/lic_%ff%fe", status: 400, code: "invalid_encoding"})
	add(badRequest{class: "invalid UTF-8", name: "NUL in path", method: http.MethodGet, path: "/api/v1/orders/x%00y", status: 400, code: "invalid_encoding"})
	add(badRequest{class: "invalid UTF-8", name: "query", method: http.MethodGet, path: "/api/v1/licensing/licenses?email=%ff", status: 400, code: "invalid_encoding"})
	add(badRequest{class: "invalid UTF-8", name: "feed key", method: http.MethodGet, path: "/updates/pos.xml?dlid=%00", noToken: true, status: 400, code: "invalid_encoding"})
	body, ct = upload(map[string]string{"notes": "M\xfcller"}, "pkg.zip", []byte("zip"))
	add(badRequest{class: "invalid UTF-8", name: "release notes", method: http.MethodPost, path: "/api/v1/products/pos/releases", body: body, contentType: ct, status: 422, code: "invalid_encoding"})
	add(badRequest{class: "invalid UTF-8", name: "Idempotency-Key", method: http.MethodPost, path: "/api/v1/orders", body: jsonBody(order), headers: map[string]string{"Idempotency-Key": "key\xff"}, status: 400, code: "invalid_idempotency_key"})

	// Path traversal.
	for _, name := range []string{"..", ".", "/", `\`, `..\..`, "....", "a/../..", strings.Repeat("../", 100)} {
		body, ct := upload(nil, name, []byte("zip"))
		add(badRequest{class: "path traversal", name: fmt.Sprintf("file name %q", name), method: http.MethodPost, path: "/api/v1/products/pos/releases", body: body, contentType: ct, status: 422, code: "invalid_filename"})
	}
	for _, name := range []string{"pkg\x00.zip", "\x01", "a\r\nb.zip"} { // control characters make the part header unreadable
		body, ct := upload(nil, name, []byte("zip"))
		add(badRequest{class: "path traversal", name: fmt.Sprintf("file name %q", name), method: http.MethodPost, path: "/api/v1/products/pos/releases", body: body, contentType: ct, status: 400, code: "invalid_form"})
	}
	body, ct = upload(map[string]string{"version": "../../../etc"}, "pkg.zip", []byte("zip"))
	add(badRequest{class: "path traversal", name: "version", method: http.MethodPost, path: "/api/v1/products/pos/releases", body: body, contentType: ct, status: 422, code: "invalid_version"})
	body, ct = upload(map[string]string{"channel": "../beta"}, "pkg.zip", []byte("zip"))
	add(badRequest{class: "path traversal", name: "channel", method: http.MethodPost, path: "/api/v1/products/pos/releases", body: body, contentType: ct, status: 422, code: "invalid_channel"})
	body, ct = upload(map[string]string{"element": "../../pkg"}, "pkg.zip", []byte("zip"))
	add(badRequest{class: "path traversal", name: "element", method: http.MethodPost, path: "/api/v1/products/pos/releases", body: body, contentType: ct, status: 422, code: "invalid_element"})
	for _, p := range []string{
		"/api/v1/products/..%2f..%2fetc/releases", "/downloads/pos/..%2f..%2f..%2fetc%2fpasswd?dlid=" + dlid, "/downloads/..%2f/1.0.0",
		"/releases/pos/..%2f..%2fetc", "/updates/..%2f..%2fetc%2fpasswd.xml", "/api/v1/invoices/..%2f..%2f/pdf", "/static/..%2f..%2fgo.mod",
	} {
		add(badRequest{class: "path traversal", name: p, method: http.MethodGet, path: p, noToken: strings.HasPrefix(p, "/downloads") || strings.HasPrefix(p, "/releases") || strings.HasPrefix(p, "/static"), status: 404, code: "route_not_found"})
	}

	// Stripe: what cannot be verified is a 400 and nothing is recorded.
	event := []byte(`{"id":"evt_bad","object":"event","type":"checkout.session.completed","data":{"object":{"id":"cs_bad","metadata":{"tier":"pos"},"customer_details":{"email":"a@example.com"}}}}`)
	add(badRequest{class: "stripe", name: "no signature", method: http.MethodPost, path: "/api/v1/webhooks/stripe", body: event, noToken: true, status: 400, code: "invalid_signature"})
	add(badRequest{class: "stripe", name: "forged signature", method: http.MethodPost, path: "/api/v1/webhooks/stripe", body: event, noToken: true, headers: map[string]string{"Stripe-Signature": fmt.Sprintf("t=%d,v1=%s", time.Now().Unix(), strings.Repeat("ab", 32))}, status: 400, code: "invalid_signature"})
	add(badRequest{class: "stripe", name: "signed ten minutes ahead", method: http.MethodPost, path: "/api/v1/webhooks/stripe", body: event, noToken: true, stripeSign: true, stripeSignedAt: time.Now().Add(10 * time.Minute), status: 400, code: "invalid_signature"})
	add(badRequest{class: "stripe", name: "signed ten minutes ago", method: http.MethodPost, path: "/api/v1/webhooks/stripe", body: event, noToken: true, stripeSign: true, stripeSignedAt: time.Now().Add(-10 * time.Minute), status: 400, code: "invalid_signature"})
	add(badRequest{class: "stripe", name: "signed, not UTF-8", method: http.MethodPost, path: "/api/v1/webhooks/stripe", body: []byte("{\"id\":\"evt_x\",\"type\":\"x\",\"data\":{\"object\":{\"name\":\"\xff\"}}}"), noToken: true, stripeSign: true, status: 400, code: "invalid_event"})
	add(badRequest{class: "stripe", name: "signed, id with CRLF", method: http.MethodPost, path: "/api/v1/webhooks/stripe", body: []byte(`{"id":"evt\r\n1","type":"x"}`), noToken: true, stripeSign: true, status: 400, code: "invalid_event"})
	add(badRequest{class: "stripe", name: "signed, long id", method: http.MethodPost, path: "/api/v1/webhooks/stripe", body: []byte(`{"id":"evt_` + long(200) + `","type":"x"}`), noToken: true, stripeSign: true, status: 400, code: "invalid_event"})

	// No token, or the wrong one, for every JSON route: 401, never a 5xx.
	for _, p := range []struct{ method, path string }{
		{http.MethodPost, "/api/v1/licensing/licenses"}, {http.MethodPatch, lic}, {http.MethodPost, "/api/v1/orders"},
		{http.MethodPost, "/api/v1/tokens"}, {http.MethodPost, "/api/v1/products/pos/releases"}, {http.MethodPost, "/api/v1/keys/rotate"},
		{http.MethodPost, "/api/v1/licenses/" + e.license.ID + "/token"},
	} {
		add(badRequest{class: "auth", name: "no token " + p.path, method: p.method, path: p.path, body: jsonBody(purchase), noToken: true, status: 401, code: "missing_token"})
		add(badRequest{class: "auth", name: "token with NUL " + p.path, method: p.method, path: p.path, body: jsonBody(purchase), noToken: true, headers: map[string]string{"Authorization": "Bearer lft_\xff\xfe"}, status: 401, code: "invalid_token"})
	}
	return rs
}

func with2(base map[string]any, k string, v any) map[string]any {
	m := map[string]any{}
	for key, val := range base {
		m[key] = val
	}
	m[k] = v
	return m
}

func (e *badInputEnv) nothingHappened(t *testing.T, before map[string]int64) {
	t.Helper()
	assert.Equal(t, before, testsupport.RowCounts(t, e.store), "no row in any table")
	assert.Empty(t, e.flows.Starts(), "no workflow started")
	assert.Empty(t, e.flows.Updates(), "no workflow updated")
	assert.Empty(t, e.flows.Signals(), "no workflow signalled")
	assert.Empty(t, e.flows.Announcements(), "no release announced")
	assert.Empty(t, e.flows.SignIns(), "no sign-in email")
}

func TestBadInputIsAClear4xxAndChangesNothing(t *testing.T) {
	e := newBadInputEnv(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	before := testsupport.RowCounts(t, e.store)
	classes := map[string]int{}
	for _, r := range e.table() {
		classes[r.class]++
		t.Run(r.class+"/"+models.Clip(r.name, 60), func(t *testing.T) {
			// A case that named no status or code would accept any refusal,
			// a non-JSON 404 included.
			require.NotZero(t, r.status, "the case names the status it expects")
			require.NotEmpty(t, r.code, "the case names the code it expects")
			resp, body := e.send(t, client, r)
			require.Less(t, resp.StatusCode, 500, "never a 5xx: %s", models.Clip(string(body), 300))
			require.GreaterOrEqual(t, resp.StatusCode, 400, "refused: %s", models.Clip(string(body), 300))
			assert.Equal(t, r.status, resp.StatusCode, models.Clip(string(body), 300))
			var answer struct {
				Error *struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if ct := resp.Header.Get("Content-Type"); strings.Contains(ct, "json") {
				require.NoError(t, json.Unmarshal(body, &answer), "a JSON error: %s", models.Clip(string(body), 300))
				require.NotNil(t, answer.Error, "a JSON error: %s", models.Clip(string(body), 300))
				assert.Regexp(t, stableCode, answer.Error.Code)
				assert.NotEmpty(t, answer.Error.Message)
				assert.Equal(t, r.code, answer.Error.Code, answer.Error.Message)
			} else {
				t.Errorf("not a JSON error (%s): %s", ct, models.Clip(string(body), 300))
			}
		})
	}
	t.Logf("%d bad requests: %v", len(e.table()), classes)
	e.nothingHappened(t, before)
}

// The portal's and dashboard's forms: the same classes, answered with a
// page (4xx), and nothing recorded or sent.
func TestBadFormInputIsAClear4xxPageAndChangesNothing(t *testing.T) {
	e := newBadInputEnv(t)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	csrf := func(path string) string {
		resp, err := client.Get(e.srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		page, _ := io.ReadAll(resp.Body)
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
		require.NotNil(t, m, "%s carries a CSRF token", path)
		return string(m[1])
	}
	before := testsupport.RowCounts(t, e.store)
	cases := []struct {
		name, path string
		form       url.Values
	}{
		{"email with CRLF", "/portal/signin", url.Values{"email": {"victim@example.com\r\nBcc: x@example.com"}}},
		{"oversize email", "/portal/signin", url.Values{"email": {strings.Repeat("a", 64) + "@" + strings.Repeat("abcdefghi.", 300) + "com"}}},
		{"email with NUL", "/portal/signin", url.Values{"email": {"victim@example.com\x00"}}},
		{"email not UTF-8", "/portal/signin", url.Values{"email": {"v\xffctim@example.com"}}},
		{"injection", "/portal/signin", url.Values{"email": {`' OR 1=1 --`}}},
		{"operator email with LF", "/admin/signin", url.Values{"email": {"ops@example.com\nx"}}},
		{"token with NUL", "/admin/token", url.Values{"token": {badInputAdmin + "\x00"}}},
		{"oversize token", "/admin/token", url.Values{"token": {strings.Repeat("t", 5000)}}},
		{"no CSRF token", "/portal/signin", url.Values{"email": {"victim@example.com"}}},
		{"plan email with CRLF", "/plans/pos/checkout", url.Values{"term": {"yearly"}, "email": {"victim@example.com\r\nBcc: x@example.com"}}},
		{"plan email injection", "/plans/pos/checkout", url.Values{"term": {"yearly"}, "email": {`' OR 1=1 --`}}},
		{"plan term not UTF-8", "/plans/pos/checkout", url.Values{"term": {"year\xffly"}, "email": {"buyer@example.com"}}},
		{"plan domains beyond int64", "/plans/pos/checkout", url.Values{"term": {"yearly"}, "domains": {"99999999999999999999"}, "email": {"buyer@example.com"}}},
		{"plan that does not exist", "/plans/%27%20OR%201=1%20--/checkout", url.Values{"term": {"yearly"}, "email": {"buyer@example.com"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			area := "/portal"
			if strings.HasPrefix(c.path, "/admin") {
				area = "/admin"
			}
			if strings.HasPrefix(c.path, "/plans") {
				area = "/plans"
			}
			if c.name != "no CSRF token" {
				c.form.Set("csrf", csrf(area))
			}
			resp, err := client.PostForm(e.srv.URL+c.path, c.form)
			require.NoError(t, err)
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Less(t, resp.StatusCode, 500, string(page))
			require.GreaterOrEqual(t, resp.StatusCode, 400, models.Clip(string(page), 300))
			assert.Contains(t, resp.Header.Get("Content-Type"), "text/html")
		})
	}
	e.nothingHappened(t, before)
}

// Concurrency: the same creating request sent at once, many times, makes
// one thing (or none), and nothing fails with a 5xx.
func TestConcurrentDuplicatesMakeOneThingAndNoServerErrors(t *testing.T) {
	e := newBadInputEnv(t)
	client := &http.Client{}
	send := func(r badRequest) int {
		resp, body := e.send(t, client, r)
		assert.Less(t, resp.StatusCode, 500, string(body))
		return resp.StatusCode
	}
	burst := func(n int, r func(i int) badRequest) map[int]int {
		var mu sync.Mutex
		statuses := map[int]int{}
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				s := send(r(i))
				mu.Lock()
				statuses[s]++
				mu.Unlock()
			})
		}
		wg.Wait()
		return statuses
	}
	count := func(model any, where string, args ...any) int64 {
		var n int64
		require.NoError(t, e.store.DB().Model(model).Where(where, args...).Count(&n).Error)
		return n
	}

	// One order id, one body, ten times at once: one order.
	statuses := burst(10, func(int) badRequest {
		return badRequest{method: http.MethodPost, path: "/api/v1/orders", body: []byte(`{"id":"crm-burst","customer_email":"b@example.com","tier":"pos"}`)}
	})
	assert.Equal(t, 10, statuses[http.StatusCreated]+statuses[http.StatusOK], "%v", statuses)
	assert.Equal(t, int64(1), count(&models.Order{}, "id = ?", "crm-burst"))

	// One order id, ten different terms: one wins, the others are told.
	statuses = burst(10, func(i int) badRequest {
		return badRequest{method: http.MethodPost, path: "/api/v1/orders", body: []byte(fmt.Sprintf(`{"id":"crm-terms","customer_email":"t%d@example.com","tier":"pos"}`, i))}
	})
	assert.Equal(t, 1, statuses[http.StatusCreated], "%v", statuses)
	assert.Equal(t, 9, statuses[http.StatusConflict], "%v", statuses)

	// Paying one order ten times at once: one license, one workflow start.
	statuses = burst(10, func(int) badRequest {
		return badRequest{method: http.MethodPost, path: "/api/v1/orders/" + e.order + "/paid", body: []byte(`{"payment_ref":"bank-1"}`)}
	})
	assert.Equal(t, 10, statuses[http.StatusAccepted], "%v", statuses)
	assert.Equal(t, int64(1), count(&models.License{}, "order_id = ?", e.order))

	// One token request with one Idempotency-Key, ten times at once: one
	// token; the secret is shown once; the others are told so or to retry.
	tokensBefore := count(&models.APIToken{}, "1 = 1")
	statuses = burst(10, func(int) badRequest {
		return badRequest{method: http.MethodPost, path: "/api/v1/tokens", body: []byte(`{"name":"burst","scopes":["licenses:read"]}`),
			headers: map[string]string{"Idempotency-Key": "burst-1"}}
	})
	assert.Equal(t, 1, statuses[http.StatusCreated], "%v", statuses)
	assert.Equal(t, 9, statuses[http.StatusConflict], "%v", statuses)
	assert.Equal(t, tokensBefore+1, count(&models.APIToken{}, "1 = 1"))

	// Ten uploads of one version: one release.
	statuses = burst(10, func(i int) badRequest {
		body, ct := upload(map[string]string{"version": "8.0.0"}, "pkg.zip", bytes.Repeat([]byte{byte(i)}, 100000))
		return badRequest{method: http.MethodPost, path: "/api/v1/products/pos/releases", body: body, contentType: ct}
	})
	assert.Equal(t, 1, statuses[http.StatusCreated], "%v", statuses)
	assert.Equal(t, 9, statuses[http.StatusConflict], "%v", statuses)

	// Ten activations of five domains each on a two-domain license: two slots.
	statuses = burst(10, func(i int) badRequest {
		return badRequest{method: http.MethodPost, path: "/api/v1/licenses/activate", noToken: true,
			body: jsonBody(map[string]any{"dlid": e.license.Key(), "domain": fmt.Sprintf("site-%d.example.com", i%5)})}
	})
	assert.Equal(t, 10, statuses[http.StatusOK], "%v", statuses)
	n, err := e.store.CountActiveDomains(context.Background(), e.license.ID)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
}
