package models

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// DefaultStagingDomains are the patterns of staging and local copies of a
// site: local names, the reserved test top-level domains and staging
// subdomains of the license's own sites. Private and loopback addresses
// are not among them: an on-premises Dolibarr on 10.1.2.3 is a production
// site, and an address says nothing about whose copy it is.
var DefaultStagingDomains = []string{
	"localhost", "*.localhost", "*.local", "*.test", "*.invalid", "*.example",
	"staging.*", "stage.*", "dev.*",
}

// StagingRule tells staging and local copies of a site from production
// sites. Staging domains activate without taking one of the license's
// domain slots, as vendors do not sell a license per developer laptop;
// they are still validated, listed and counted in usage. The zero rule
// exempts nothing.
//
// Patterns: a name matches itself (localhost); "*.test" matches any
// subdomain of test; "staging.*" matches a name whose first label is
// staging and whose rest is a domain already active on the same license
// (staging.shop.com while shop.com is active; staging.other-customer.com
// is nobody's staging copy); a CIDR prefix (10.0.0.0/8) matches addresses
// in it. Staging activations per license are capped as well (the store
// counts them), so no pattern is a way around max_domains.
type StagingRule struct {
	names    map[string]bool
	suffixes []string // ".test"
	prefixes []string // "staging."
	networks []netip.Prefix
}

// ParseStagingRule reads a list of patterns (see StagingRule).
func ParseStagingRule(patterns []string) (StagingRule, error) {
	r := StagingRule{names: map[string]bool{}}
	for _, raw := range patterns {
		p := strings.ToLower(strings.TrimSpace(raw))
		switch {
		case p == "":
		case strings.Contains(p, "/"):
			network, err := netip.ParsePrefix(p)
			if err != nil {
				return StagingRule{}, fmt.Errorf("staging pattern %q is not a CIDR prefix such as 10.0.0.0/8: %w", raw, err)
			}
			r.networks = append(r.networks, network.Masked())
		case strings.HasPrefix(p, "*.") && validLabels(p[2:]):
			r.suffixes = append(r.suffixes, p[1:])
		case strings.HasSuffix(p, ".*") && validLabels(p[:len(p)-2]):
			r.prefixes = append(r.prefixes, p[:len(p)-1])
		case validLabels(p):
			r.names[p] = true
		default:
			return StagingRule{}, fmt.Errorf("staging pattern %q must be a name (localhost), *.suffix (*.test), prefix.* (staging.*) or a CIDR prefix (10.0.0.0/8)", raw)
		}
	}
	return r, nil
}

// DefaultStagingRule is the rule of DefaultStagingDomains.
func DefaultStagingRule() StagingRule {
	r, err := ParseStagingRule(DefaultStagingDomains)
	if err != nil {
		panic(err)
	}
	return r
}

// IsStaging reports whether a normalized domain (see NormalizeDomain) is a
// staging or local copy of a site.
//
// active are the license's active domains: a prefix pattern matches only in
// front of one of them.
func (r StagingRule) IsStaging(domain string, active []string) bool {
	if domain == "" {
		return false
	}
	if looksLikeIP(domain) {
		addr, err := netip.ParseAddr(domain)
		if err != nil {
			return false
		}
		addr = addr.Unmap()
		for _, n := range r.networks {
			if n.Contains(addr) {
				return true
			}
		}
		return false
	}
	if r.names[domain] {
		return true
	}
	for _, s := range r.suffixes {
		if strings.HasSuffix(domain, s) {
			return true
		}
	}
	for _, p := range r.prefixes {
		// The rest must itself be a subdomain: staging.shop.example, not staging.com.
		if rest, ok := strings.CutPrefix(domain, p); ok && strings.Count(rest, ".") >= 1 && slices.Contains(active, rest) {
			return true
		}
	}
	return false
}

// looksLikeIP skips parsing names as addresses (a failed parse allocates,
// and this runs on every validation with a domain). Normalized names never
// contain ":" and their top-level label never starts with a digit;
// addresses always match one or the other.
func looksLikeIP(domain string) bool {
	last := domain[strings.LastIndexByte(domain, '.')+1:]
	return strings.Contains(domain, ":") || last != "" && last[0] >= '0' && last[0] <= '9'
}

// validLabels reports whether s is dot-separated DNS labels.
func validLabels(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
