package siteapi

import "testing"

// EDD compares sanitize_title(urldecode(item_name)); its sample plugin
// urlencodes the name before WordPress encodes the form again.
func TestEDDItemNamesCompareAsSlugs(t *testing.T) {
	for _, c := range []struct{ sent, name string }{
		{"WP+Forms+Pro", "WP Forms Pro"},
		{"WP%20Forms%20Pro", "WP Forms Pro"},
		{"wp forms pro", "WP Forms Pro"},
		{"WP Forms – Pro!", "WP Forms Pro"},
		{"Café Plugin", "Cafe Plugin"},
		{"Moko+Forms+for+WordPress", "Moko Forms for WordPress"},
	} {
		if eddSlug(c.sent) != eddSlug(c.name) {
			t.Errorf("%q (%q) does not match %q (%q)", c.sent, eddSlug(c.sent), c.name, eddSlug(c.name))
		}
	}
	for _, c := range []struct{ sent, name string }{
		{"WP+Forms", "WP Forms Pro"},
		{"Another Plugin", "WP Forms Pro"},
	} {
		if eddSlug(c.sent) == eddSlug(c.name) {
			t.Errorf("%q matches %q", c.sent, c.name)
		}
	}
}
