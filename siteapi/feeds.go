package siteapi

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
)

// JoomlaUpdates is Joomla's update-server document.
type JoomlaUpdates struct {
	XMLName xml.Name       `xml:"updates"`
	Updates []JoomlaUpdate `xml:"update"`
}

// JoomlaUpdate is one version in a Joomla update feed.
type JoomlaUpdate struct {
	Name           string          `xml:"name"`
	Description    string          `xml:"description"`
	Element        string          `xml:"element"`
	Type           string          `xml:"type"`
	Version        string          `xml:"version"`
	InfoURL        JoomlaInfoURL   `xml:"infourl"`
	Downloads      JoomlaDownloads `xml:"downloads"`
	SHA256         string          `xml:"sha256"`
	Tags           JoomlaTags      `xml:"tags"`
	TargetPlatform JoomlaPlatform  `xml:"targetplatform"`
	PHPMinimum     string          `xml:"php_minimum,omitempty"`
}

// JoomlaInfoURL links to release information.
type JoomlaInfoURL struct {
	Title string `xml:"title,attr"`
	URL   string `xml:",chardata"`
}

// JoomlaDownloads lists download URLs.
type JoomlaDownloads struct {
	URLs []JoomlaDownloadURL `xml:"downloadurl"`
}

// JoomlaDownloadURL is a package URL.
type JoomlaDownloadURL struct {
	Type   string `xml:"type,attr"`
	Format string `xml:"format,attr"`
	URL    string `xml:",chardata"`
}

// JoomlaTags are the release's stability tags.
type JoomlaTags struct {
	Tags []string `xml:"tag"`
}

// JoomlaPlatform says which Joomla versions the release installs on.
type JoomlaPlatform struct {
	Name    string `xml:"name,attr"`
	Version string `xml:"version,attr"`
}

// feedAccess works out which releases of a product the request's dlid may
// see. It answers ok=false after an outage (503, never an empty feed for a
// good key); an unknown or unentitled key simply sees nothing.
func (s *server) feedAccess(c *gin.Context, product models.Product, kind models.UsageKind) (channels []string, ok bool) {
	_, channels, ok = s.access(c, c.Query("dlid"), c.Query("domain"), product, kind)
	return channels, ok
}

// access decides what a key may do with a product: the channels whose
// releases it may install, and why (Code NOT_FOUND for a missing or
// unknown key). A hit by a known key is a usage event of the given kind.
// ok=false means the request was answered (an outage, a rate limit).
// domain is the site asking, when it says (Joomla's extra query
// "dlid=…&domain=…"): a named domain that is not active on the license
// gets what an unlicensed key gets, so one key cannot update every site.
func (s *server) access(c *gin.Context, dlid, domain string, product models.Product, kind models.UsageKind) (d models.Decision, channels []string, ok bool) {
	dlid = strings.ToLower(strings.TrimSpace(dlid))
	var sl *models.SiteLicense
	if dlid != "" {
		if s.unknownKeysLimited(c) {
			return d, nil, false
		}
		var err error
		if sl, err = s.lookupKey(c, dlid); err != nil {
			httpx.Fail(c, err)
			return d, nil, false
		}
		if sl == nil && s.tooManyUnknownKeys(c) {
			return d, nil, false
		}
	}
	req := SiteRequest{Product: product.Repo}
	if domain != "" {
		normalized, err := models.NormalizeDomain(domain)
		if err != nil {
			normalized = "invalid.invalid" // names no active domain: served as an unlicensed site
		}
		req.Domain = normalized
	}
	d = s.decide(sl, req)
	if sl != nil {
		s.Usage.Record(models.UsageEvent{LicenseID: sl.License.ID, Kind: kind, Domain: req.Domain, IP: c.ClientIP(), Result: d.Code, At: s.Now()})
	}
	switch {
	case d.Valid:
		return d, sl.License.Channels, true
	case !product.RequiresKey:
		return d, []string{"stable"}, true
	}
	return d, nil, true
}

// tooManyUnknownKeys charges an unknown key to the client address's limit,
// answering 429 when the limit is reached.
func (s *server) tooManyUnknownKeys(c *gin.Context) bool {
	if s.unknownKeys.Allow(c.ClientIP()) {
		return false
	}
	s.failUnknownKeys(c)
	return true
}

