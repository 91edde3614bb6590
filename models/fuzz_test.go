package models_test

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/licenseflow/licenseflow/models"
)

// FuzzNormalizeDomain: any input either normalizes to a valid domain (an
// IP address or a DNS name of labels of 1-63, 253 at most) that normalizes
// to itself, or is refused with a Problem on the domain field.
func FuzzNormalizeDomain(f *testing.F) {
	for _, seed := range []string{
		"example.com", "https://www.Müller.de/", "www.www.example.com", "www.com", "..", "...", ".", "a..b",
		"[::1]", "::ffff:1.2.3.4", "http://[2001:db8::1]:8080/x", "user:pw@example.com:8443", "ＷＷＷ.example.com",
		"１.２.３.４", "example。com", strings.Repeat("a", 64) + ".com", "xn--mller-kva.de", "xn--", "-a.com",
		"http://%41.com", "exa mple.com", "http://", "localhost.", "a_b.com", "http://a@b@c",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := models.NormalizeDomain(raw)
		if err != nil {
			p, ok := models.AsProblem(err)
			if !ok || p.Field != "domain" || (p.Code != "invalid_domain" && p.Code != "missing_domain") {
				t.Fatalf("%q: refused without a domain Problem: %v", raw, err)
			}
			return
		}
		if !models.ValidDomain(got) {
			t.Fatalf("%q normalized to %q, which is not a valid domain", raw, got)
		}
		again, err := models.NormalizeDomain(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q (%v)", raw, got, again, err)
		}
	})
}

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

// FuzzParseDLID: a key is either refused or canonical (32 lower-case hex
// characters, parsed again to itself); masking never panics and never
// shows more than eight of its characters.
func FuzzParseDLID(f *testing.F) {
	for _, seed := range []string{"7f21b9ff979fce861bb482a1bc3e753f", " 7F21B9FF979FCE861BB482A1BC3E753F\n", "", "nonsense",
		strings.Repeat("g", 32), strings.Repeat("İ", 16), "7f21b9ff979fce861bb482a1bc3e753f0"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		dlid, ok := models.ParseDLID(raw)
		masked := models.MaskDLID(raw)
		if utf8.RuneCountInString(masked) > 9 {
			t.Fatalf("mask of %q shows too much: %q", raw, masked)
		}
		if !ok {
			if dlid != "" {
				t.Fatalf("refused %q but answered %q", raw, dlid)
			}
			return
		}
		if !hex32.MatchString(dlid) || !models.ValidDLID(dlid) {
			t.Fatalf("%q parsed to %q", raw, dlid)
		}
		if again, ok := models.ParseDLID(dlid); !ok || again != dlid {
			t.Fatalf("not canonical: %q -> %q", dlid, again)
		}
		if !strings.EqualFold(strings.TrimSpace(raw), dlid) {
			t.Fatalf("%q parsed to another key %q", raw, dlid)
		}
	})
}

var safeName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*$`)

// FuzzReleaseVersionAndFilename: versions order consistently (antisymmetric,
// reflexive) and never panic; an upload's file name is refused or made
// safe: no path, no leading dot, only safe characters, at most 255 bytes,
// and stable when derived again.
func FuzzReleaseVersionAndFilename(f *testing.F) {
	for _, seed := range []struct{ a, b, name string }{
		{"1.0.0", "1.0.0-beta.1", "pkg_pos-1.0.0.zip"},
		{"2.1.0-beta.1+build.5", "2.1.0-beta.11", ".."},
		{"0.0.0", "v1", `C:\Users\me\pkg pos.zip`},
		{"1.0.0-alpha", "1.0.0-alpha.1", "../../etc/passwd"},
		{"99999999999999999999.0.0", "1.0.0", "pkg\x00.zip"},
		{"1.0.0-0", "1.0.0-a", ".hidden"},
		{"", "1", "ünïcode.zip"},
		{"1.0.0-rc.1", "1.0.0-rc.01", strings.Repeat("x", 300)},
	} {
		f.Add(seed.a, seed.b, seed.name)
	}
	f.Fuzz(func(t *testing.T, a, b, name string) {
		if models.CompareVersions(a, a) != 0 {
			t.Fatalf("%q is not equal to itself", a)
		}
		if ab, ba := models.CompareVersions(a, b), models.CompareVersions(b, a); ab != -ba {
			t.Fatalf("compare(%q, %q) = %d but compare(%q, %q) = %d", a, b, ab, b, a, ba)
		}
		_ = models.ValidVersion(a)
		r := models.Release{Version: a, Channel: "stable", Element: "pkg", ExtensionType: "package", TargetPlatform: "5.*", Notes: b}
		_ = r.Validate()

		stored, err := models.SafeFilename(name)
		if err != nil {
			if p, ok := models.AsProblem(err); !ok || p.Code != "invalid_filename" || p.Field != "file" {
				t.Fatalf("%q refused without an invalid_filename Problem: %v", name, err)
			}
			return
		}
		if !safeName.MatchString(stored) || stored == "." || stored == ".." || len(stored) > models.MaxFilenameLength {
			t.Fatalf("%q stored as the unsafe name %q", name, stored)
		}
		if again, err := models.SafeFilename(stored); err != nil || again != stored {
			t.Fatalf("not stable: %q -> %q -> %q (%v)", name, stored, again, err)
		}
	})
}
