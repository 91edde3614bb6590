// Package paypaltest stands in for PayPal's webhook signing in tests: a
// test CA, a signing certificate it issued, and a TLS server that hands the
// chain out the way PayPal's certificate hosts do, so a paypal.Verifier can
// run unchanged against it.
package paypaltest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"hash/crc32"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/licenseflow/licenseflow/payments/paypal"
)

const (
	// CertPath is where the server hands out the signing chain, shaped like
	// PayPal's own (/v1/notifications/certs/CERT-…).
	CertPath = "/v1/notifications/certs/CERT-360caa42-fca2a594-test"
	// CommonName is the name PayPal's signing certificate is issued to.
	CommonName = "messageverificationcerts.paypal.com"
)

// keys are the test CA's and the signing certificate's, made once per
// process: a 2048-bit RSA key takes long enough to slow every test that
// needed a fresh one.
type keys struct {
	ca     *rsa.PrivateKey
	caCert *x509.Certificate
	leaf   *rsa.PrivateKey
}

var processKeys = sync.OnceValues(func() (keys, error) {
	var k keys
	var err error
	if k.ca, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return keys{}, err
	}
	if k.leaf, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return keys{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Organization: []string{"licenseflow tests"}, CommonName: "licenseflow test PayPal CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(20, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.ca.Public(), k.ca)
	if err != nil {
		return keys{}, err
	}
	if k.caCert, err = x509.ParseCertificate(der); err != nil {
		return keys{}, err
	}
	return k, nil
})

// PayPal is a running stand-in for PayPal's certificate host, with the key
// that signs deliveries.
type PayPal struct {
	// Key is the signing certificate's private key.
	Key *rsa.PrivateKey

	keys   keys
	server *httptest.Server

	mu      sync.Mutex
	bodies  map[string][]byte // what each path serves
	fetches int
}

// New starts the certificate host for the test's lifetime, serving the
// signing chain (leaf, then CA) at CertPath.
func New(t testing.TB) *PayPal {
	t.Helper()
	k, err := processKeys()
	if err != nil {
		t.Fatalf("paypaltest: make the test CA: %v", err)
	}
	p := &PayPal{Key: k.leaf, keys: k, bodies: map[string][]byte{}}
	p.bodies[CertPath] = p.Issue(Cert{})
	p.server = httptest.NewTLSServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.server.Close)
	return p
}

func (p *PayPal) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.fetches++
	body, ok := p.bodies[r.URL.Path]
	p.mu.Unlock()
	if r.Method != http.MethodGet || !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	_, _ = w.Write(body)
}

// Verifier is a paypal.Verifier for webhookID that fetches from this host
// only, over its TLS, and trusts the test CA instead of the system roots.
func (p *PayPal) Verifier(webhookID string) *paypal.Verifier {
	v := paypal.NewVerifier(webhookID)
	v.CertHosts = []string{p.Host()}
	v.Roots = x509.NewCertPool()
	v.Roots.AddCert(p.keys.caCert)
	v.Client = p.server.Client()
	return v
}

// Host is the server's host:port, as a PAYPAL-CERT-URL names it.
func (p *PayPal) Host() string {
	u, _ := url.Parse(p.server.URL) // httptest's own URL always parses
	return u.Host
}

// CertURL is the signing chain's URL, what Sign puts in PAYPAL-CERT-URL.
func (p *PayPal) CertURL() string { return p.URL(CertPath) }

// URL is path on this host (served or not: an unserved one answers 404).
func (p *PayPal) URL(path string) string { return p.server.URL + path }

// Serve makes the host answer path with body (another chain, or junk) and
// returns its URL.
func (p *PayPal) Serve(path string, body []byte) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bodies[path] = body
	return p.URL(path)
}

// Fetches is how many requests the host has answered, on any path.
func (p *PayPal) Fetches() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fetches
}

// Sign is the PAYPAL-* headers (and Content-Type) PayPal would send with
// payload for webhookID at the given moment, with a fresh transmission id.
func (p *PayPal) Sign(payload []byte, webhookID string, at time.Time) http.Header {
	return p.SignWith(p.Key, p.CertURL(), payload, webhookID, at)
}