// unknownKeysLimited answers 429 when the client address has spent its
// unknown-key limit. It runs before any key is looked up: were a known key
// still answered while unknown ones get 429, a guesser would learn which
// guess was right at full speed.
func (s *server) unknownKeysLimited(c *gin.Context) bool {
	if !s.unknownKeys.Limited(c.ClientIP()) {
		return false
	}
	s.failUnknownKeys(c)
	return true
}

func (s *server) failUnknownKeys(c *gin.Context) {
	c.Header("Retry-After", "60")
	httpx.Fail(c, httpx.NewError(http.StatusTooManyRequests, "too_many_unknown_keys", "", "too many unknown license keys from this address; retry in a minute"))
}

// productOf reads the product from the path; ok=false if answered.
func (s *server) productOf(c *gin.Context, code string) (models.Product, bool) {
	p, err := s.Store.GetProduct(c.Request.Context(), code)
	if err != nil {
		httpx.Fail(c, err)
		return p, false
	}
	return p, true
}

// entitledReleases lists the releases of a product the request's key may
// install, newest first (a feed hit, for usage).
func (s *server) entitledReleases(c *gin.Context, product models.Product) ([]models.Release, bool) {
	channels, ok := s.feedAccess(c, product, models.UsageFeed)
	if !ok || len(channels) == 0 {
		return nil, ok
	}
	return s.releasesOn(c, product, channels)
}

// releasesOn lists a product's releases on the given channels, newest first.
func (s *server) releasesOn(c *gin.Context, product models.Product, channels []string) ([]models.Release, bool) {
	if len(channels) == 0 {
		return nil, true
	}
	all, err := s.Store.ListReleases(c.Request.Context(), product.Code)
	if err != nil {
		httpx.Fail(c, err)
		return nil, false
	}
	return models.OnChannels(all, channels), true
}

// updatesFeed routes /updates/{product}.xml (Joomla) and
// /updates/{product}/latest (Dolibarr).
func (s *server) joomlaFeed(c *gin.Context) {
	code, isXML := strings.CutSuffix(c.Param("product"), ".xml")
	if !isXML {
		httpx.Fail(c, httpx.NewError(http.StatusNotFound, "route_not_found", "", "feeds are at /updates/{product}.xml (Joomla) and /updates/{product}/latest (Dolibarr)"))
		return
	}
	product, err := s.Store.GetProduct(c.Request.Context(), code)
	if errors.Is(err, models.ErrNotFound) {
		s.writeJoomla(c, JoomlaUpdates{}) // Joomla expects a document, even for an unknown product
		return
	}
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	releases, ok := s.entitledReleases(c, product)
	if !ok {
		return
	}
	s.writeJoomla(c, JoomlaDocument(s.PublicURL, c.Query("dlid"), product, releases))
}

// JoomlaDocument is the update feed of a product's releases for the key
// dlid (carried into the download links; "" for none).
func JoomlaDocument(publicURL, dlid string, product models.Product, releases []models.Release) JoomlaUpdates {
	doc := JoomlaUpdates{Updates: []JoomlaUpdate{}}
	dlid = strings.ToLower(strings.TrimSpace(dlid))
	for _, r := range releases {
		download := fmt.Sprintf("%s/downloads/%s/%s", publicURL, url.PathEscape(product.Code), url.PathEscape(r.Version))
		if dlid != "" {
			download += "?dlid=" + url.QueryEscape(dlid)
		}
		doc.Updates = append(doc.Updates, JoomlaUpdate{
			Name: product.Name, Description: fmt.Sprintf("%s %s", product.Name, r.Version), Element: r.Element,
			Type: r.ExtensionType, Version: r.Version,
			InfoURL:   JoomlaInfoURL{Title: product.Name, URL: ReleasePageURL(publicURL, product, r)},
			Downloads: JoomlaDownloads{URLs: []JoomlaDownloadURL{{Type: "full", Format: formatOf(r.Filename), URL: download}}},
			SHA256:    r.SHA256, Tags: JoomlaTags{Tags: []string{r.Channel}},
			TargetPlatform: JoomlaPlatform{Name: "joomla", Version: r.TargetPlatform}, PHPMinimum: r.PHPMinimum,
		})
	}
	return doc
}

