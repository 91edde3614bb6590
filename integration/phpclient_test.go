package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
)

// RequirePHPEnv=1 (CI) makes a missing php or phpunit a failure; elsewhere
// the PHP client's tests are skipped.
const RequirePHPEnv = "LICENSEFLOW_REQUIRE_PHP"

// phpunit finds Debian's phpunit (and php), or skips the test.
func phpunit(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"php", "phpunit"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv(RequirePHPEnv) == "1" {
				t.Fatalf("%s is required (%s=1) but not installed: apt-get install php-cli php-xml php-curl php-mbstring phpunit", tool, RequirePHPEnv)
			}
			t.Skipf("%s not installed (apt-get install php-cli php-xml php-curl php-mbstring phpunit); skipping the PHP client's tests", tool)
		}
	}
	path, _ := exec.LookPath("phpunit")
	return path
}

// TestPHPClientAgainstARealServer runs clients/php's PHPUnit suite against
// a whole licenseflow, with the licenses and release it needs.
func TestPHPClientAgainstARealServer(t *testing.T) {
	bin := phpunit(t)
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	_, dlid := issueLicense(t, s, `{"user_email":"site@example.com","tier":"pos","max_domains":2,"expires_months":12}`)
	secondID, secondDLID := issueLicense(t, s, `{"user_email":"second-site@example.com","tier":"pos","max_domains":2,"expires_months":12}`)
	pkg := []byte("pkg_pos-2.1.0.zip, as the PHP client downloads it")
	r := publish(t, s, "pos", "2.1.0", "stable", pkg)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	sum := sha256.Sum256(pkg)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	junit := filepath.Join(t.TempDir(), "junit.xml")
	cmd := exec.CommandContext(ctx, bin, "--configuration", "phpunit.xml.dist", "--log-junit", junit)
	cmd.Dir = filepath.Join("..", "clients", "php")
	cmd.Env = append(os.Environ(),
		"LICENSEFLOW_URL="+s.API.URL,
		"LICENSEFLOW_ADMIN_TOKEN="+s.Token,
		"LICENSEFLOW_DLID="+dlid,
		"LICENSEFLOW_SECOND_DLID="+secondDLID,
		"LICENSEFLOW_SECOND_ID="+secondID,
		"LICENSEFLOW_RELEASE=2.1.0",
		"LICENSEFLOW_RELEASE_SHA256="+hex.EncodeToString(sum[:]),
		"LICENSEFLOW_CACHE_DIR="+t.TempDir(),
		"LICENSEFLOW_UNREACHABLE_URL="+refusedURL(t),
		"LICENSEFLOW_GATEWAY_DOWN_URL="+gatewayDownURL(t),
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("phpunit failed (%v):\n%s", err, out)
	}
	t.Logf("phpunit:\n%s", out)

	// An exit code of 0 is also what a suite that ran nothing returns: the
	// JUnit log must show every test run, none skipped.
	raw, err := os.ReadFile(junit)
	require.NoError(t, err, "phpunit's JUnit log")
	var log struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Errors   int `xml:"errors,attr"`
			Skipped  int `xml:"skipped,attr"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(raw, &log))
	require.Len(t, log.Suites, 1)
	got := log.Suites[0]
	assert.Equal(t, phpClientTests, got.Tests, "PHPUnit tests run")
	assert.Zero(t, got.Failures+got.Errors+got.Skipped, "failed, errored or skipped")
}

// phpClientTests is how many tests clients/php's suite runs (data
// provider rows counted); a test added there is counted here too.
const phpClientTests = 61

// issueLicense buys a license and waits for its key, reading the API's JSON
// as a CRM would.
func issueLicense(t *testing.T, s *stack.Stack, order string) (id, dlid string) {
	t.Helper()
	r := s.Call(http.MethodPost, "/api/v1/licensing/licenses", order)
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
	var created map[string]any
	r.JSON(t, &created)
	id, _ = created["id"].(string)
	require.NotEmpty(t, id, string(r.Body))
	s.WaitIssued(id)
	var issued map[string]any
	s.Call(http.MethodGet, "/api/v1/licensing/licenses/"+id, nil).JSON(t, &issued)
	dlid, _ = issued["dlid"].(string)
	require.NotEmpty(t, dlid, "issued license has a key")
	return id, dlid
}

// refusedURL is a loopback address nothing listens on.
func refusedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return "http://" + addr
}

// gatewayDownURL is a reverse proxy in front of a licenseflow that is down,
// as a site sees an outage behind a load balancer: 502 Bad Gateway.
func gatewayDownURL(t *testing.T) string {
	t.Helper()
	upstream, err := url.Parse(refusedURL(t))
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	proxy.ErrorLog = log.New(io.Discard, "", 0) // every request fails by design
	gateway := httptest.NewServer(proxy)
	t.Cleanup(gateway.Close)
	return gateway.URL
}
