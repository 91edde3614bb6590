package siteapi_test

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/siteapi"
)

// FuzzJoomlaFeed: whatever a product's name or a release's notes, version,
// element, platform or file name hold (control characters, "]]>", quotes,
// invalid UTF-8), the rendered feed parses as XML and carries every
// release.
func FuzzJoomlaFeed(f *testing.F) {
	f.Add("MokoSuite POS", "2.1.0", "Faster checkout.", "pkg_mokosuitepos", "5.*", "pkg.zip", "7f21b9ff979fce861bb482a1bc3e753f")
	f.Add("A & B <c>", "1.0.0-beta.1", "]]> <![CDATA[ x ]]>", `el"em`, `5.*" x="y`, "a.tar.gz", "")
	f.Add("\x00\x01\x1b", "\xff\xfe", "line\r\nline\x0bvt\ufffe\U0010ffff", "\u2028", "\t", "\x00.zip", "dlid with spaces & amp")
	f.Add("", "", "", "", "", "", "")
	f.Add("<?xml version=\"1.0\"?>", "1.0.0", "</updates><update>", "&amp;", "&#0;", "&#xD800;", "%00")
	f.Fuzz(func(t *testing.T, name, version, notes, element, platform, filename, dlid string) {
		product := models.Product{Code: "pos", Name: name, Repo: "MokoSuitePOS"}
		releases := []models.Release{
			{ProductCode: "pos", Version: version, Channel: "stable", Notes: notes, Element: element, ExtensionType: "package",
				TargetPlatform: platform, PHPMinimum: notes, Filename: filename, SHA256: strings.Repeat("a", 64), PublishedAt: time.Unix(0, 0)},
			{ProductCode: "pos", Version: "1.0.0", Channel: name, Element: "pkg", ExtensionType: "package", TargetPlatform: "5.*"},
		}
		out, err := siteapi.JoomlaDocument("https://licenses.example.com", dlid, product, releases).Render()
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		var doc siteapi.JoomlaUpdates
		if err := xml.Unmarshal(out, &doc); err != nil {
			t.Fatalf("the feed does not parse as XML: %v\n%s", err, out)
		}
		if len(doc.Updates) != len(releases) {
			t.Fatalf("%d updates in the feed, want %d", len(doc.Updates), len(releases))
		}
	})
}
