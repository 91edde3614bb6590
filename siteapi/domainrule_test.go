package siteapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/siteapi"
)

// A key used to update any number of sites: feeds, version checks and
// downloads took only the key. A product marked domain_required serves
// activated domains only; a request that names no domain, or a domain the
// license has not activated, gets nothing. (Without the setting a feed
// needs no domain: TestTheFeedsInfoURLIsAPublicReleasePage.)
func TestADomainRequiredProductServesActivatedDomainsOnly(t *testing.T) {
	s := newSiteTest(t)
	ctx := context.Background()
	l := s.issued(t, "domain-required-1", "pos")
	artifact := filepath.Join(t.TempDir(), "pkg.zip")
	require.NoError(t, os.WriteFile(artifact, []byte("zip"), 0o644))
	_, err := s.store.CreateRelease(ctx, models.Release{ProductCode: "pos", Version: "2.1.0", Channel: "stable",
		Element: "pkg_pos", ExtensionType: "package", TargetPlatform: "5.*", Filename: "pkg.zip", Path: artifact,
		Size: 3, SHA256: strings.Repeat("a", 64), PublishedAt: time.Now()})
	require.NoError(t, err)
	pos, err := s.store.GetProduct(ctx, "pos")
	require.NoError(t, err)
	pos.DomainRequired = true
	_, err = s.store.UpdateProduct(ctx, "pos", pos)
	require.NoError(t, err)

	post := func(path string, req siteapi.SiteRequest) siteapi.SiteAnswer {
		t.Helper()
		body, err := json.Marshal(req)
		require.NoError(t, err)
		resp, err := http.Post(s.srv.URL+"/api/v1/licenses/"+path, "application/json", bytes.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var a siteapi.SiteAnswer
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&a))
		return a
	}
	feed := func(query string) int {
		t.Helper()
		_, body := s.get(t, "/updates/pos.xml?dlid="+l.Key()+query)
		var doc siteapi.JoomlaUpdates
		require.NoError(t, xml.Unmarshal([]byte(body), &doc), body)
		return len(doc.Updates)
	}
	download := func(query string) (int, string) {
		t.Helper()
		resp, body := s.get(t, "/downloads/pos/2.1.0?dlid="+l.Key()+query)
		return resp.StatusCode, body
	}
	require.True(t, post("activate", siteapi.SiteRequest{DLID: l.Key(), Domain: "shop.example.com"}).Valid)

	for _, product := range []string{"pos", "MokoSuitePOS"} { // by code and by repo
		a := post("validate", siteapi.SiteRequest{DLID: l.Key(), Product: product, Nonce: "n"})
		assert.False(t, a.Valid, product)
		assert.Equal(t, models.CodeDomainRequired, a.Code, product)
	}
	assert.True(t, post("validate", siteapi.SiteRequest{DLID: l.Key(), Product: "pos", Domain: "shop.example.com", Nonce: "n"}).Valid)
	assert.True(t, post("validate", siteapi.SiteRequest{DLID: l.Key(), Nonce: "n"}).Valid, "a key asked about no product is still a key")

	assert.Zero(t, feed(""), "a feed that names no domain lists nothing")
	assert.Zero(t, feed("&domain=another-site.example.org"), "nor one for a domain not activated")
	assert.Equal(t, 1, feed("&domain=shop.example.com"))
	_, latest := s.get(t, "/updates/pos/latest?dlid="+l.Key())
	assert.Empty(t, latest)
	_, latest = s.get(t, "/updates/pos/latest?dlid="+l.Key()+"&domain=shop.example.com")
	assert.Equal(t, "2.1.0", latest)

	status, body := download("")
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, body, `"domain_required"`)
	status, body = download("&domain=another-site.example.org")
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, body, `"domain_not_activated"`)
	status, body = download("&domain=shop.example.com")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "zip", body)

}
