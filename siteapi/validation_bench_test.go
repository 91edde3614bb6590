package siteapi_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/siteload"
	"github.com/licenseflow/licenseflow/workflows"
)

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

	load := siteload.Start(b, store)
	body := fmt.Sprintf(`{"dlid":%q,"domain":"shop.example.com","product":"MokoSuitePOS","nonce":"n"}`, l.Key())
	for range b.N {
		bareMax, lfMax := load.Bare(0, body), load.Licenseflow(0, body)
		bareFixed, lfFixed := load.Bare(1000, body), load.Licenseflow(1000, body)
		b.ReportMetric(lfMax.PerSecond, "validations/s")
		b.ReportMetric(bareMax.PerSecond, "bare/s")
		b.ReportMetric(lfMax.PerSecond/bareMax.PerSecond, "throughput-ratio")
		b.ReportMetric(lfMax.P99ms, "p99-ms-max-load")
		b.ReportMetric(lfFixed.P50ms, "p50-ms@1000/s")
		b.ReportMetric(lfFixed.P99ms, "p99-ms@1000/s")
		b.ReportMetric(bareFixed.P99ms, "bare-p99-ms@1000/s")
	}
}
