package paypal_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/payments/paypal"
	"github.com/licenseflow/licenseflow/payments/paypal/paypaltest"
)

// webhookID is shaped like the ids PayPal gives webhooks.
const webhookID = "4JH81920WS6614423"

// otherKey is a key PayPal's certificate does not hold, made once: a
// 2048-bit key is slow to make.
var otherKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// captureEvent is a PAYMENT.CAPTURE.COMPLETED body.
func captureEvent(id string) []byte {
	return paypaltest.Event(id, paypal.CaptureCompleted, "capture", map[string]any{
		"id": "2GG27954UX471931P", "status": "COMPLETED", "custom_id": "ord_7c1e",
		"amount":             map[string]string{"currency_code": "EUR", "value": "149.00"},
		"supplementary_data": map[string]any{"related_ids": map[string]string{"order_id": "5O190127TN364715T"}},
	})
}

// frozen makes v's clock stand still at a whole second, since
// PAYPAL-TRANSMISSION-TIME has no fractions.
func frozen(v *paypal.Verifier) time.Time {
	now := time.Now().Truncate(time.Second)
	v.Now = func() time.Time { return now }
	return now
}

func TestADeliverySignedByPayPalVerifiesAndDecodes(t *testing.T) {
	pp := paypaltest.New(t)
	v := pp.Verifier(webhookID)
	body := captureEvent("WH-58D329510W468432D-8HN650336L201105X")

	ev, err := v.Verify(context.Background(), body, pp.Sign(body, webhookID, time.Now()))
	require.NoError(t, err)
	assert.Equal(t, "WH-58D329510W468432D-8HN650336L201105X", ev.ID)
	assert.Equal(t, paypal.CaptureCompleted, ev.EventType)
	assert.Equal(t, "capture", ev.ResourceType)
	assert.WithinDuration(t, time.Now(), ev.CreateTime, time.Minute)

	var c paypal.Capture
	require.NoError(t, ev.Decode(&c))
	assert.Equal(t, "2GG27954UX471931P", c.ID)
	assert.Equal(t, "5O190127TN364715T", c.OrderID())
	cents, err := c.Amount.Cents()
	require.NoError(t, err)
	assert.Equal(t, int64(14900), cents)
}

