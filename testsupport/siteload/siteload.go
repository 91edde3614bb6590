// Package siteload drives the calls installed sites make, served as
// production wires them, with the load generator cmd/loadgen running in a
// process of its own, next to a bare gin handler driven the same way in the
// same run: the one harness of every benchmark that reports site-facing
// figures.
package siteload

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/metrics"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/sealing"
	"github.com/licenseflow/licenseflow/siteapi"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/usage"
)

// CallPath is the URL path of a site call ("validate", "heartbeat", …).
func CallPath(call string) string { return "/api/v1/licenses/" + call }

// Result is what cmd/loadgen reports for one run.
type Result struct {
	Requests int `json:"requests"`
	// Sent counts the warm-up's requests too: how many Bodies were used.
	Sent      int     `json:"sent"`
	Errors    int     `json:"errors"`
	PerSecond float64 `json:"per_second"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
}

// Load is one run of the load generator.
type Load struct {
	URL string
	// Body is sent with every request, or Bodies in turn when given.
	Body   string
	Bodies []string
	// Seq, when set, is replaced in the body by a number unique to each
	// request (a fresh nonce).
	Seq string
	// Rate is requests per second; 0 runs closed loop (32 connections).
	Rate int
	// Duration is measured after an untimed Warmup (loadgen's default
	// of one second when zero).
	Duration, Warmup time.Duration
}

// Loadgen is cmd/loadgen, built for one benchmark.
type Loadgen struct {
	tb   testing.TB
	path string
}

// BuildLoadgen builds cmd/loadgen into the benchmark's temporary directory.
func BuildLoadgen(tb testing.TB) *Loadgen {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "loadgen")
	if out, err := exec.Command("go", "build", "-o", path, "github.com/licenseflow/licenseflow/cmd/loadgen").CombinedOutput(); err != nil {
		tb.Fatalf("build loadgen: %v\n%s", err, out)
	}
	return &Loadgen{tb: tb, path: path}
}

// Run runs one load and fails the benchmark on any 5xx or transport error.
func (l *Loadgen) Run(load Load) Result {
	l.tb.Helper()
	args := []string{"-url", load.URL, "-rate", fmt.Sprint(load.Rate), "-c", "32", "-d", load.Duration.String()}
	if load.Warmup > 0 {
		args = append(args, "-warmup", load.Warmup.String())
	}
	if load.Seq != "" {
		args = append(args, "-seq", load.Seq)
	}
	if len(load.Bodies) > 0 {
		file := filepath.Join(l.tb.TempDir(), "bodies")
		if err := os.WriteFile(file, []byte(strings.Join(load.Bodies, "\n")), 0o600); err != nil {
			l.tb.Fatal(err)
		}
		args = append(args, "-bodies", file)
	} else {
		args = append(args, "-body", load.Body)
	}
	out, err := exec.Command(l.path, args...).Output()
	if err != nil {
		l.tb.Fatalf("loadgen: %v", err)
	}
	var r Result
	if err := json.Unmarshal(out, &r); err != nil {
		l.tb.Fatalf("loadgen output %s: %v", out, err)
	}
	if r.Errors > 0 {
		l.tb.Fatalf("%d of %d requests to %s failed", r.Errors, r.Requests, load.URL)
	}
	return r
}

// SiteAPI serves the site-facing API over st as production wires it
// (request metrics, usage recording, batched last-seen times, the key
// cache) until the benchmark ends, and returns its URL. keys open the
// signing key stored in st: those of the stack that made it, or a fresh
// keyring for a store whose first site call makes it.
func SiteAPI(tb testing.TB, st *store.Store, keys *sealing.Keyring) string {
	tb.Helper()
	gin.SetMode(gin.ReleaseMode)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	recorder := usage.NewRecorder(st, quiet, time.Second) // as in production
	tb.Cleanup(recorder.Close)
	lastSeen := usage.NewLastSeen(st, quiet, usage.LastSeenOptions{Interval: usage.DefaultLastSeenInterval})
	tb.Cleanup(lastSeen.Close)
	m := metrics.New() // as in production: every request and validation is counted
	router := httpx.NewRouter(httpx.Options{Logger: quiet, Database: st, Requests: m})
	siteapi.Mount(router, siteapi.Deps{Store: st, Keys: keys, Usage: recorder, SiteCacheTTL: 30 * time.Second,
		Staging: models.DefaultStagingRule(), Metrics: m, LastSeen: lastSeen, DomainSilence: 30 * 24 * time.Hour})
	return Serve(tb, router)
}

// Bare serves a bare gin handler answering constant JSON to each call
// until the benchmark ends, and returns its URL: the baseline.
func Bare(tb testing.TB, calls ...string) string {
	tb.Helper()
	gin.SetMode(gin.ReleaseMode)
	bare := gin.New()
	for _, call := range calls {
		bare.POST(CallPath(call), func(c *gin.Context) {
			c.JSON(http.StatusOK, gin.H{"valid": true, "code": "VALID", "ts": "2026-01-01T00:00:00Z"})
		})
	}
	return Serve(tb, bare)
}

// Serve runs h on a loopback port until the benchmark ends.
func Serve(tb testing.TB, h http.Handler) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}
