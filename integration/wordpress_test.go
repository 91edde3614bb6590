package integration

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/licensetoken"
	"github.com/licenseflow/licenseflow/siteapi"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
)

// eddCall posts a form as EDD_SL_Plugin_Updater does (wp_remote_post to
// the store URL with a trailing slash) and checks the answer's signature.
func eddCall(t *testing.T, s *stack.Stack, params map[string]string) map[string]any {
	t.Helper()
	form := url.Values{}
	for k, v := range params {
		form.Set(k, v)
	}
	resp, err := http.PostForm(s.API.URL+siteapi.EDDPath+"/", form)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "the updater needs a 200: %s", body)
	assert.Contains(t, resp.Header.Get("Content-Type"), "application/json")
	require.NoError(t, licensetoken.VerifyAnswer(body, resp.Header.Get(licensetoken.SignatureHeader), publicKeys(t, s)))
	var out map[string]any
	require.NoError(t, json.Unmarshal(body, &out), string(body))
	return out
}

// assertEDDShape checks an answer has every field of an EDD fixture, with
// the same JSON type, as a plugin written against EDD reads them.
func assertEDDShape(t *testing.T, fixture string, got map[string]any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "edd", fixture))
	require.NoError(t, err)
	var want map[string]any
	require.NoError(t, json.Unmarshal(raw, &want))
	for key, example := range want {
		value, ok := got[key]
		if !assert.True(t, ok, "%s: missing %q in %v", fixture, key, got) {
			continue
		}
		if key == "item_id" { // false, or the id as sent
			continue
		}
		assert.IsType(t, example, value, "%s: %q", fixture, key)
	}
}

var phpString = regexp.MustCompile(`^s:(\d+):"`)

// phpUnserialize reads a PHP-serialized array of strings as PHP would,
// byte lengths included; it fails the test on anything else.
func phpUnserialize(t *testing.T, s string) map[string]string {
	t.Helper()
	m := regexp.MustCompile(`^a:(\d+):\{`).FindStringSubmatch(s)
	require.NotNil(t, m, "not a PHP array: %q", s)
	n, _ := strconv.Atoi(m[1])
	rest := s[len(m[0]):]
	next := func() string {
		sm := phpString.FindStringSubmatch(rest)
		require.NotNil(t, sm, "not a PHP string at %q", rest)
		length, _ := strconv.Atoi(sm[1])
		start := len(sm[0])
		require.GreaterOrEqual(t, len(rest), start+length+2, "string shorter than its byte length")
		value := rest[start : start+length]
		require.Equal(t, `";`, rest[start+length:start+length+2], "byte length %d does not end the string %q", length, rest)
		rest = rest[start+length+2:]
		return value
	}
	out := map[string]string{}
	for range n {
		k := next()
		out[k] = next()
	}
	require.Equal(t, "}", rest)
	return out
}