// Everything that is not PayPal's signature over this body, for this
// webhook, now, with PayPal's certificate, is refused as a bad signature
// (the caller answers 400), and says what is wrong.
func TestADeliveryPayPalDidNotSignIsRefused(t *testing.T) {
	pp := paypaltest.New(t)
	body := captureEvent("WH-1")
	sign := func(certURL string, key *rsa.PrivateKey) http.Header {
		return pp.SignWith(key, certURL, body, webhookID, time.Now())
	}
	certPath := func(name string) string { return "/v1/notifications/certs/CERT-" + name }
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)

	for _, tc := range []struct {
		name      string
		webhookID string
		body      []byte
		header    func() http.Header
		want      string
	}{
		{name: "a tampered body", body: []byte(strings.Replace(string(body), "149.00", "1.00", 1)),
			want: "the signature does not verify for webhook " + webhookID},
		{name: "a delivery for another webhook", webhookID: "8XK22041MB7753019",
			want: "the signature does not verify for webhook 8XK22041MB7753019"},
		{name: "a signature by another key", header: func() http.Header { return sign(pp.CertURL(), otherKey()) },
			want: "the signature does not verify"},
		{name: "a self-signed certificate on an allowed host",
			header: func() http.Header {
				return sign(pp.Serve(certPath("self"), pp.SelfSigned(paypaltest.Cert{})), pp.Key)
			},
			want: "does not verify: x509: certificate signed by unknown authority"},
		{name: "a trusted certificate for another name",
			header: func() http.Header {
				return sign(pp.Serve(certPath("evil"), pp.Issue(paypaltest.Cert{Key: otherKey(), CommonName: "shop.evil.example"})), otherKey())
			},
			want: `is issued to "shop.evil.example", not to a paypal.com name`},
		{name: "an expired certificate",
			header: func() http.Header {
				old := pp.Issue(paypaltest.Cert{NotBefore: time.Now().AddDate(-2, 0, 0), NotAfter: time.Now().AddDate(-1, 0, 0)})
				return sign(pp.Serve(certPath("expired"), old), pp.Key)
			},
			want: "certificate has expired or is not yet valid"},
		{name: "a certificate not yet valid",
			header: func() http.Header {
				early := pp.Issue(paypaltest.Cert{NotBefore: time.Now().Add(24 * time.Hour)})
				return sign(pp.Serve(certPath("early"), early), pp.Key)
			},
			want: "certificate has expired or is not yet valid"},
		{name: "a certificate with an ECDSA key",
			header: func() http.Header {
				return sign(pp.Serve(certPath("ecdsa"), pp.Issue(paypaltest.Cert{Key: ec})), pp.Key)
			},
			want: "holds an ECDSA key, but SHA256withRSA needs RSA"},
		{name: "a certificate URL serving no PEM",
			header: func() http.Header {
				return sign(pp.Serve(certPath("html"), []byte("<html>down for maintenance</html>")), pp.Key)
			},
			want: "holds no PEM certificate"},
		{name: "a certificate URL serving a key, not a certificate",
			header: func() http.Header {
				return sign(pp.Serve(certPath("key"), []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")), pp.Key)
			},
			want: `holds a "PUBLIC KEY" PEM block, not a certificate`},
		{name: "a certificate URL serving more than 64 KiB",
			header: func() http.Header {
				huge := append(pp.Issue(paypaltest.Cert{}), strings.Repeat("x", 64<<10)...)
				return sign(pp.Serve(certPath("huge"), huge), pp.Key)
			},
			want: "sent more than 64 KiB"},
		{name: "another algorithm",
			header: func() http.Header {
				h := pp.Sign(body, webhookID, time.Now())
				h.Set("PAYPAL-AUTH-ALGO", "SHA1withRSA")
				return h
			},
			want: `PAYPAL-AUTH-ALGO is "SHA1withRSA"; only SHA256withRSA is accepted`},
		{name: "a signature that is not base64",
			header: func() http.Header {
				h := pp.Sign(body, webhookID, time.Now())
				h.Set("PAYPAL-TRANSMISSION-SIG", "not%base64")
				return h
			},
			want: "PAYPAL-TRANSMISSION-SIG is not base64"},
		{name: "a transmission time that is not RFC 3339",
			header: func() http.Header {
				h := pp.Sign(body, webhookID, time.Now())
				h.Set("PAYPAL-TRANSMISSION-TIME", time.Now().UTC().Format(http.TimeFormat))
				return h
			},
			want: "is not an RFC 3339 time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := webhookID
			if tc.webhookID != "" {
				id = tc.webhookID
			}
			h := pp.Sign(body, webhookID, time.Now())
			if tc.header != nil {
				h = tc.header()
			}
			payload := body
			if tc.body != nil {
				payload = tc.body
			}
			_, err := pp.Verifier(id).Verify(context.Background(), payload, h)
			require.ErrorIs(t, err, paypal.ErrBadSignature)
			assert.NotErrorIs(t, err, paypal.ErrCertUnavailable)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestAVerifierWithoutAWebhookIDRefusesEverything(t *testing.T) {
	pp := paypaltest.New(t)
	body := captureEvent("WH-1")
	_, err := pp.Verifier("").Verify(context.Background(), body, pp.Sign(body, "", time.Now()))
	require.ErrorIs(t, err, paypal.ErrBadSignature)
	assert.Contains(t, err.Error(), "PAYPAL_WEBHOOK_ID is not set")
	assert.Zero(t, pp.Fetches(), "nothing is fetched for a delivery that cannot verify")
}

func TestEveryPayPalHeaderIsRequired(t *testing.T) {
	pp := paypaltest.New(t)
	body := captureEvent("WH-1")
	for _, name := range []string{"PAYPAL-TRANSMISSION-ID", "PAYPAL-TRANSMISSION-TIME", "PAYPAL-TRANSMISSION-SIG", "PAYPAL-CERT-URL", "PAYPAL-AUTH-ALGO"} {
		t.Run(name, func(t *testing.T) {
			h := pp.Sign(body, webhookID, time.Now())
			h.Del(name)
			_, err := pp.Verifier(webhookID).Verify(context.Background(), body, h)
			require.ErrorIs(t, err, paypal.ErrBadSignature)
			assert.Contains(t, err.Error(), "the "+name+" header is missing")
		})
	}
}

// A transmission may lie up to Tolerance before or after now: older is a
// replay, further ahead would stay replayable for longer.
func TestTheTransmissionTimeMayLieAtMostTheToleranceEitherWay(t *testing.T) {
	pp := paypaltest.New(t)
	body := captureEvent("WH-1")
	for _, tc := range []struct {
		offset time.Duration
		want   string // "" when accepted
	}{
		{offset: 0},
		{offset: -paypal.Tolerance},
		{offset: paypal.Tolerance},
		{offset: -paypal.Tolerance - time.Second, want: "the transmission is 5m1s old (at most 5m0s is tolerated)"},
		{offset: paypal.Tolerance + time.Second, want: "timestamped 5m1s ahead of this server's clock"},
		{offset: -24 * time.Hour, want: "the transmission is 24h0m0s old"},
	} {
		t.Run(tc.offset.String(), func(t *testing.T) {
			v := pp.Verifier(webhookID)
			now := frozen(v)
			_, err := v.Verify(context.Background(), body, pp.Sign(body, webhookID, now.Add(tc.offset)))
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, paypal.ErrBadSignature)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// PAYPAL-CERT-URL comes with the delivery, so before the signature holds
// it is the attacker's: the certificate is fetched over https, from one of
// PayPal's hosts (host[:port] compared exactly), or not at all.
func TestACertificateURLOffPayPalsHostsIsRefusedWithoutFetching(t *testing.T) {
	body := captureEvent("WH-1")
	pp := paypaltest.New(t)
	for _, tc := range []struct {
		url  string
		want string
	}{
		{"https://api.paypal.com.evil.example/v1/notifications/certs/CERT-1", `names host "api.paypal.com.evil.example"`},
		{"https://evil.example/api.paypal.com/v1/notifications/certs/CERT-1", `names host "evil.example"`},
		{"https://evil.example/?host=api.paypal.com", `names host "evil.example"`},
		{"https://api.paypal.com@evil.example/v1/notifications/certs/CERT-1", "carries user info"},
		{"https://evil.example@api.paypal.com/v1/notifications/certs/CERT-1", "carries user info"},
		{"https://api.paypal.com:@evil.example/", "carries user info"},
		{"http://api.paypal.com/v1/notifications/certs/CERT-1", "is not https"},
		{"ftp://api.paypal.com/CERT-1", "is not https"},
		{"//api.paypal.com/v1/notifications/certs/CERT-1", "is not https"},
		{"api.paypal.com/v1/notifications/certs/CERT-1", "is not https"},
		{"https:api.paypal.com/v1/notifications/certs/CERT-1", `names host ""`},
		{"https://API.PAYPAL.COM/v1/notifications/certs/CERT-1", `names host "API.PAYPAL.COM"`},
		{"https://api.PayPal.com/v1/notifications/certs/CERT-1", `names host "api.PayPal.com"`},
		{"https://api.paypal.com./v1/notifications/certs/CERT-1", `names host "api.paypal.com."`},
		{"https://api.paypal.com:8443/v1/notifications/certs/CERT-1", `names host "api.paypal.com:8443"`},
		{"https://api.paypal.com%2eevil.example/v1/notifications/certs/CERT-1", "PAYPAL-CERT-URL"},
		{"https://api.paypal.com\\@evil.example/", "PAYPAL-CERT-URL"},
		{"https://173.0.82.126/v1/notifications/certs/CERT-1", `names host "173.0.82.126"`},
		{"https://[::1]/v1/notifications/certs/CERT-1", `names host "[::1]"`},
		{"https://localhost" + strings.TrimPrefix(pp.Host(), "127.0.0.1") + paypaltest.CertPath, "is not one of PayPal's certificate hosts"},
		{"https://api.paypal.com\n.evil.example/", "is not a URL"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			v := paypal.NewVerifier(webhookID)
			v.Client = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				t.Errorf("fetched %s", r.URL)
				return nil, errors.New("no fetching in this test")
			})}
			_, err := v.Verify(context.Background(), body, pp.SignWith(pp.Key, tc.url, body, webhookID, time.Now()))
			require.ErrorIs(t, err, paypal.ErrBadSignature)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A certificate that cannot be had right now is no proof of forgery: the
// caller answers 503 and PayPal redelivers.
func TestAnUnavailableCertificateIsTransient(t *testing.T) {
	pp := paypaltest.New(t)
	body := captureEvent("WH-1")

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	unreachable := closed.Addr().String()
	require.NoError(t, closed.Close())

	redirect := httptest.NewTLSServer(http.RedirectHandler(pp.CertURL(), http.StatusFound))
	defer redirect.Close()
	redirectHost := strings.TrimPrefix(redirect.URL, "https://")

	for _, tc := range []struct {
		name, url, want string
	}{
		{"an unreachable host", "https://" + unreachable + paypaltest.CertPath, "connect"},
		{"a missing certificate", pp.URL("/v1/notifications/certs/CERT-gone"), "answered 404 Not Found"},
		// Following it would fetch from a host that was never checked.
		{"a redirect", redirect.URL + paypaltest.CertPath, "answered 302 Found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := pp.Verifier(webhookID)
			v.CertHosts = append(v.CertHosts, unreachable, redirectHost)
			_, err := v.Verify(context.Background(), body, pp.SignWith(pp.Key, tc.url, body, webhookID, time.Now()))
			require.ErrorIs(t, err, paypal.ErrCertUnavailable)
			assert.NotErrorIs(t, err, paypal.ErrBadSignature)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	assert.Equal(t, 1, pp.Fetches(), "only the missing certificate reached PayPal's host; the redirect was not followed")
}

func TestAFailedFetchIsNotCached(t *testing.T) {
	pp := paypaltest.New(t)
	v := pp.Verifier(webhookID)
	body := captureEvent("WH-1")
	url := pp.URL("/v1/notifications/certs/CERT-late")

	_, err := v.Verify(context.Background(), body, pp.SignWith(pp.Key, url, body, webhookID, time.Now()))
	require.ErrorIs(t, err, paypal.ErrCertUnavailable)

	pp.Serve("/v1/notifications/certs/CERT-late", pp.Issue(paypaltest.Cert{}))
	_, err = v.Verify(context.Background(), body, pp.SignWith(pp.Key, url, body, webhookID, time.Now()))
	require.NoError(t, err, "the redelivery fetches again")
	assert.Equal(t, 2, pp.Fetches())
}

func TestABurstOfDeliveriesFetchesTheCertificateOnce(t *testing.T) {
	pp := paypaltest.New(t)
	v := pp.Verifier(webhookID)
	verify := func(i int) error {
		body := captureEvent(fmt.Sprintf("WH-BURST-%d", i))
		_, err := v.Verify(context.Background(), body, pp.Sign(body, webhookID, time.Now()))
		return err
	}

	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() { assert.NoError(t, verify(i)) })
	}
	wg.Wait()
	for i := 40; i < 50; i++ {
		require.NoError(t, verify(i))
	}
	assert.Equal(t, 1, pp.Fetches())
}

// A cached certificate is trusted until it expires, not after.
func TestACachedCertificateIsNotTrustedPastItsExpiry(t *testing.T) {
	pp := paypaltest.New(t)
	v := pp.Verifier(webhookID)
	body := captureEvent("WH-1")
	now := frozen(v)
	_, err := v.Verify(context.Background(), body, pp.Sign(body, webhookID, now))
	require.NoError(t, err)

	later := now.AddDate(1, 0, 1) // the test certificate is valid for a year
	v.Now = func() time.Time { return later }
	_, err = v.Verify(context.Background(), body, pp.Sign(body, webhookID, later))
	require.ErrorIs(t, err, paypal.ErrBadSignature)
	assert.Contains(t, err.Error(), "certificate has expired")
	assert.Equal(t, 2, pp.Fetches(), "the expired entry was fetched again, not used")
}

// Deliveries naming ever new certificate URLs on an allowed host do not
// grow the cache without bound.
func TestTheCertificateCacheIsBounded(t *testing.T) {
	pp := paypaltest.New(t)
	v := pp.Verifier(webhookID)
	body := captureEvent("WH-1")
	chain := pp.Issue(paypaltest.Cert{})
	const urls = 33 // one more than the cache holds
	verifyAll := func() {
		for i := range urls {
			url := pp.Serve(fmt.Sprintf("/v1/notifications/certs/CERT-%d", i), chain)
			_, err := v.Verify(context.Background(), body, pp.SignWith(pp.Key, url, body, webhookID, time.Now()))
			require.NoError(t, err)
		}
	}
	verifyAll()
	require.Equal(t, urls, pp.Fetches())
	verifyAll()
	assert.Greater(t, pp.Fetches(), urls, "some certificate was evicted and fetched again")
}

// A body PayPal signed but which is no event is refused as such, not as a
// forgery.
func TestASignedBodyThatIsNoPayPalEventIsInvalid(t *testing.T) {
	pp := paypaltest.New(t)
	v := pp.Verifier(webhookID)
	for _, tc := range []struct {
		name, body, want string
	}{
		{"not JSON", "event=PAYMENT.CAPTURE.COMPLETED", "the body is not JSON: invalid character"},
		{"a JSON array", `[{"id":"WH-1"}]`, "the body is JSON but not an object"},
		{"trailing data", `{"id":"WH-1","event_type":"X"} {}`, "the body is not JSON"},
		{"null", `null`, `id "" is not a PayPal event id`},
		{"no id", `{"event_type":"PAYMENT.CAPTURE.COMPLETED"}`, `id "" is not a PayPal event id`},
		{"an id with a slash", `{"id":"WH-1/../2","event_type":"PAYMENT.CAPTURE.COMPLETED"}`, "is not a PayPal event id"},
		{"an id with a newline", `{"id":"WH-1\nforged log line","event_type":"PAYMENT.CAPTURE.COMPLETED"}`, "is not a PayPal event id"},
		{"an id of 101 characters", `{"id":"` + strings.Repeat("A", 101) + `","event_type":"PAYMENT.CAPTURE.COMPLETED"}`, "is not a PayPal event id"},
		{"no event type", `{"id":"WH-1"}`, "event WH-1 has no event_type"},
		{"a blank event type", `{"id":"WH-1","event_type":"  "}`, "event WH-1 has no event_type"},
		{"an event type of 101 bytes", `{"id":"WH-1","event_type":"` + strings.Repeat("X", 101) + `"}`, "an event_type of 101 bytes"},
		{"a create time that is no time", `{"id":"WH-1","event_type":"X","create_time":"yesterday"}`, `create_time "yesterday"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), []byte(tc.body), pp.Sign([]byte(tc.body), webhookID, time.Now()))
			require.ErrorIs(t, err, paypal.ErrInvalidEvent)
			assert.NotErrorIs(t, err, paypal.ErrBadSignature)
			assert.Contains(t, err.Error(), tc.want)
		})
	}

	id := strings.Repeat("A", 100)
	_, err := v.Verify(context.Background(), []byte(`{"id":"`+id+`","event_type":"X"}`), pp.Sign([]byte(`{"id":"`+id+`","event_type":"X"}`), webhookID, time.Now()))
	assert.NoError(t, err, "an id of 100 characters is fine")
}