// ReleasePageURL is the public page about a release (its notes), which
// the feed links as the release's information: no key or token needed.
func ReleasePageURL(publicURL string, p models.Product, r models.Release) string {
	return fmt.Sprintf("%s/releases/%s/%s", publicURL, url.PathEscape(p.Code), url.PathEscape(r.Version))
}

// Render writes the document as Joomla reads it: an XML declaration and
// the indented <updates> element. Text that XML cannot carry (control
// characters in release notes or names) is replaced, so the output always
// parses.
func (d JoomlaUpdates) Render() ([]byte, error) {
	body, err := xml.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), body...), nil
}

func (s *server) writeJoomla(c *gin.Context, doc JoomlaUpdates) {
	body, err := doc.Render()
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Data(http.StatusOK, "application/xml; charset=utf-8", body)
}

func formatOf(filename string) string {
	for _, f := range []string{"tar.gz", "tar.bz2", "zip"} {
		if strings.HasSuffix(strings.ToLower(filename), "."+f) {
			return f
		}
	}
	return "zip"
}

// latestVersion answers Dolibarr's check: the newest version the key may
// install, as plain text; nothing (HTTP 200, empty body) when none.
func (s *server) latestVersion(c *gin.Context) {
	product, ok := s.productOf(c, c.Param("product"))
	if !ok {
		return
	}
	releases, ok := s.entitledReleases(c, product)
	if !ok {
		return
	}
	latest := ""
	if len(releases) > 0 {
		latest = releases[0].Version
	}
	c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte(latest))
}

// download streams an artifact to a key entitled to it (any caller for a
// product that requires no key), with its SHA-256 in the headers.
func (s *server) download(c *gin.Context) {
	product, ok := s.productOf(c, c.Param("product"))
	if !ok {
		return
	}
	r, err := s.Store.GetRelease(c.Request.Context(), product.Code, c.Param("version"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	d, channels, ok := s.access(c, c.Query("dlid"), c.Query("domain"), product, models.UsageDownload)
	if !ok {
		return
	}
	if !models.GrantsChannel(channels, r.Channel) {
		httpx.Fail(c, downloadRefused(c, product, r, d))
		return
	}
	f, err := os.Open(r.Path)
	if err != nil {
		httpx.Fail(c, fmt.Errorf("open artifact of %s %s: %w", product.Code, r.Version, err))
		return
	}
	defer f.Close()
	sum, _ := hex.DecodeString(r.SHA256)
	c.Header("X-Checksum-SHA256", r.SHA256)
	c.Header("Digest", "sha-256="+base64.StdEncoding.EncodeToString(sum))
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename=%q`, r.Filename))
	http.ServeContent(c.Writer, c.Request, r.Filename, r.PublishedAt, f)
}

// downloadRefused says why a download is refused and what to fix.
func downloadRefused(c *gin.Context, product models.Product, r models.Release, d models.Decision) error {
	switch {
	case c.Query("dlid") == "":
		return httpx.NewError(http.StatusForbidden, "not_entitled", "dlid",
			fmt.Sprintf("%s downloads need a license key: add ?dlid=<your key> (Joomla: the update site's Download Key field)", product.Name))
	case d.Code == models.CodeDomainRequired:
		return httpx.NewError(http.StatusForbidden, "domain_required", "domain",
			fmt.Sprintf("%s downloads name the site they are for: add &domain=<the site's domain>, activated on the license (the licenseflow PHP client's update helpers add it)", product.Name))
	case d.Code == models.CodeDomainNotActivated || d.Code == models.CodeTooManyDomains:
		return httpx.NewError(http.StatusForbidden, strings.ToLower(d.Code), "domain",
			fmt.Sprintf("%s is not activated on this license: activate the site first (%s)", c.Query("domain"), d.Detail))
	}
	return httpx.NewError(http.StatusForbidden, "not_entitled", "dlid",
		fmt.Sprintf("this license key is not entitled to %s %s (%s channel); check the key in the extension's settings or renew the license", product.Name, r.Version, r.Channel))
}
