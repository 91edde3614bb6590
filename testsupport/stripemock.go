package testsupport

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// RequireStripeMockEnv=1 (set in CI) turns a missing stripe-mock binary from
// a skip into a failure.
const RequireStripeMockEnv = "LICENSEFLOW_REQUIRE_STRIPE_MOCK"

// StripeMock is a running stripe-mock (Stripe's API mock, validating every
// request against Stripe's OpenAPI spec) behind a proxy that records the
// requests, so tests can check what licenseflow asked Stripe for.
type StripeMock struct {
	URL string

	mu       sync.Mutex
	requests []StripeRequest
}

// StripeRequest is one request sent to the mock.
type StripeRequest struct {
	Method string
	Path   string
	Form   url.Values
}

// StartStripeMock runs stripe-mock for the test's lifetime. The binary comes
// from PATH or $(go env GOPATH)/bin (go install github.com/stripe/stripe-mock@latest).
func StartStripeMock(t testing.TB) *StripeMock {
	t.Helper()
	bin, err := exec.LookPath("stripe-mock")
	if err != nil {
		gopath := os.Getenv("GOPATH")
		if gopath == "" {
			home, _ := os.UserHomeDir()
			gopath = filepath.Join(home, "go")
		}
		bin = filepath.Join(gopath, "bin", "stripe-mock")
		if _, statErr := os.Stat(bin); statErr != nil {
			if os.Getenv(RequireStripeMockEnv) == "1" {
				t.Fatalf("stripe-mock is required (%s=1) but not installed: go install github.com/stripe/stripe-mock@latest", RequireStripeMockEnv)
			}
			t.Skip("stripe-mock not installed: go install github.com/stripe/stripe-mock@latest")
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	var output bytes.Buffer
	cmd := exec.Command(bin, "-http-addr", addr)
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		t.Fatalf("start stripe-mock: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	// stripe-mock reads Stripe's whole OpenAPI document before it listens:
	// seconds of CPU, many more on a loaded 2-core machine running other
	// tests. So it is waited for until it listens or exits, and only a
	// bound far beyond that gives up.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			_ = c.Close()
			break
		}
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("stripe-mock exited before it listened on %s (%v): %s", addr, err, output.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("stripe-mock did not listen on %s within 2 minutes", addr)
		}
	}
	target, _ := url.Parse("http://" + addr)
	m := &StripeMock{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		m.mu.Lock()
		m.requests = append(m.requests, StripeRequest{Method: r.Method, Path: r.URL.Path, Form: form})
		m.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	m.URL = srv.URL
	return m
}

// Requests returns the requests to path so far.
func (m *StripeMock) Requests(method, path string) []StripeRequest {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []StripeRequest
	for _, r := range m.requests {
		if r.Method == method && r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func (r StripeRequest) String() string { return fmt.Sprintf("%s %s %v", r.Method, r.Path, r.Form) }
