package siteapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/siteload"
)

const (
	// siteBenchRate is the fixed request rate at which p99 is measured.
	siteBenchRate = 2000
	// closedLoopRounds alternate the bare handler and licenseflow.
	closedLoopRounds = 3
)

// BenchmarkSiteAPI measures the calls installed sites make most,
// validation and heartbeat, on PostgreSQL and on SQLite (as dev mode opens
// it), from a separate load process (cmd/loadgen) over loopback, next to a
// bare gin handler returning constant JSON in the same run: closed-loop
// throughput as a ratio to the bare handler, and p99 at a fixed 2,000
// requests per second. Sites repeating the same request within a second
// get the same signed bytes (see signer); validate_fresh_nonces measures
// sites sending a new nonce every time.
//
//	go test ./siteapi -run '^$' -bench SiteAPI -benchtime 1x
//
// Add -cpuprofile cpu.out to profile the server (the load runs elsewhere).
func BenchmarkSiteAPI(b *testing.B) {
	loadgen := siteload.BuildLoadgen(b)
	baseline := siteload.Bare(b, "validate", "heartbeat")
	for _, backend := range testsupport.Backends {
		b.Run(backend.Name, func(b *testing.B) {
			licenseflow, body := siteBenchServer(b, backend.Open(b))
			for _, bench := range []struct{ name, call, body string }{
				{"validate", "validate", body},
				{"heartbeat", "heartbeat", body},
				// Sites that send a fresh nonce get an answer signed anew
				// every time: no two answers are the same bytes.
				{"validate_fresh_nonces", "validate", strings.Replace(body, `"nonce":"n"`, `"nonce":"n-SEQ"`, 1)},
			} {
				b.Run(bench.name, func(b *testing.B) {
					load := func(url string, rate int, d time.Duration) siteload.Result {
						return loadgen.Run(siteload.Load{URL: url + siteload.CallPath(bench.call), Body: bench.body, Seq: "SEQ",
							Rate: rate, Duration: d, Warmup: 500 * time.Millisecond})
					}
					for range b.N {
						// Closed loop in alternating short rounds, so both sides
						// see the same share of whatever else the machine runs.
						var bareMax, lfMax float64
						for range closedLoopRounds {
							bareMax += load(baseline, 0, 2*time.Second).PerSecond / closedLoopRounds
							lfMax += load(licenseflow, 0, 2*time.Second).PerSecond / closedLoopRounds
						}
						bareFixed, lfFixed := load(baseline, siteBenchRate, 5*time.Second), load(licenseflow, siteBenchRate, 5*time.Second)
						b.ReportMetric(lfMax/bareMax, "ratio")
						b.ReportMetric(lfFixed.P99ms, "p99_ms")
						b.ReportMetric(lfMax, "req/s")
						b.ReportMetric(bareMax, "bare_req/s")
						b.ReportMetric(bareFixed.P99ms, "bare_p99_ms")
						b.ReportMetric(lfFixed.P50ms, "p50_ms")
					}
				})
			}
		})
	}
}

// siteBenchServer serves the site-facing API as production wires it (request
// metrics, usage recording, the key cache) over st, with one active license
// on one domain; it returns the address and the body a site of that
// license sends.
func siteBenchServer(b *testing.B, st *store.Store) (url, body string) {
	ctx := context.Background()
	tier, err := st.GetTier(ctx, "suite")
	if err != nil {
		b.Fatal(err)
	}
	_, l, _, err := st.RecordPurchase(ctx, models.Purchase{OrderID: "bench", Email: "bench@example.com", Tier: tier,
		MaxDomains: 10, Months: 12, PaidAt: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	exp := models.Instant(time.Now().AddDate(1, 0, 0))
	if l, err = st.MintLicense(ctx, models.Mint{LicenseID: l.ID, TierKey: "suite", MaxDomains: 10, StartsAt: time.Now(), ExpiresAt: &exp}); err != nil {
		b.Fatal(err)
	}
	if _, _, err := st.SetEntitlements(ctx, l.ID, "suite"); err != nil {
		b.Fatal(err)
	}
	if _, _, err := st.Activate(ctx, l.ID, "shop.example.com", time.Now()); err != nil {
		b.Fatal(err)
	}
	return siteload.SiteAPI(b, st), fmt.Sprintf(`{"dlid":%q,"domain":"shop.example.com","product":"MokoSuitePOS","nonce":"n"}`, l.Key())
}
