package models

import (
	"strings"
	"testing"
)

// FuzzPlainDomainNamesNeedNoParsing: whatever NormalizeDomain answers
// without parsing is what parsing would have answered.
func FuzzPlainDomainNamesNeedNoParsing(f *testing.F) {
	for _, seed := range []string{"example.com", "shop.example.com", "localhost", "1.2.3.4", "192.168.001.001", "www.example.com",
		"www.com", "xn--mller-kva.de", "ab--cd.com", "a-b.c-d.com", "123.com", strings.Repeat("a", 63) + ".com", "-a.com", "a.com."} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if !plainDomainName(raw) {
			return
		}
		if parsed, err := normalizeDomain(raw); err != nil || parsed != raw {
			t.Fatalf("%q is taken as normalized, but parsing gives %q (%v)", raw, parsed, err)
		}
	})
}
