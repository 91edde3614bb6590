package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/testsupport"
)

// longEmail is a syntactically valid address of exactly n characters (n
// at least 70): a 64-character local part and a domain of short labels.
func longEmail(n int) string {
	local := strings.Repeat("a", 64)
	body := []byte(strings.Repeat("abcdefghi.", n/10+1)[:n-len(local)-1-len(".com")])
	if body[len(body)-1] == '.' {
		body[len(body)-1] = 'x'
	}
	return local + "@" + string(body) + ".com"
}

// refusedAndNothingRecorded checks a 422 on field with code, and that no
// row and no workflow start came of it.
func (a *apiTest) refusedAndNothingRecorded(t *testing.T, w *httptest.ResponseRecorder, before map[string]int64, code, field string) {
	t.Helper()
	require.Equal(t, http.StatusUnprocessableEntity, w.Code, w.Body.String())
	e := errorOf(t, w)
	assert.Equal(t, code, e.Code, e.Message)
	assert.Equal(t, field, e.Field, e.Message)
	assert.Equal(t, before, testsupport.RowCounts(t, a.store), "nothing is recorded")
	assert.Empty(t, a.flows.Starts(), "no workflow is started")
	assert.Empty(t, a.flows.Updates(), "no workflow is updated")
}

// Issue 9, item 1: a 10,000-character email used to be recorded and then
// fail the workflow start forever (the CustomerEmail search attribute holds
// at most 2 KB), leaving a paid order with a license stuck pending.
func TestOversizeFieldsOfAPurchaseAreRefusedBeforeAnythingIsRecorded(t *testing.T) {
	a := newAPITest(t)
	before := testsupport.RowCounts(t, a.store)
	cases := []struct {
		name, body, code, field string
	}{
		{"10,000-character email", `{"user_email":"` + longEmail(10000) + `","tier":"pos"}`, "invalid_email", "user_email"},
		{"255-character email", `{"user_email":"` + longEmail(255) + `","tier":"pos"}`, "invalid_email", "user_email"},
		{"65-character local part", `{"user_email":"` + strings.Repeat("b", 65) + `@example.com","tier":"pos"}`, "invalid_email", "user_email"},
		{"long name", `{"user_email":"ada@example.com","tier":"pos","customer_name":"` + strings.Repeat("n", 201) + `"}`, "too_long", "customer_name"},
		{"name with a line break", `{"user_email":"ada@example.com","tier":"pos","customer_name":"Ada\r\nBcc: victim@example.com"}`, "invalid_text", "customer_name"},
		{"long company", `{"user_email":"ada@example.com","tier":"pos","company":"` + strings.Repeat("c", 201) + `"}`, "too_long", "company"},
		{"company with NUL", `{"user_email":"ada@example.com","tier":"pos","company":"ACME\u0000"}`, "invalid_text", "company"},
		{"long payment reference", `{"user_email":"ada@example.com","tier":"pos","payment_ref":"` + strings.Repeat("p", 201) + `"}`, "too_long", "payment_ref"},
		{"euro sign as currency", `{"user_email":"ada@example.com","tier":"pos","currency":"€"}`, "invalid_currency", "currency"},
		{"made-up currency", `{"user_email":"ada@example.com","tier":"pos","currency":"ABC"}`, "invalid_currency", "currency"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses", c.body)
			a.refusedAndNothingRecorded(t, w, before, c.code, c.field)
		})
	}
	// The limits are limits, not guesses: 254 characters is a valid address.
	ok := longEmail(254)
	require.Len(t, ok, 254)
	w := a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"`+ok+`","tier":"pos","currency":"usd"}`)
	assert.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
}

func TestOversizeFieldsOfACRMOrderAreRefusedBeforeAnythingIsRecorded(t *testing.T) {
	a := newAPITest(t)
	before := testsupport.RowCounts(t, a.store)
	cases := []struct {
		name, body, code, field string
	}{
		{"2,100-character email", `{"id":"crm-1","customer_email":"` + longEmail(2100) + `","tier":"pos"}`, "invalid_email", "customer_email"},
		{"long name", `{"id":"crm-1","customer_email":"ada@example.com","tier":"pos","customer_name":"` + strings.Repeat("n", 201) + `"}`, "too_long", "customer_name"},
		{"name with LF", `{"id":"crm-1","customer_email":"ada@example.com","tier":"pos","customer_name":"Ada\nLovelace"}`, "invalid_text", "customer_name"},
		{"long company", `{"id":"crm-1","customer_email":"ada@example.com","tier":"pos","company":"` + strings.Repeat("c", 201) + `"}`, "too_long", "company"},
		{"euro sign as currency", `{"id":"crm-1","customer_email":"ada@example.com","tier":"pos","currency":"€"}`, "invalid_currency", "currency"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := a.call(adminToken, http.MethodPost, "/api/v1/orders", c.body)
			a.refusedAndNothingRecorded(t, w, before, c.code, c.field)
		})
	}
}

// An order recorded with an address the workflow could never carry (before
// the limits existed, or by hand) is refused when paid: it stays pending
// and no license is left waiting for a workflow that cannot start.
func TestPayingAnOrderThatCouldNeverBeIssuedIsRefusedAndLeavesNoPendingLicense(t *testing.T) {
	a := newAPITest(t)
	ctx := context.Background()
	tier, err := a.store.GetTier(ctx, "pos")
	require.NoError(t, err)
	_, _, err = a.store.CreateOrder(ctx, models.NewOrder{ID: "crm-old", Email: longEmail(2100), Tier: tier, Kind: models.OrderNew,
		Months: 12, MaxDomains: 3, AmountCents: 100, Currency: "EUR"})
	require.NoError(t, err)
	before := testsupport.RowCounts(t, a.store)

	w := a.call(adminToken, http.MethodPost, "/api/v1/orders/crm-old/paid", `{"payment_ref":"bank-1"}`)
	require.Equal(t, http.StatusUnprocessableEntity, w.Code, w.Body.String())
	assert.Equal(t, "invalid_email", errorOf(t, w).Code)
	assert.Equal(t, before, testsupport.RowCounts(t, a.store), "no license row")
	o, err := a.store.GetOrder(ctx, "crm-old")
	require.NoError(t, err)
	assert.Equal(t, models.OrderPending, o.Status, "the order is not marked paid")
	assert.Empty(t, a.flows.Starts())
}

func TestChangesWithOversizeReasonsOrReferencesAreRefused(t *testing.T) {
	a := newAPITest(t)
	l := a.purchased("crm-r")
	before := testsupport.RowCounts(t, a.store)
	cases := []struct {
		name, method, path, body, code, field string
	}{
		{"long reason", http.MethodPatch, "", `{"status":"suspended","reason":"` + strings.Repeat("r", 501) + `"}`, "too_long", "reason"},
		{"reason with CR LF", http.MethodPost, "/suspend", `{"reason":"fraud\r\nX-Injected: yes"}`, "invalid_text", "reason"},
		{"long revoke reason", http.MethodPost, "/revoke", `{"reason":"` + strings.Repeat("r", 501) + `"}`, "too_long", "reason"},
		{"long payment reference", http.MethodPost, "/renew", `{"months":12,"payment_ref":"` + strings.Repeat("p", 201) + `"}`, "too_long", "payment_ref"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := a.call(adminToken, c.method, "/api/v1/licensing/licenses/"+l.ID+c.path, c.body)
			a.refusedAndNothingRecorded(t, w, before, c.code, c.field)
		})
	}
}

func TestCatalogNamesAndCurrenciesAreChecked(t *testing.T) {
	a := newAPITest(t)
	before := testsupport.RowCounts(t, a.store)
	tier := func(mutate func(map[string]any)) string {
		body := map[string]any{"key": "gold", "name": "Gold", "products": []string{"base"}, "max_domains": 3,
			"term": "annual", "price_cents": 100, "currency": "EUR", "channels": []string{"stable"}}
		mutate(body)
		raw, _ := json.Marshal(body)
		return string(raw)
	}
	cases := []struct {
		name, path, body, code, field string
	}{
		{"euro sign", "/api/v1/tiers", tier(func(m map[string]any) { m["currency"] = "€" }), "invalid_currency", "currency"},
		{"not ISO 4217", "/api/v1/tiers", tier(func(m map[string]any) { m["currency"] = "XYZ" }), "invalid_currency", "currency"},
		{"long tier name", "/api/v1/tiers", tier(func(m map[string]any) { m["name"] = strings.Repeat("g", 201) }), "too_long", "name"},
		{"tier name with CR LF", "/api/v1/tiers", tier(func(m map[string]any) { m["name"] = "Gold\r\nBcc: x@example.com" }), "invalid_text", "name"},
		{"long plan description", "/api/v1/tiers", tier(func(m map[string]any) { m["description"] = strings.Repeat("d", 2001) }), "too_long", "description"},
		{"plan description with a control character", "/api/v1/tiers", tier(func(m map[string]any) { m["description"] = "Gold\x00plan" }), "invalid_text", "description"},
		{"long Stripe price", "/api/v1/tiers", tier(func(m map[string]any) { m["stripe_price_id"] = strings.Repeat("p", 101) }), "too_long", "stripe_price_id"},
		{"long product name", "/api/v1/products", `{"code":"gold","repo":"Gold","name":"` + strings.Repeat("g", 201) + `","platform":"joomla"}`, "too_long", "name"},
		{"product name with LF", "/api/v1/products", `{"code":"gold","repo":"Gold","name":"Gold\nSubject: x","platform":"joomla"}`, "invalid_text", "name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := a.call(adminToken, http.MethodPost, c.path, c.body)
			a.refusedAndNothingRecorded(t, w, before, c.code, c.field)
		})
	}
	w := a.call(adminToken, http.MethodPost, "/api/v1/tiers", tier(func(m map[string]any) { m["currency"] = "chf" }))
	assert.Equal(t, http.StatusCreated, w.Code, w.Body.String())
}

// upload is one multipart release upload.
type upload struct {
	version, channel, filename string
	content                    []byte
	fields                     map[string]string
}

func (a *apiTest) publish(u upload) *httptest.ResponseRecorder {
	a.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fields := map[string]string{"version": u.version, "channel": u.channel, "notes": "Fixes."}
	for k, v := range u.fields {
		fields[k] = v
	}
	for k, v := range fields {
		require.NoError(a.t, mw.WriteField(k, v))
	}
	h := textproto.MIMEHeader{}
	// Written by hand (as a quoted string): CreateFormFile would replace
	// characters, and these tests send the names attackers send.
	quoted := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(u.filename)
	h.Set("Content-Disposition", `form-data; name="file"; filename="`+quoted+`"`)
	h.Set("Content-Type", "application/zip")
	f, err := mw.CreatePart(h)
	require.NoError(a.t, err)
	_, _ = f.Write(u.content)
	require.NoError(a.t, mw.Close())
	req := httptest.NewRequest(http.MethodPost, "/api/v1/products/pos/releases", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+adminToken)
	w := httptest.NewRecorder()
	a.router.ServeHTTP(w, req)
	return w
}

// Issue 9, item 2: two uploads of the same version at once answered 201 and
// 409, and the loser deleted the winner's artifact.
func TestConcurrentUploadsOfOneVersionKeepTheWinnersArtifact(t *testing.T) {
	a := newAPITest(t)
	for i := range 12 {
		version := fmt.Sprintf("3.%d.0", i)
		contents := [][]byte{bytes.Repeat([]byte("first build "), 200000), bytes.Repeat([]byte("second build "), 200000)}
		answers := make([]*httptest.ResponseRecorder, 2)
		var wg sync.WaitGroup
		for j := range answers {
			wg.Go(func() {
				answers[j] = a.publish(upload{version: version, channel: "stable", filename: "pkg_pos.zip", content: contents[j]})
			})
		}
		wg.Wait()
		var won []int
		for j, w := range answers {
			switch w.Code {
			case http.StatusCreated:
				won = append(won, j)
			case http.StatusConflict:
				assert.Equal(t, "release_exists", errorOf(t, w).Code)
			default:
				t.Fatalf("version %s: upload %d answered %d %s", version, j, w.Code, w.Body.String())
			}
		}
		require.Len(t, won, 1, "version %s: exactly one upload wins", version)
		var created api.ReleaseView
		require.NoError(t, json.Unmarshal(answers[won[0]].Body.Bytes(), &created))
		want := sha256.Sum256(contents[won[0]])
		assert.Equal(t, hex.EncodeToString(want[:]), created.SHA256)

		stored, err := a.store.GetRelease(context.Background(), "pos", version)
		require.NoError(t, err)
		onDisk, err := os.ReadFile(stored.Path)
		require.NoError(t, err, "version %s: the winner's artifact is on disk", version)
		got := sha256.Sum256(onDisk)
		assert.Equal(t, created.SHA256, hex.EncodeToString(got[:]), "version %s: the file is the winner's", version)
	}
}

// Issue 9, item 3: the filename ".." renamed the upload onto the product
// directory (500). Names that cannot be a file are a 422; others are made
// safe.
func TestUploadFilenamesAreCheckedAndStoredSafely(t *testing.T) {
	a := newAPITest(t)
	before := testsupport.RowCounts(t, a.store)
	for i, name := range []string{"..", ".", "/", `\`, "a/..", `..\..`, "pkg\x00.zip", strings.Repeat("x", 252) + ".zip", "...."} {
		t.Run(fmt.Sprintf("%q", name), func(t *testing.T) {
			w := a.publish(upload{version: fmt.Sprintf("4.%d.0", i), channel: "stable", filename: name, content: []byte("zip")})
			e := errorOf(t, w)
			if strings.ContainsRune(name, 0) {
				// A NUL in a part header makes the whole form unreadable.
				assert.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
				assert.Equal(t, "invalid_form", e.Code, e.Message)
			} else {
				require.Equal(t, http.StatusUnprocessableEntity, w.Code, w.Body.String())
				assert.Equal(t, "invalid_filename", e.Code, e.Message)
				assert.Equal(t, "file", e.Field)
			}
			assert.Equal(t, before, testsupport.RowCounts(t, a.store))
		})
	}
	for i, c := range []struct{ sent, stored string }{
		{"pkg_pos-1.0.zip", "pkg_pos-1.0.zip"},
		{`C:\Users\me\pkg pos.zip`, "pkg_pos.zip"},
		{"../../etc/passwd", "passwd"},
		{".hidden.zip", "hidden.zip"},
		{"ünïcode.zip", "_n_code.zip"},
	} {
		w := a.publish(upload{version: fmt.Sprintf("5.%d.0", i), channel: "stable", filename: c.sent, content: []byte("zip")})
		require.Equal(t, http.StatusCreated, w.Code, "%q: %s", c.sent, w.Body.String())
		var v api.ReleaseView
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v))
		assert.Equal(t, c.stored, v.Filename, c.sent)
		stored, err := a.store.GetRelease(context.Background(), "pos", v.Version)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(stored.Path, a.releasesDir+string(os.PathSeparator)), "%s stays under the releases directory", stored.Path)
		_, err = os.Stat(stored.Path)
		assert.NoError(t, err)
	}
}

func TestReleaseFieldsAreChecked(t *testing.T) {
	a := newAPITest(t)
	before := testsupport.RowCounts(t, a.store)
	cases := []struct {
		name   string
		fields map[string]string
		field  string
	}{
		{"notes with NUL", map[string]string{"notes": "ok\x00"}, "notes"},
		{"notes not UTF-8", map[string]string{"notes": "M\xfcller"}, "notes"},
		{"huge notes", map[string]string{"notes": strings.Repeat("n", models.MaxNotesLength+1)}, "notes"},
		{"long element", map[string]string{"element": strings.Repeat("e", 129)}, "element"},
		{"element with spaces", map[string]string{"element": "pkg pos"}, "element"},
		{"long type", map[string]string{"type": strings.Repeat("t", 33)}, "type"},
		{"long target platform", map[string]string{"target_platform": strings.Repeat("5", 65)}, "target_platform"},
		{"target platform with a quote", map[string]string{"target_platform": `5.*" evil="1`}, "target_platform"},
		{"php minimum not a version", map[string]string{"php_minimum": "eight"}, "php_minimum"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := a.publish(upload{version: fmt.Sprintf("6.%d.0", i), channel: "stable", filename: "pkg.zip", content: []byte("zip"), fields: c.fields})
			require.Equal(t, http.StatusUnprocessableEntity, w.Code, w.Body.String())
			assert.Equal(t, c.field, errorOf(t, w).Field)
			assert.Equal(t, before, testsupport.RowCounts(t, a.store))
			assert.Empty(t, a.flows.Announcements())
		})
	}
}

// Issue 9, item 5: the plaintext of a new API token was stored in
// idempotency_records (replayable for a day, never swept). The answer is
// not stored; a retry with the same key is told the secret was shown once
// and creates nothing.
func TestANewTokensSecretIsNeverStoredForReplay(t *testing.T) {
	a := newAPITest(t)
	post := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/tokens", strings.NewReader(`{"name":"crm","scopes":["orders:write"]}`))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Idempotency-Key", "token-1")
		w := httptest.NewRecorder()
		a.router.ServeHTTP(w, req)
		return w
	}
	first := post()
	require.Equal(t, http.StatusCreated, first.Code, first.Body.String())
	var created api.TokenCreated
	require.NoError(t, json.Unmarshal(first.Body.Bytes(), &created))
	require.True(t, strings.HasPrefix(created.Token, models.TokenPrefix))

	var records []models.IdempotencyRecord
	require.NoError(t, a.store.DB().Find(&records).Error)
	require.NotEmpty(t, records, "the key is remembered")
	for _, r := range records {
		assert.NotContains(t, r.ResponseBody, created.Token, "the secret is not at rest")
		assert.NotContains(t, r.ResponseBody, models.TokenPrefix)
	}
	tokens, err := a.store.ListTokens(context.Background())
	require.NoError(t, err)

	retry := post()
	assert.Equal(t, http.StatusConflict, retry.Code, retry.Body.String())
	e := errorOf(t, retry)
	assert.Equal(t, "secret_shown_once", e.Code)
	assert.Contains(t, e.Message, fmt.Sprint(created.Detail.ID), "the message names the token that was created")
	assert.NotContains(t, retry.Body.String(), created.Token)
	after, err := a.store.ListTokens(context.Background())
	require.NoError(t, err)
	assert.Len(t, after, len(tokens), "the retry creates no second token")
}

// Idempotency keys are remembered for a day; older ones are swept, not
// just the one being reused.
func TestIdempotencyRecordsOlderThanADayAreSwept(t *testing.T) {
	a := newAPITest(t)
	ctx := context.Background()
	t0 := time.Now().Add(-48 * time.Hour)
	for i := range 3 {
		_, claimed, err := a.store.ClaimIdempotencyKey(ctx, fmt.Sprintf("old-%d", i), "hash", t0)
		require.NoError(t, err)
		require.True(t, claimed)
		require.NoError(t, a.store.CompleteIdempotencyKey(ctx, fmt.Sprintf("old-%d", i), 201, `{}`))
	}
	_, _, err := a.store.ClaimIdempotencyKey(ctx, "recent", "hash", time.Now().Add(-time.Hour))
	require.NoError(t, err)

	// Any later write sweeps what is older than 24 hours.
	w := a.call(adminToken, http.MethodPost, "/api/v1/orders", `{"id":"crm-sweep","customer_email":"ada@example.com","tier":"pos"}`)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	_, claimed, err := a.store.ClaimIdempotencyKey(ctx, "new", "hash", time.Now())
	require.NoError(t, err)
	require.True(t, claimed)

	var keys []string
	require.NoError(t, a.store.DB().Model(&models.IdempotencyRecord{}).Order("key").Pluck("key", &keys).Error)
	assert.Equal(t, []string{"new", "recent"}, keys)
}
