package siteapi

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"golang.org/x/text/unicode/norm"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
)

// The EDD-compatible API lets WordPress plugins and themes that ship Easy
// Digital Downloads' updater (EDD_SL_Plugin_Updater, EDD_Theme_Updater)
// update from licenseflow unchanged: the vendor points the updater's store
// URL at <licenseflow>/edd-sl. Requests are GET or form POSTs with
// edd_action, license, item_id or item_name (a product's code, repo or
// name), url, version, slug and beta; answers are EDD's JSON shapes,
// signed like every site answer.

// EDDPath is where the EDD-compatible API answers (with and without the
// trailing slash the updater adds).
const EDDPath = "/edd-sl"

// EDDVersion answers get_version: what EDD_SL_Plugin_Updater puts into
// WordPress' update transient and its "View details" dialog. Sections,
// banners and icons are PHP-serialized arrays, as EDD sends them and every
// version of the updater reads them (maybe_unserialize).
type EDDVersion struct {
	NewVersion    string `json:"new_version"`
	StableVersion string `json:"stable_version"`
	Name          string `json:"name"`
	Slug          string `json:"slug"`
	URL           string `json:"url"`
	LastUpdated   string `json:"last_updated"`
	Homepage      string `json:"homepage"`
	// Package and DownloadLink download the new version with the key; empty
	// when the key may not (WordPress then offers no automatic update).
	Package      string `json:"package"`
	DownloadLink string `json:"download_link"`
	Sections     string `json:"sections"`
	Banners      string `json:"banners"`
	Icons        string `json:"icons"`
	Tested       string `json:"tested,omitempty"`
	Requires     string `json:"requires,omitempty"`
	RequiresPHP  string `json:"requires_php,omitempty"`
	// Msg says why there is no package.
	Msg string `json:"msg,omitempty"`
}

// EDDLicense answers activate_license, check_license and
// deactivate_license.
type EDDLicense struct {
	Success bool `json:"success"`
	// License is valid, invalid, inactive, site_inactive, disabled, expired,
	// item_name_mismatch, invalid_item_id, deactivated or failed.
	License string `json:"license"`
	// ItemID echoes the request's item_id (false when none was sent).
	ItemID   any    `json:"item_id"`
	ItemName string `json:"item_name"`
	// Error says why an activation failed: missing, missing_url, disabled,
	// no_activations_left, expired, item_name_mismatch or invalid_item_id.
	Error string `json:"error,omitempty"`
	// Expires is "2027-11-22 14:11:08" (UTC) or "lifetime".
	Expires         string `json:"expires,omitempty"`
	LicenseLimit    *int   `json:"license_limit,omitempty"`
	SiteCount       *int   `json:"site_count,omitempty"`
	ActivationsLeft *int   `json:"activations_left,omitempty"`
	// IsLocal (EDD's name) and Staging mark a staging or local copy of a
	// site, which takes no activation.
	IsLocal bool `json:"is_local,omitempty"`
	Staging bool `json:"staging,omitempty"`
}

// eddRequest is one product's part of an EDD request.
type eddRequest struct {
	license, itemID, itemName, url, slug string
	beta                                 bool
}

func eddRequestOf(get func(string) string) eddRequest {
	r := eddRequest{license: get("license"), itemID: get("item_id"), itemName: get("item_name"),
		url: get("url"), slug: get("slug")}
	if r.itemName == "" {
		r.itemName = get("name") // the updater's first versions
	}
	if r.itemID == "false" || r.itemID == "0" { // PHP's false, as the updater posts it
		r.itemID = ""
	}
	switch strings.ToLower(get("beta")) {
	case "1", "true", "on", "yes":
		r.beta = true
	}
	return r
}

// itemIDValue is item_id as EDD echoes it: the value sent, or false.
func (r eddRequest) itemIDValue() any {
	if r.itemID == "" {
		return false
	}
	return r.itemID
}

// productsField matches the batch form of get_version:
// products[<slug>][<field>]=value.
var productsField = regexp.MustCompile(`^products\[([^\]]+)\]\[([a-z_]+)\]$`)

