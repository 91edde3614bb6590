package paypal

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

const (
	// maxCertBody bounds what a certificate host may send: PayPal's chain
	// is a few KiB, and the body is read into memory.
	maxCertBody = 64 << 10
	// maxCachedCerts bounds the cache: PayPal rotates its certificate about
	// once a year, and deliveries naming ever new URLs on an allowed host
	// must not grow memory.
	maxCachedCerts = 32
)

// certEntry is a cached (or being fetched) signing key. Whoever creates the
// entry fetches; deliveries arriving meanwhile wait for its ready, so a
// burst of webhooks fetches the certificate once.
type certEntry struct {
	ready   chan struct{} // closed once key, expires and err are set
	key     *rsa.PublicKey
	expires time.Time
	err     error
}

// signingKey is the RSA key of the verified certificate at rawURL.
//
// The fetch runs under the context of the delivery that started it; if
// that delivery gives up, the ones waiting on the same fetch get
// ErrCertUnavailable too (PayPal redelivers them) and the next delivery
// fetches again.
func (v *Verifier) signingKey(ctx context.Context, rawURL string, now time.Time) (*rsa.PublicKey, error) {
	req, err := v.certRequest(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	e, fetcher := v.cacheEntry(rawURL, now)
	if fetcher {
		e.key, e.expires, e.err = v.fetch(req, now)
		if e.err != nil {
			v.forget(rawURL, e) // failures are not cached: the next delivery tries again
		}
		close(e.ready)
		return e.key, e.err
	}
	select {
	case <-e.ready:
		return e.key, e.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: gave up waiting for %s: %v", ErrCertUnavailable, rawURL, ctx.Err())
	}
}

// certRequest is the GET for a PAYPAL-CERT-URL, refused unless it is https
// to one of CertHosts. The header is attacker-controlled until the
// signature verifies, so the URL checked is the very URL requested: the
// request is built first and its parsed URL is what is checked.
func (v *Verifier) certRequest(ctx context.Context, rawURL string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %q is not a URL: %v", ErrBadSignature, headerCertURL, rawURL, err)
	}
	u := req.URL
	switch {
	case u.Scheme != "https":
		return nil, fmt.Errorf("%w: %s %q is not https", ErrBadSignature, headerCertURL, rawURL)
	case u.User != nil:
		return nil, fmt.Errorf("%w: %s %q carries user info", ErrBadSignature, headerCertURL, rawURL)
	case !slices.Contains(v.CertHosts, u.Host):
		return nil, fmt.Errorf("%w: %s %q names host %q, which is not one of PayPal's certificate hosts (%s)",
			ErrBadSignature, headerCertURL, rawURL, u.Host, strings.Join(v.CertHosts, ", "))
	}
	return req, nil
}

// cacheEntry finds the entry for rawURL, or makes one that the caller
// (fetcher) must fill.
func (v *Verifier) cacheEntry(rawURL string, now time.Time) (e *certEntry, fetcher bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if e, ok := v.certs[rawURL]; ok {
		select {
		case <-e.ready:
			if e.err == nil && now.Before(e.expires) {
				return e, false
			}
		default:
			return e, false // being fetched: wait for it
		}
	}
	if v.certs == nil {
		v.certs = make(map[string]*certEntry)
	}
	if _, ok := v.certs[rawURL]; !ok && len(v.certs) >= maxCachedCerts {
		for url := range v.certs { // any will do: a real sender uses one or two URLs
			delete(v.certs, url)
			break
		}
	}
	e = &certEntry{ready: make(chan struct{})}
	v.certs[rawURL] = e
	return e, true
}

// forget drops a failed entry, unless it was replaced meanwhile.
func (v *Verifier) forget(rawURL string, e *certEntry) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.certs[rawURL] == e {
		delete(v.certs, rawURL)
	}
}

// fetch downloads and verifies a certificate chain. It reports when the
// key stops being trusted: the earliest expiry in the verified chain.
func (v *Verifier) fetch(req *http.Request, now time.Time) (*rsa.PublicKey, time.Time, error) {
	client := http.Client{Timeout: 10 * time.Second}
	if v.Client != nil {
		client = *v.Client
	}
	// A redirect would lead away from the host that was checked.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: %v", ErrCertUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, time.Time{}, fmt.Errorf("%w: %s answered %s", ErrCertUnavailable, req.URL, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCertBody+1))
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: read %s: %v", ErrCertUnavailable, req.URL, err)
	}
	if len(body) > maxCertBody {
		return nil, time.Time{}, fmt.Errorf("%w: %s sent more than %d KiB, which is no certificate chain", ErrBadSignature, req.URL, maxCertBody>>10)
	}
	return v.verifyChain(req.URL.String(), body, now)
}

// verifyChain checks a PEM chain (leaf first, then intermediates) against
// Roots at now and returns the leaf's RSA key.
func (v *Verifier) verifyChain(url string, body []byte, now time.Time) (*rsa.PublicKey, time.Time, error) {
	var certs []*x509.Certificate
	for rest := body; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, time.Time{}, fmt.Errorf("%w: %s holds a %q PEM block, not a certificate", ErrBadSignature, url, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("%w: %s holds an unreadable certificate: %v", ErrBadSignature, url, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, time.Time{}, fmt.Errorf("%w: %s holds no PEM certificate", ErrBadSignature, url)
	}
	leaf, intermediates := certs[0], x509.NewCertPool()
	for _, c := range certs[1:] {
		intermediates.AddCert(c)
	}
	// PayPal's signing certificate is no TLS server certificate, so any
	// extended key usage is accepted; what matters is who issued it.
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots: v.Roots, Intermediates: intermediates, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: the certificate at %s does not verify: %v", ErrBadSignature, url, err)
	}
	// Any publicly trusted certificate chains to the system roots; only
	// PayPal can hold one for a paypal.com name.
	if !namesPayPal(leaf) {
		return nil, time.Time{}, fmt.Errorf("%w: the certificate at %s is issued to %q, not to a paypal.com name",
			ErrBadSignature, url, leaf.Subject.CommonName)
	}
	key, ok := leaf.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, time.Time{}, fmt.Errorf("%w: the certificate at %s holds an %s key, but %s needs RSA", ErrBadSignature, url, leaf.PublicKeyAlgorithm, authAlgo)
	}
	expires := leaf.NotAfter
	for _, c := range chains[0] {
		if c.NotAfter.Before(expires) {
			expires = c.NotAfter
		}
	}
	return key, expires, nil
}

// namesPayPal reports whether a certificate is issued to paypal.com or a
// name under it, in its subject or its DNS names
// (messageverificationcerts.paypal.com, ….sandbox.paypal.com).
func namesPayPal(c *x509.Certificate) bool {
	for _, name := range append([]string{c.Subject.CommonName}, c.DNSNames...) {
		name = strings.ToLower(name)
		if name == "paypal.com" || strings.HasSuffix(name, ".paypal.com") {
			return true
		}
	}
	return false
}
