// Package siteload measures licenseflow's validation endpoint, as
// production mounts it, from the load generator cmd/loadgen running in a
// process of its own, next to a bare gin handler measured the same way in
// the same run, for the benchmarks that report validation figures.
package siteload

import (
	"context"
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
	"github.com/licenseflow/licenseflow/siteapi"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/usage"
)

// Result is what cmd/loadgen reports for one run.
type Result struct {
	Requests  int     `json:"requests"`
	Errors    int     `json:"errors"`
	PerSecond float64 `json:"per_second"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
}

// Duration of each measured run, after loadgen's one-second warm-up.
const Duration = 5 * time.Second

// ValidatePath is the endpoint measured.
const ValidatePath = "/api/v1/licenses/validate"

// Bench serves the site API on a store and a bare gin handler on loopback
// until the benchmark ends, and drives them with a freshly built loadgen.
type Bench struct {
	tb          testing.TB
	loadgen     string
	licenseflow string
	bare        string
}

// Start serves siteapi on store with usage recording and metrics, as in
// production, and builds cmd/loadgen.
func Start(tb testing.TB, store *store.Store) *Bench {
	tb.Helper()
	gin.SetMode(gin.ReleaseMode)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	recorder := usage.NewRecorder(store, quiet, 200*time.Millisecond)
	tb.Cleanup(recorder.Close)
	m := metrics.New() // every request and validation is counted
	router := httpx.NewRouter(httpx.Options{Logger: quiet, Database: store, Requests: m})
	siteapi.Mount(router, siteapi.Deps{Store: store, Usage: recorder, SiteCacheTTL: 30 * time.Second,
		Staging: models.DefaultStagingRule(), Metrics: m})
	bare := gin.New()
	bare.POST(ValidatePath, func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"valid": true, "code": "VALID", "ts": "2026-01-01T00:00:00Z"})
	})
	loadgen := filepath.Join(tb.TempDir(), "loadgen")
	if out, err := exec.Command("go", "build", "-o", loadgen, "github.com/licenseflow/licenseflow/cmd/loadgen").CombinedOutput(); err != nil {
		tb.Fatalf("build loadgen: %v\n%s", err, out)
	}
	return &Bench{tb: tb, loadgen: loadgen, licenseflow: serve(tb, router), bare: serve(tb, bare)}
}

// ValidationBody asks whether key may use product (no domain given).
func ValidationBody(key, product string) string {
	return fmt.Sprintf(`{"dlid":%q,"product":%q,"nonce":"n"}`, key, product)
}

// Licenseflow validates bodies in turn, rate requests per second (0: as
// fast as 32 connections go), failing the benchmark on any 5xx.
func (b *Bench) Licenseflow(rate int, bodies ...string) Result {
	b.tb.Helper()
	file := filepath.Join(b.tb.TempDir(), "bodies")
	if err := os.WriteFile(file, []byte(strings.Join(bodies, "\n")), 0o600); err != nil {
		b.tb.Fatal(err)
	}
	return b.run(b.licenseflow, rate, "-bodies", file)
}

// Bare sends body to the bare gin handler the same way.
func (b *Bench) Bare(rate int, body string) Result {
	b.tb.Helper()
	return b.run(b.bare, rate, "-body", body)
}

func (b *Bench) run(base string, rate int, bodyArgs ...string) Result {
	b.tb.Helper()
	args := append([]string{"-url", base + ValidatePath, "-rate", fmt.Sprint(rate), "-c", "32", "-d", Duration.String()}, bodyArgs...)
	out, err := exec.CommandContext(context.Background(), b.loadgen, args...).Output()
	if err != nil {
		b.tb.Fatalf("loadgen: %v", err)
	}
	var r Result
	if err := json.Unmarshal(out, &r); err != nil {
		b.tb.Fatalf("loadgen output %s: %v", out, err)
	}
	if r.Errors > 0 {
		b.tb.Fatalf("%d of %d requests failed", r.Errors, r.Requests)
	}
	return r
}

// serve runs h on a loopback port until the benchmark ends.
func serve(tb testing.TB, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}