func TestWordPressPluginUpdatesThroughTheEDDUpdaterAPI(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	r := s.Call(http.MethodPost, "/api/v1/products", `{"code":"wpforms","repo":"MokoForms","name":"Moko Forms for WordPress","platform":"wordpress"}`)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	r = s.Call(http.MethodPost, "/api/v1/tiers", `{"key":"wp","name":"WordPress","products":["wpforms"],"max_domains":1,"term":"annual","price_cents":4900,"currency":"EUR","channels":["stable","beta"]}`)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	artifact := []byte("PK\x03\x04 moko-forms 1.2.0")
	r = publish(t, s, "wpforms", "1.2.0", "stable", artifact, "requires", "6.2", "tested", "6.7", "notes", "Faster forms.\nNew date field.")
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	r = publish(t, s, "wpforms", "1.3.0-beta.1", "beta", []byte("PK beta"), "requires", "6.3", "tested", "6.8")
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	key := issue(t, s, `{"user_email":"wp@example.com","tier":"wp","max_domains":1}`).DLID

	// What the updater sends (version 1.9+).
	updater := func(extra ...string) map[string]string {
		p := map[string]string{"edd_action": "get_version", "license": key, "item_name": "Moko Forms for WordPress",
			"item_id": "", "version": "1.1.0", "slug": "moko-forms", "author": "Moko", "url": "https://www.shop.example.com",
			"beta": "", "php_version": "8.3.1", "wp_version": "6.7.1"}
		for i := 0; i+1 < len(extra); i += 2 {
			p[extra[i]] = extra[i+1]
		}
		return p
	}

	t.Run("a licensed site gets the new version with a package gated by its key", func(t *testing.T) {
		v := eddCall(t, s, updater())
		assertEDDShape(t, "get_version.json", v)
		assert.Equal(t, "1.2.0", v["new_version"])
		assert.Equal(t, "1.2.0", v["stable_version"])
		assert.Equal(t, "moko-forms", v["slug"])
		assert.Equal(t, "Moko Forms for WordPress", v["name"])
		assert.Equal(t, "6.2", v["requires"])
		assert.Equal(t, "6.7", v["tested"])
		assert.Equal(t, "8.1", v["requires_php"])
		assert.Equal(t, "https://licenses.vendor.example/downloads/wpforms/1.2.0?dlid="+key, v["package"])
		assert.Equal(t, v["package"], v["download_link"])
		assert.NotContains(t, v, "msg")
		sections := phpUnserialize(t, v["sections"].(string))
		assert.Contains(t, sections["description"], "Moko Forms for WordPress")
		assert.Contains(t, sections["changelog"], "<h4>1.2.0</h4>")
		assert.Contains(t, sections["changelog"], "Faster forms.<br>\nNew date field.")
		assert.NotContains(t, sections["changelog"], "1.3.0-beta.1", "betas only for sites that ask")
		phpUnserialize(t, v["banners"].(string))
		phpUnserialize(t, v["icons"].(string))

		// WordPress downloads the package from the link.
		resp, err := http.Get(strings.Replace(v["package"].(string), "https://licenses.vendor.example", s.API.URL, 1))
		require.NoError(t, err)
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, artifact, got)
	})

	t.Run("beta testers get betas their license includes", func(t *testing.T) {
		v := eddCall(t, s, updater("beta", "1"))
		assert.Equal(t, "1.3.0-beta.1", v["new_version"])
		assert.Equal(t, "1.2.0", v["stable_version"])
		assert.Equal(t, "6.8", v["tested"])
		assert.Contains(t, v["package"], "/downloads/wpforms/1.3.0-beta.1?dlid=")
	})

	t.Run("without a usable key the site learns of the update but gets no package", func(t *testing.T) {
		for _, license := range []string{"", "0123456789abcdef0123456789abcdef"} {
			v := eddCall(t, s, updater("license", license))
			assertEDDShape(t, "get_version_unlicensed.json", v)
			assert.Equal(t, "1.2.0", v["new_version"])
			assert.Empty(t, v["package"])
			assert.Empty(t, v["download_link"])
			assert.NotEmpty(t, v["msg"])
		}
	})

	t.Run("several plugins in one request, keyed by slug", func(t *testing.T) {
		v := eddCall(t, s, map[string]string{"edd_action": "get_version",
			"products[moko-forms][license]": key, "products[moko-forms][item_id]": "wpforms", "products[moko-forms][version]": "1.0.0",
			"products[other][item_name]": "No such plugin"})
		forms := v["moko-forms"].(map[string]any)
		assert.Equal(t, "1.2.0", forms["new_version"])
		assert.Equal(t, "moko-forms", forms["slug"])
		other := v["other"].(map[string]any)
		assert.Empty(t, other["new_version"])
		assert.NotEmpty(t, other["msg"])
	})

	t.Run("activation follows the license's domain slots; staging copies take none", func(t *testing.T) {
		a := eddCall(t, s, updater("edd_action", "activate_license"))
		assertEDDShape(t, "activate_license.json", a)
		assert.Equal(t, true, a["success"])
		assert.Equal(t, "valid", a["license"])
		assert.EqualValues(t, 1, a["site_count"])
		assert.EqualValues(t, 0, a["activations_left"])

		a = eddCall(t, s, updater("edd_action", "activate_license", "url", "https://second-shop.com"))
		assertEDDShape(t, "activate_license_no_activations_left.json", a)
		assert.Equal(t, false, a["success"])
		assert.Equal(t, "no_activations_left", a["error"])

		a = eddCall(t, s, updater("edd_action", "activate_license", "url", "http://localhost:8080"))
		assert.Equal(t, true, a["success"], a)
		assert.Equal(t, true, a["is_local"])
		assert.EqualValues(t, 1, a["site_count"], "the staging copy takes no slot")

		c := eddCall(t, s, updater("edd_action", "check_license"))
		assertEDDShape(t, "check_license.json", c)
		assert.Equal(t, "valid", c["license"])
		c = eddCall(t, s, updater("edd_action", "check_license", "url", "https://second-shop.com"))
		assert.Equal(t, "site_inactive", c["license"])
		c = eddCall(t, s, updater("edd_action", "check_license", "item_name", "Another Plugin"))
		assert.Equal(t, "item_name_mismatch", c["license"])
		c = eddCall(t, s, updater("edd_action", "check_license", "license", "0123456789abcdef0123456789abcdef"))
		assert.Equal(t, false, c["success"])
		assert.Equal(t, "invalid", c["license"])

		d := eddCall(t, s, updater("edd_action", "deactivate_license"))
		assertEDDShape(t, "deactivate_license.json", d)
		assert.Equal(t, "deactivated", d["license"])
		c = eddCall(t, s, updater("edd_action", "check_license"))
		assert.Equal(t, "site_inactive", c["license"])
		d = eddCall(t, s, updater("edd_action", "deactivate_license"))
		assert.Equal(t, "failed", d["license"], "nothing left to deactivate")
	})

	t.Run("GET with a query string works as well", func(t *testing.T) {
		q := url.Values{"edd_action": {"get_version"}, "license": {key}, "item_id": {"wpforms"}}
		r := s.CallAs("", http.MethodGet, siteapi.EDDPath+"?"+q.Encode(), nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		var v siteapi.EDDVersion
		r.JSON(t, &v)
		assert.Equal(t, "1.2.0", v.NewVersion)
		assert.Equal(t, "mokoforms", v.Slug, "without a slug, the product's repo in lower case")
	})

	t.Run("an unknown action is a clear 4xx", func(t *testing.T) {
		r := s.CallAs("", http.MethodGet, siteapi.EDDPath+"?edd_action=hack", nil)
		assert.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		assert.Equal(t, "unknown_edd_action", r.Error(t).Code)
	})
}
