package webhooks_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/sealing"
	"github.com/licenseflow/licenseflow/webhooks"
)

func TestASignedBodyVerifiesAndAnyChangeFails(t *testing.T) {
	body := []byte(`{"id":"evt_1","type":"license.issued"}`)
	at := time.Unix(1_800_000_000, 0)
	header := webhooks.Sign(body, at, "whsec_a")
	assert.Regexp(t, `^t=1800000000,v1=[0-9a-f]{64}$`, header)
	assert.NoError(t, webhooks.VerifyAt(body, header, "whsec_a", webhooks.DefaultTolerance, at.Add(time.Minute)))

	cases := map[string]struct {
		body           []byte
		header, secret string
		now            time.Time
		want           error
	}{
		"a changed body":       {[]byte(`{"id":"evt_2","type":"license.issued"}`), header, "whsec_a", at, webhooks.ErrNoMatch},
		"another secret":       {body, header, "whsec_b", at, webhooks.ErrNoMatch},
		"a replay too late":    {body, header, "whsec_a", at.Add(6 * time.Minute), webhooks.ErrOutsideTolerance},
		"a changed time":       {body, strings.Replace(header, "t=1800000000", "t=1800000001", 1), "whsec_a", at, webhooks.ErrNoMatch},
		"no header":            {body, "", "whsec_a", at, webhooks.ErrMissingSignature},
		"garbage":              {body, "sha256=abc", "whsec_a", at, webhooks.ErrMalformedHeader},
		"no v1 at all":         {body, "t=1800000000", "whsec_a", at, webhooks.ErrMalformedHeader},
		"a v1 that is not hex": {body, "t=1800000000,v1=zz", "whsec_a", at, webhooks.ErrMalformedHeader},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, webhooks.VerifyAt(c.body, c.header, c.secret, webhooks.DefaultTolerance, c.now), c.want)
		})
	}
}

func TestDuringARotationEitherSecretVerifies(t *testing.T) {
	body := []byte(`{}`)
	now := time.Now()
	header := webhooks.Sign(body, now, "whsec_new", "whsec_old")
	assert.Equal(t, 2, strings.Count(header, "v1="))
	assert.NoError(t, webhooks.Verify(body, header, "whsec_new", webhooks.DefaultTolerance))
	assert.NoError(t, webhooks.Verify(body, header, "whsec_old", webhooks.DefaultTolerance))
	assert.Error(t, webhooks.Verify(body, header, "whsec_other", webhooks.DefaultTolerance))
}

func TestSecretsAreSealedWithTheKeyAndOpenOnlyWithIt(t *testing.T) {
	secret, err := webhooks.NewSecret()
	require.NoError(t, err)
	assert.Regexp(t, `^whsec_[A-Za-z0-9_-]{43}$`, secret)

	keys, err := sealing.Parse("k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	require.NoError(t, err)
	box := webhooks.NewSecretBox(keys)
	sealed, err := box.Seal(secret)
	require.NoError(t, err)
	assert.NotContains(t, sealed, secret[6:], "the stored form does not show the secret")
	opened, err := box.Open(sealed)
	require.NoError(t, err)
	assert.Equal(t, secret, opened)

	otherKeys, err := sealing.Parse("k1:ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=")
	require.NoError(t, err)
	_, err = webhooks.NewSecretBox(otherKeys).Open(sealed)
	assert.ErrorContains(t, err, "does not open")
	_, err = box.Open(secret)
	assert.ErrorContains(t, err, "not a sealed value", "a secret stored in clear is refused, not used")
}

func TestEndpointURLsMustBePublicHTTPSUnlessTrusted(t *testing.T) {
	strict, err := webhooks.TrustTargets(nil)
	require.NoError(t, err)
	trusting, err := webhooks.TrustTargets([]string{"crm.internal", "10.1.0.0/16", "192.168.1.20"})
	require.NoError(t, err)
	cases := []struct {
		url      string
		strict   bool
		trusting bool
	}{
		{"https://crm.example.com/hooks", true, true},
		{"https://93.184.216.34/hooks", true, true},
		{"http://crm.example.com/hooks", false, false},
		{"ftp://crm.example.com/hooks", false, false},
		{"https://user:pw@crm.example.com/", false, false},
		{"/relative", false, false},
		{"https://127.0.0.1/hooks", false, false},
		{"https://localhost/hooks", false, false},
		{"https://169.254.169.254/latest/meta-data", false, false},
		{"https://[::1]/hooks", false, false},
		{"https://[fd00::1]/hooks", false, false},
		{"https://100.64.1.1/hooks", false, false},
		{"http://crm.internal/hooks", false, true},
		{"http://10.1.2.3:8080/hooks", false, true},
		{"https://10.2.0.1/hooks", false, false},
		{"http://192.168.1.20/hooks", false, true},
		{"https://crm.example.com/hooks#frag", false, false},
	}
	for _, c := range cases {
		_, err := strict.CheckURL(c.url)
		assert.Equal(t, c.strict, err == nil, "default policy, %s: %v", c.url, err)
		_, err = trusting.CheckURL(c.url)
		assert.Equal(t, c.trusting, err == nil, "trusting policy, %s: %v", c.url, err)
	}
	_, err = webhooks.AnyTarget().CheckURL("http://127.0.0.1:9999/x")
	assert.NoError(t, err, "development allows anything local")
	_, err = webhooks.TrustTargets([]string{"10.0.0.0/33"})
	assert.Error(t, err)
}

func TestTheClientRefusesPrivateAddressesAndFollowsNoRedirect(t *testing.T) {
	hits := 0
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()

	strict, err := webhooks.TrustTargets(nil)
	require.NoError(t, err)
	_, err = strict.Client().Post(receiver.URL, "application/json", strings.NewReader("{}"))
	assert.True(t, errors.Is(err, webhooks.ErrPrivateTarget), "a name or address inside the network is refused at dial time: %v", err)
	assert.Zero(t, hits)

	trusted, err := webhooks.TrustTargets([]string{"127.0.0.0/8"})
	require.NoError(t, err)
	resp, err := trusted.Client().Post(receiver.URL+"/moved", "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusFound, resp.StatusCode, "the redirect is the answer")
	assert.Equal(t, 1, hits)
}

func TestPublicAddresses(t *testing.T) {
	for addr, public := range map[string]bool{
		"8.8.8.8": true, "2606:4700::1111": true, "10.0.0.1": false, "172.16.5.4": false, "192.168.0.1": false,
		"127.0.0.1": false, "169.254.169.254": false, "0.0.0.0": false, "::ffff:10.0.0.1": false, "224.0.0.1": false,
		"::10.0.0.1": false, "::169.254.169.254": false, "64:ff9b:1::a00:1": false, "64:ff9b:1:ffff::1": false,
		"fec0::1": false, "feff::1": false, "64:ff9b:2::1": true,
	} {
		assert.Equal(t, public, webhooks.Public(netip.MustParseAddr(addr)), addr)
	}
}