// SignWith is Sign with any key and any PAYPAL-CERT-URL, to forge
// deliveries: a key the certificate does not hold, a certificate on another
// host or path.
func (p *PayPal) SignWith(key *rsa.PrivateKey, certURL string, payload []byte, webhookID string, at time.Time) http.Header {
	id := transmissionID()
	sentAt := at.UTC().Format(time.RFC3339)
	digest := sha256.Sum256(fmt.Appendf(nil, "%s|%s|%s|%d", id, sentAt, webhookID, crc32.ChecksumIEEE(payload)))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		panic(fmt.Sprintf("paypaltest: sign with a %d-bit key: %v", key.N.BitLen(), err))
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("PAYPAL-TRANSMISSION-ID", id)
	h.Set("PAYPAL-TRANSMISSION-TIME", sentAt)
	h.Set("PAYPAL-TRANSMISSION-SIG", base64.StdEncoding.EncodeToString(sig))
	h.Set("PAYPAL-CERT-URL", certURL)
	h.Set("PAYPAL-AUTH-ALGO", "SHA256withRSA")
	return h
}

// transmissionID is a fresh id shaped like PayPal's (a UUID).
func transmissionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// Cert describes a certificate for Issue and SelfSigned; a zero field takes
// the value of the signing certificate's.
type Cert struct {
	// Key is the key whose public half the certificate holds (Key if nil).
	Key crypto.Signer
	// CommonName is the subject and DNS name (CommonName if "").
	CommonName string
	// NotBefore and NotAfter bound its validity (an hour ago and a year on).
	NotBefore, NotAfter time.Time
}

// Issue is a PEM chain (the certificate, then the test CA) for c, issued by
// the test CA, to Serve.
func (p *PayPal) Issue(c Cert) []byte {
	return append(p.certPEM(c, p.keys.caCert, p.keys.ca), pemCert(p.keys.caCert.Raw)...)
}

// SelfSigned is the PEM of c signed by its own key, chaining to no root.
func (p *PayPal) SelfSigned(c Cert) []byte { return p.certPEM(c, nil, nil) }

func (p *PayPal) certPEM(c Cert, issuer *x509.Certificate, issuerKey crypto.Signer) []byte {
	if c.Key == nil {
		c.Key = p.Key
	}
	if c.CommonName == "" {
		c.CommonName = CommonName
	}
	now := time.Now()
	if c.NotBefore.IsZero() {
		c.NotBefore = now.Add(-time.Hour)
	}
	if c.NotAfter.IsZero() {
		c.NotAfter = now.AddDate(1, 0, 0)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62)) // crypto/rand never fails
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{Organization: []string{"PayPal, Inc. (licenseflow tests)"}, CommonName: c.CommonName},
		DNSNames:     []string{c.CommonName},
		NotBefore:    c.NotBefore,
		NotAfter:     c.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if issuer == nil {
		issuer, issuerKey = tmpl, c.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, c.Key.Public(), issuerKey)
	if err != nil {
		panic(fmt.Sprintf("paypaltest: issue a certificate for %q: %v", c.CommonName, err))
	}
	return pemCert(der)
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// Event is a webhook body shaped as PayPal sends it, carrying resource
// (marshalled, or used as is when it is already JSON bytes).
func Event(id, eventType, resourceType string, resource any) []byte {
	raw, ok := resource.([]byte)
	if !ok {
		var err error
		if raw, err = json.Marshal(resource); err != nil {
			panic(fmt.Sprintf("paypaltest: marshal the %s resource: %v", eventType, err))
		}
	}
	type link struct {
		Href   string `json:"href"`
		Rel    string `json:"rel"`
		Method string `json:"method"`
	}
	self := "https://api.paypal.com/v1/notifications/webhooks-events/" + id
	body, err := json.Marshal(struct {
		ID              string          `json:"id"`
		EventVersion    string          `json:"event_version"`
		CreateTime      string          `json:"create_time"`
		ResourceType    string          `json:"resource_type"`
		ResourceVersion string          `json:"resource_version"`
		EventType       string          `json:"event_type"`
		Summary         string          `json:"summary"`
		Resource        json.RawMessage `json:"resource"`
		Links           []link          `json:"links"`
	}{
		ID: id, EventVersion: "1.0", CreateTime: time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		ResourceType: resourceType, ResourceVersion: "2.0", EventType: eventType,
		Summary:  "licenseflow test " + eventType + " event",
		Resource: raw,
		Links:    []link{{Href: self, Rel: "self", Method: "GET"}, {Href: self + "/resend", Rel: "resend", Method: "POST"}},
	})
	if err != nil {
		panic(fmt.Sprintf("paypaltest: marshal the %s event: %v", eventType, err))
	}
	return body
}
