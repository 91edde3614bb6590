package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Targets decides where deliveries may go. By default only https URLs on
// public addresses: an endpoint URL is chosen by whoever holds an admin
// token, and must not turn licenseflow into a way into the vendor's own
// network (cloud metadata, databases, admin panels).
type Targets struct {
	// Trusted hosts and networks may be reached over plain http and on
	// private addresses (a CRM inside the vendor's network).
	trustedHosts []string
	trustedNets  []netip.Prefix
	// anywhere lifts every restriction (development).
	anywhere bool
}

// TrustTargets returns the default policy plus trusted entries: host names
// (crm.internal) and networks (10.1.0.0/16, 192.168.1.20).
func TrustTargets(entries []string) (Targets, error) {
	var t Targets
	for _, e := range entries {
		e = strings.ToLower(strings.TrimSpace(e))
		switch {
		case e == "":
		case strings.Contains(e, "/"):
			p, err := netip.ParsePrefix(e)
			if err != nil {
				return t, fmt.Errorf("trusted webhook target %q is not a network such as 10.0.0.0/8: %w", e, err)
			}
			t.trustedNets = append(t.trustedNets, p.Masked())
		default:
			if ip, err := netip.ParseAddr(e); err == nil {
				t.trustedNets = append(t.trustedNets, netip.PrefixFrom(ip, ip.BitLen()))
			} else {
				t.trustedHosts = append(t.trustedHosts, strings.TrimSuffix(e, "."))
			}
		}
	}
	return t, nil
}

// AnyTarget allows every http(s) URL, loopback and private networks
// included: for development and tests, never for production.
func AnyTarget() Targets { return Targets{anywhere: true} }

// CheckURL checks an endpoint URL when it is registered: absolute http(s)
// with a host, no credentials, https unless the host is trusted, and not a
// private address written out. Names are resolved (and checked) at each
// delivery, so a name that later points inside the network is refused then.
func (t Targets) CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "":
		return nil, errors.New("give an absolute URL such as https://crm.example.com/hooks/licenseflow")
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, fmt.Errorf("the URL scheme must be https, not %q", u.Scheme)
	case u.User != nil:
		return nil, errors.New("the URL must not carry a user name or password; deliveries are authenticated by their signature")
	case u.Fragment != "":
		return nil, errors.New("the URL must not have a #fragment")
	case len(u.String()) > 2048:
		return nil, errors.New("the URL is longer than 2048 characters")
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	trusted := t.anywhere || t.hostTrusted(host)
	if ip, err := netip.ParseAddr(host); err == nil {
		trusted = trusted || t.ipTrusted(ip)
		if !trusted && !Public(ip) {
			return nil, fmt.Errorf("%s is a private, loopback or reserved address; deliveries only go to public addresses unless the network is trusted (LICENSEFLOW_WEBHOOK_TRUSTED_TARGETS)", host)
		}
	} else if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		if !trusted {
			return nil, fmt.Errorf("%s is this machine; deliveries only go to public addresses unless the host is trusted (LICENSEFLOW_WEBHOOK_TRUSTED_TARGETS)", host)
		}
	}
	if u.Scheme != "https" && !trusted {
		return nil, errors.New("the URL must use https; plain http is only allowed for trusted hosts (LICENSEFLOW_WEBHOOK_TRUSTED_TARGETS)")
	}
	return u, nil
}

func (t Targets) hostTrusted(host string) bool {
	for _, h := range t.trustedHosts {
		if host == h {
			return true
		}
	}
	return false
}

func (t Targets) ipTrusted(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range t.trustedNets {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// reserved are ranges that are global unicast by the letter but reach no
// public host (shared address space, benchmarking, NAT64, 6to4, …).
var reserved = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64 (RFC 8215)
	netip.MustParsePrefix("::/96"),          // IPv4-compatible: ::10.0.0.1 may reach 10.0.0.1
	netip.MustParsePrefix("fec0::/10"),      // deprecated site-local, still routed inside some networks
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("2002::/16"),
}

// Public reports whether ip is a public unicast address: not loopback,
// private, link-local (cloud metadata at 169.254.169.254), multicast,
// unspecified or reserved.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return false
	}
	for _, p := range reserved {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// ErrPrivateTarget is a delivery refused because the endpoint's name
// resolved to a private address.
var ErrPrivateTarget = errors.New("webhooks: the endpoint resolves to a private, loopback or reserved address; trust it explicitly (LICENSEFLOW_WEBHOOK_TRUSTED_TARGETS) if it is meant to be reached")

// Client returns the HTTP client deliveries use: it connects only to
// addresses the policy allows (checked on the address actually dialled, so
// a DNS answer cannot smuggle in a private one), follows no redirects (the
// 3xx is the answer) and ignores proxy settings.
func (t Targets) Client() *http.Client {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		d := net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
		if !t.anywhere && !t.hostTrusted(strings.ToLower(strings.TrimSuffix(host, "."))) {
			d.Control = func(_, address string, _ syscall.RawConn) error {
				ap, err := netip.ParseAddrPort(address)
				if err != nil {
					return fmt.Errorf("webhooks: cannot check address %q: %w", address, err)
				}
				if !Public(ap.Addr()) && !t.ipTrusted(ap.Addr()) {
					return ErrPrivateTarget
				}
				return nil
			}
		}
		return d.DialContext(ctx, network, addr)
	}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dial,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
			MaxIdleConnsPerHost:   16,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
