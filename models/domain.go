package models

import (
	"net"
	"net/url"
	"strings"

	"golang.org/x/net/idna"
)

// NormalizeDomain reduces what a site reports as its address to the domain
// activations are counted by: lower case, no scheme, user, port, path,
// query or trailing dot, no leading "www.", internationalized names in
// punycode (müller.de and xn--mller-kva.de are one domain). IP addresses
// are kept as they are (intranet and staging sites run on them);
// "localhost" is a domain like any other.
func NormalizeDomain(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", Invalid("missing_domain", "domain", "domain is required, e.g. example.com")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" {
		return "", Invalid("invalid_domain", "domain", "%q is not a domain or site URL such as https://www.example.com", raw)
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if ip := net.ParseIP(host); ip != nil {
		return ip.String(), nil
	}
	host = strings.TrimPrefix(host, "www.")
	ascii, err := idna.Lookup.ToASCII(host)
	if err != nil || ascii == "" || len(ascii) > 253 {
		return "", Invalid("invalid_domain", "domain", "%q is not a valid domain name", raw)
	}
	return ascii, nil
}
