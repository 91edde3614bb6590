package siteapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/metrics"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/siteapi"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/usage"
	"github.com/licenseflow/licenseflow/workflows"
)

type loadResult struct {
	Requests  int     `json:"requests"`
	Errors    int     `json:"errors"`
	PerSecond float64 `json:"per_second"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
}

// BenchmarkValidation measures POST /api/v1/licenses/validate on
// PostgreSQL from a separate load process (cmd/loadgen) over loopback, next
// to a bare gin handler returning constant JSON, in the same run:
// closed-loop throughput, and p99 at a fixed 1,000 requests per second.
//
//	go test ./siteapi -run '^$' -bench Validation -benchtime 1x
func BenchmarkValidation(b *testing.B) {
	store := testsupport.Postgres(b)
	ctx := context.Background()
	tier, err := store.GetTier(ctx, "suite")
	if err != nil {
		b.Fatal(err)
	}
	_, l, _, err := store.RecordPurchase(ctx, models.Purchase{OrderID: "bench", Email: "bench@example.com", Tier: tier,
		MaxDomains: 10, Months: 12, WorkflowID: workflows.WorkflowID, PaidAt: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	exp := models.Instant(time.Now().AddDate(1, 0, 0))
	if l, err = store.MintLicense(ctx, models.Mint{LicenseID: l.ID, TierKey: "suite", MaxDomains: 10, StartsAt: time.Now(), ExpiresAt: &exp}); err != nil {
		b.Fatal(err)
	}
	if _, _, err := store.SetEntitlements(ctx, l.ID, "suite"); err != nil {
		b.Fatal(err)
	}
	if _, _, err := store.Activate(ctx, l.ID, "shop.example.com", time.Now()); err != nil {
		b.Fatal(err)
	}

	gin.SetMode(gin.ReleaseMode)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	recorder := usage.NewRecorder(store, quiet, 200*time.Millisecond)
	defer recorder.Close()
	m := metrics.New() // as in production: every request and validation is counted
	router := httpx.NewRouter(httpx.Options{Logger: quiet, Database: store, Requests: m})
	siteapi.Mount(router, siteapi.Deps{Store: store, Usage: recorder, SiteCacheTTL: 30 * time.Second,
		Staging: models.DefaultStagingRule(), Metrics: m})
	licenseflow := serve(b, router)
	bare := gin.New()
	bare.POST("/api/v1/licenses/validate", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"valid": true, "code": "VALID", "ts": "2026-01-01T00:00:00Z"})
	})
	baseline := serve(b, bare)

	loadgen := filepath.Join(b.TempDir(), "loadgen")
	if out, err := exec.Command("go", "build", "-o", loadgen, "github.com/licenseflow/licenseflow/cmd/loadgen").CombinedOutput(); err != nil {
		b.Fatalf("build loadgen: %v\n%s", err, out)
	}
	body := fmt.Sprintf(`{"dlid":%q,"domain":"shop.example.com","product":"MokoSuitePOS","nonce":"n"}`, l.Key())
	load := func(url string, rate int) loadResult {
		out, err := exec.Command(loadgen, "-url", url+"/api/v1/licenses/validate", "-body", body,
			"-rate", fmt.Sprint(rate), "-c", "32", "-d", "5s").Output()
		if err != nil {
			b.Fatalf("loadgen: %v", err)
		}
		var r loadResult
		if err := json.Unmarshal(out, &r); err != nil {
			b.Fatalf("loadgen output %s: %v", out, err)
		}
		if r.Errors > 0 {
			b.Fatalf("%d of %d requests failed", r.Errors, r.Requests)
		}
		return r
	}
	for range b.N {
		bareMax, lfMax := load(baseline, 0), load(licenseflow, 0)
		bareFixed, lfFixed := load(baseline, 1000), load(licenseflow, 1000)
		b.ReportMetric(lfMax.PerSecond, "validations/s")
		b.ReportMetric(bareMax.PerSecond, "bare/s")
		b.ReportMetric(lfMax.PerSecond/bareMax.PerSecond, "throughput-ratio")
		b.ReportMetric(lfMax.P99ms, "p99-ms-max-load")
		b.ReportMetric(lfFixed.P50ms, "p50-ms@1000/s")
		b.ReportMetric(lfFixed.P99ms, "p99-ms@1000/s")
		b.ReportMetric(bareFixed.P99ms, "bare-p99-ms@1000/s")
	}
}

// serve runs h on a loopback port until the benchmark ends.
func serve(b *testing.B, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}