// edd answers the EDD Software Licensing API.
func (s *server) edd(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, httpx.MaxBodyBytes)
	if err := c.Request.ParseForm(); err != nil {
		httpx.Fail(c, httpx.Invalid("malformed_form", "", "send the EDD request as a query string or a form (application/x-www-form-urlencoded)"))
		return
	}
	form := c.Request.Form
	switch action := form.Get("edd_action"); action {
	case "get_version", "check_update":
		if batch := eddBatch(form); batch != nil {
			if len(batch) > maxEDDBatch {
				httpx.Fail(c, httpx.Invalid("too_many_products", "products",
					fmt.Sprintf("ask about at most %d products in one request (this one names %d)", maxEDDBatch, len(batch))))
				return
			}
			out := map[string]EDDVersion{}
			for slug, fields := range batch {
				r := eddRequestOf(func(k string) string { return fields[k] })
				if r.slug == "" {
					r.slug = slug
				}
				v, ok := s.eddVersion(c, r)
				if !ok {
					return
				}
				out[slug] = v
			}
			s.signed(c, http.StatusOK, out)
			return
		}
		if v, ok := s.eddVersion(c, eddRequestOf(form.Get)); ok {
			s.signed(c, http.StatusOK, v)
		}
	case "activate_license", "check_license", "deactivate_license":
		if a, ok := s.eddLicense(c, action, eddRequestOf(form.Get)); ok {
			s.signed(c, http.StatusOK, a)
		}
	default:
		httpx.Fail(c, httpx.Invalid("unknown_edd_action", "edd_action",
			"edd_action must be get_version, check_update, activate_license, check_license or deactivate_license"))
	}
}

// maxEDDBatch bounds the products one get_version request asks about: a
// site has tens of plugins, and every one costs a key lookup, so a request
// naming thousands would hold the database for seconds.
const maxEDDBatch = 100

// eddBatch collects products[slug][field] values; nil when there are none.
func eddBatch(form url.Values) map[string]map[string]string {
	var out map[string]map[string]string
	for key, values := range form {
		m := productsField.FindStringSubmatch(key)
		if m == nil || len(values) == 0 {
			continue
		}
		if out == nil {
			out = map[string]map[string]string{}
		}
		if out[m[1]] == nil {
			out[m[1]] = map[string]string{}
		}
		out[m[1]][m[2]] = values[0]
	}
	return out
}

// eddProduct finds the product a request names: item_id is a product code
// (or repo), item_name a product's name, repo or code.
func (s *server) eddProduct(c *gin.Context, r eddRequest) (p models.Product, found, ok bool) {
	products, err := s.Store.ListProducts(c.Request.Context())
	if err != nil {
		httpx.Fail(c, err)
		return p, false, false
	}
	for _, p := range products {
		switch {
		case r.itemID != "" && (strings.EqualFold(r.itemID, p.Code) || strings.EqualFold(r.itemID, p.Repo)):
			return p, true, true
		case r.itemID == "" && r.itemName != "" && slices.Contains([]string{eddSlug(p.Name), eddSlug(p.Repo), eddSlug(p.Code)}, eddSlug(r.itemName)):
			return p, true, true
		}
	}
	return p, false, true
}

// eddSlug compares item names as EDD does (sanitize_title(urldecode(…))):
// EDD's sample plugin urlencodes item_name before wp_remote_post encodes it
// again, so "WP Forms Pro" arrives as "WP+Forms+Pro". Decoded, accents
// dropped, lower-cased, every run of other characters one hyphen.
func eddSlug(name string) string {
	if decoded, err := url.QueryUnescape(name); err == nil {
		name = decoded
	}
	var b strings.Builder
	dash := false
	for _, r := range norm.NFD.String(name) {
		switch {
		case unicode.Is(unicode.Mn, r): // the accent of a decomposed letter
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_'):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(unicode.ToLower(r))
			dash = false
		default:
			dash = true
		}
	}
	return b.String()
}

