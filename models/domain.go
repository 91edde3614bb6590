package models

import (
	"net"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/idna"
)

// Limits on domain names (RFC 1035): 63 octets per label, 253 in all
// (without the trailing dot).
const (
	MaxDomainLabel  = 63
	MaxDomainLength = 253
)

// NormalizeDomain reduces what a site reports as its address to the domain
// activations are counted by: lower case, no scheme, user, port, path,
// query or trailing dot, no leading "www." labels, internationalized names
// in punycode (müller.de and xn--mller-kva.de are one domain). IP addresses
// are kept as they are (intranet and staging sites run on them);
// "localhost" is a domain like any other. Names that are not DNS names
// ("..", empty labels, labels over 63 or names over 253 characters) are
// refused. Normalizing a normalized domain gives it back unchanged.
func NormalizeDomain(raw string) (string, error) {
	if plainDomainName(raw) {
		return raw, nil // what sites send most: no URL to parse, nothing for IDNA to map
	}
	return normalizeDomain(raw)
}

// plainDomainName reports whether s is a DNS name normalizeDomain gives
// back unchanged: lower-case letters, digits, hyphens and dots, no
// punycode-like label (IDNA checks those), no IP address, no "www.".
func plainDomainName(s string) bool {
	return ValidDomainName(s) && !strings.Contains(s, "--") && !strings.HasPrefix(s, "www.") && net.ParseIP(s) == nil
}

func normalizeDomain(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", Invalid("missing_domain", "domain", "domain is required, e.g. example.com")
	}
	invalid := func() error {
		return Invalid("invalid_domain", "domain", "%s is not a domain or site URL such as https://www.example.com", quoted(raw))
	}
	if len(s) > 2048 {
		return "", invalid()
	}
	if ip := net.ParseIP(s); ip != nil { // a bare IPv6 address has colons a URL would misread
		return ip.String(), nil
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" {
		return "", invalid()
	}
	host := strings.ToLower(u.Hostname())
	if ip := net.ParseIP(host); ip != nil {
		return ip.String(), nil
	}
	host = strings.TrimSuffix(host, ".")
	ascii, err := idna.Lookup.ToASCII(host)
	if err != nil {
		return "", invalid()
	}
	if ip := net.ParseIP(ascii); ip != nil { // spelled with full-width digits: an address after all
		return ip.String(), nil
	}
	// "www." labels go, as long as a name with a dot remains: www.www.x.com
	// is x.com, but www.com stays www.com. (After the mapping to ASCII, so
	// a full-width ｗｗｗ goes too.)
	for {
		rest, ok := strings.CutPrefix(ascii, "www.")
		if !ok || !strings.Contains(rest, ".") {
			break
		}
		ascii = rest
	}
	if !ValidDomainName(ascii) {
		return "", invalid()
	}
	return ascii, nil
}

// ValidDomainName reports whether s is a normalized DNS name: 1 to 253
// characters of lower-case letters, digits and hyphens in dot-separated
// labels of 1 to 63, none starting or ending with a hyphen.
func ValidDomainName(s string) bool {
	if s == "" || len(s) > MaxDomainLength {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > MaxDomainLabel || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// ValidDomain reports whether s is what NormalizeDomain answers: an IP
// address in its canonical form or a normalized DNS name.
func ValidDomain(s string) bool {
	if ip := net.ParseIP(s); ip != nil {
		return ip.String() == s
	}
	return ValidDomainName(s)
}

// NormalizeDomainList normalizes a license's domain list as activation
// does, drops repeats and checks it fits maxDomains slots; field names the
// request field for errors ("domains").
func NormalizeDomainList(raw []string, maxDomains int, field string) ([]string, error) {
	out := make([]string, 0, len(raw))
	for i, r := range raw {
		d, err := NormalizeDomain(r)
		if err != nil {
			p, _ := AsProblem(err)
			msg := "not a domain"
			if p != nil {
				msg = p.Message
			}
			return nil, Invalid("invalid_domain", field, "%s[%d]: %s", field, i, msg)
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	if len(out) > maxDomains {
		return nil, Invalid("too_many_domains", field, "%d domains given but the license has %d slots", len(out), maxDomains)
	}
	slices.Sort(out)
	return out, nil
}