// eddVersion answers one product of get_version: the newest version the
// key may install (betas when asked and the license includes them), with
// a download link gated by the key; without a usable key, the newest
// stable version without a package, and msg says why.
func (s *server) eddVersion(c *gin.Context, r eddRequest) (EDDVersion, bool) {
	empty := EDDVersion{Slug: r.slug, Sections: phpArray(), Banners: phpArray(), Icons: phpArray()}
	product, found, ok := s.eddProduct(c, r)
	if !ok {
		return empty, false
	}
	if !found {
		empty.Msg = "no product matches item_id or item_name; use the product's code, repo or name"
		return empty, true
	}
	d, channels, ok := s.access(c, r.license, "", product, models.UsageFeed)
	if !ok {
		return empty, false
	}
	all, err := s.Store.ListReleases(c.Request.Context(), product.Code)
	if err != nil {
		httpx.Fail(c, err)
		return empty, false
	}
	stable := models.OnChannels(all, []string{"stable"})
	offered := stable
	if r.beta {
		offered = models.OnChannels(all, channels)
	}
	v := empty
	v.Name, v.Homepage, v.URL = product.Name, s.PublicURL+"/portal", s.PublicURL+"/portal"
	if v.Slug == "" {
		v.Slug = strings.ToLower(product.Repo)
	}
	if len(stable) > 0 {
		v.StableVersion = stable[0].Version
	}
	newest := models.Release{}
	switch {
	case len(offered) > 0:
		newest = offered[0]
	case len(stable) > 0:
		newest = stable[0]
	default:
		v.Msg = product.Name + " has no published release yet"
		return v, true
	}
	v.NewVersion, v.LastUpdated = newest.Version, newest.PublishedAt.UTC().Format(time.DateTime)
	v.Tested, v.Requires, v.RequiresPHP = newest.Tested, newest.Requires, newest.PHPMinimum
	v.Sections = phpArray("description", "<p>"+html.EscapeString(product.Name)+"</p>", "changelog", changelog(offered))
	if models.GrantsChannel(channels, newest.Channel) {
		v.Package = fmt.Sprintf("%s/downloads/%s/%s", s.PublicURL, url.PathEscape(product.Code), url.PathEscape(newest.Version))
		if key := strings.ToLower(strings.TrimSpace(r.license)); key != "" && d.Valid {
			v.Package += "?dlid=" + url.QueryEscape(key)
		}
		v.DownloadLink = v.Package
		return v, true
	}
	switch {
	case strings.TrimSpace(r.license) == "":
		v.Msg = "no license key was provided: enter your license key in the plugin's settings to receive updates"
	case d.Code == models.CodeNotFound:
		v.Msg = "the license key is not valid for " + product.Name
	default:
		v.Msg = d.Detail
	}
	return v, true
}

// changelog renders release notes newest first, as WordPress shows them.
func changelog(releases []models.Release) string {
	var b strings.Builder
	for i, r := range releases {
		if i == 20 {
			break
		}
		notes := html.EscapeString(strings.TrimSpace(r.Notes))
		if notes == "" {
			notes = "No notes."
		}
		fmt.Fprintf(&b, "<h4>%s</h4>\n<p>%s</p>\n", html.EscapeString(r.Version), strings.ReplaceAll(notes, "\n", "<br>\n"))
	}
	return b.String()
}

// eddLicense answers activate_license, check_license and deactivate_license
// with licenseflow's rules: staging copies take no activation, and a
// deactivated domain frees its slot.
func (s *server) eddLicense(c *gin.Context, action string, r eddRequest) (answer EDDLicense, ok bool) {
	out := EDDLicense{License: "invalid", ItemID: r.itemIDValue(), ItemName: r.itemName}
	failed := func(code string) (EDDLicense, bool) {
		out.Error = code
		if action == "deactivate_license" {
			out.License, out.Error = "failed", ""
		}
		return out, true
	}
	var sl *models.SiteLicense
	if key := strings.ToLower(strings.TrimSpace(r.license)); key != "" {
		if s.unknownKeysLimited(c) {
			return out, false
		}
		var err error
		if sl, err = s.lookupKey(c, key); err != nil {
			httpx.Fail(c, err)
			return out, false
		}
	}
	if sl == nil || sl.License.Status == models.StatusPending {
		if r.license != "" && sl == nil && s.tooManyUnknownKeys(c) {
			return out, false
		}
		sl = nil // nothing to tell about a key that is not (yet) a license
		return failed("missing")
	}
	product, found, looked := s.eddProduct(c, r)
	if !looked {
		return out, false
	}
	mismatch := "item_name_mismatch"
	if r.itemID != "" {
		mismatch = "invalid_item_id"
	}
	if !found {
		out.License = mismatch
		return failed(mismatch)
	}
	if out.ItemName == "" {
		out.ItemName = product.Name
	}
	req := SiteRequest{DLID: sl.License.Key(), Product: product.Repo}
	if strings.TrimSpace(r.url) != "" {
		domain, err := models.NormalizeDomain(r.url)
		if err != nil {
			httpx.Fail(c, err)
			return out, false
		}
		req.Domain = domain
	}
	out.Staging = s.isStaging(sl, req.Domain)
	out.IsLocal = out.Staging
	defer func() {
		if ok && sl != nil {
			eddLimits(&answer, sl)
		}
	}()

	switch action {
	case "check_license":
		d := s.decide(sl, req)
		s.Metrics.Validation(d.Code)
		s.Usage.Record(models.UsageEvent{LicenseID: sl.License.ID, Kind: models.UsageValidate, Domain: req.Domain, IP: c.ClientIP(), Result: d.Code, At: s.Now()})
		out.License = eddStatus(d, mismatch)
		out.Success = out.License != "invalid"
		return out, true
	case "activate_license":
		if req.Domain == "" {
			return failed("missing_url")
		}
		d, activated, err := s.activateDomain(c, sl, req)
		if err != nil {
			httpx.Fail(c, err)
			return out, false
		}
		s.Usage.Record(models.UsageEvent{LicenseID: sl.License.ID, Kind: models.UsageActivate, Domain: req.Domain, IP: c.ClientIP(), Result: d.Code, At: s.Now()})
		if !activated {
			return failed(eddActivationError(d, mismatch))
		}
		out.Success, out.License = true, "valid"
		return out, true
	default: // deactivate_license
		if req.Domain == "" {
			return failed("missing_url")
		}
		err := s.Store.Deactivate(c.Request.Context(), sl.License.ID, req.Domain, s.Now())
		if _, isProblem := models.AsProblem(err); err != nil && !isProblem {
			httpx.Fail(c, err)
			return out, false
		}
		s.Usage.Record(models.UsageEvent{LicenseID: sl.License.ID, Kind: models.UsageActivate, Domain: req.Domain, IP: c.ClientIP(), Result: "DEACTIVATED", At: s.Now()})
		if err != nil {
			return failed("")
		}
		sl.ActiveDomains, sl.StagingDomains = without(sl.ActiveDomains, req.Domain), without(sl.StagingDomains, req.Domain)
		out.Success, out.License = true, "deactivated"
		return out, true
	}
}

// eddLimits fills in the license's expiry and activation counts.
func eddLimits(out *EDDLicense, sl *models.SiteLicense) {
	l := sl.License
	out.Expires = "lifetime"
	if l.ExpiresAt != nil {
		out.Expires = l.ExpiresAt.UTC().Format(time.DateTime)
	}
	limit, used := l.MaxDomains, sl.SlotsInUse()
	left := max(limit-used, 0)
	out.LicenseLimit, out.SiteCount, out.ActivationsLeft = &limit, &used, &left
}

// eddStatus is check_license's status for a decision.
func eddStatus(d models.Decision, mismatch string) string {
	switch d.Code {
	case models.CodeNotFound:
		return "invalid"
	case models.CodeRevoked, models.CodeSuspended:
		return "disabled"
	case models.CodeNotEntitled:
		return mismatch
	case models.CodeDomainNotActivated, models.CodeTooManyDomains:
		return "site_inactive"
	}
	if !d.Valid {
		return "expired"
	}
	return "valid"
}

// eddActivationError is activate_license's error for a refusal.
func eddActivationError(d models.Decision, mismatch string) string {
	switch d.Code {
	case models.CodeTooManyDomains:
		return "no_activations_left"
	case models.CodeRevoked, models.CodeSuspended:
		return "disabled"
	case models.CodeNotEntitled:
		return mismatch
	case models.CodeExpired:
		return "expired"
	}
	return "missing"
}

// phpArray serializes string pairs (key, value, key, value, …) as a PHP
// associative array, the form in which EDD sends sections, banners and
// icons. PHP counts string lengths in bytes.
func phpArray(pairs ...string) string {
	var b strings.Builder
	b.WriteString("a:" + strconv.Itoa(len(pairs)/2) + ":{")
	for _, s := range pairs {
		b.WriteString("s:" + strconv.Itoa(len(s)) + ":\"" + s + "\";")
	}
	b.WriteString("}")
	return b.String()
}
