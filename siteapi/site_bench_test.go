package siteapi_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

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
						compareWithBare(b,
							func(rate int, d time.Duration) siteload.Result { return load(baseline, rate, d) },
							func(rate int, d time.Duration) siteload.Result { return load(licenseflow, rate, d) })
					}
				})
			}
		})
	}
}

// compareWithBare runs the bare handler's load and licenseflow's in
// alternating short closed-loop rounds, so both see the same share of
// whatever else the machine runs, then each at siteBenchRate, and reports
// licenseflow's throughput ratio and latencies beside the bare handler's.
func compareWithBare(b *testing.B, bare, licenseflow func(rate int, d time.Duration) siteload.Result) {
	var bareMax, lfMax float64
	for range closedLoopRounds {
		bareMax += bare(0, 2*time.Second).PerSecond / closedLoopRounds
		lfMax += licenseflow(0, 2*time.Second).PerSecond / closedLoopRounds
	}
	bareFixed, lfFixed := bare(siteBenchRate, 5*time.Second), licenseflow(siteBenchRate, 5*time.Second)
	b.ReportMetric(lfMax/bareMax, "ratio")
	b.ReportMetric(lfFixed.P99ms, "p99_ms")
	b.ReportMetric(lfMax, "req/s")
	b.ReportMetric(bareMax, "bare_req/s")
	b.ReportMetric(bareFixed.P99ms, "bare_p99_ms")
	b.ReportMetric(lfFixed.P50ms, "p50_ms")
}

// siteBenchServer serves the site-facing API as production wires it (request
// metrics, usage recording, the key cache) over st, with one active license
// on one domain; it returns the address and the body a site of that
// license sends.
func siteBenchServer(b *testing.B, st *store.Store) (url, body string) {
	l := benchLicense(b, st)
	return siteload.SiteAPI(b, st, testsupport.SecretKeys(b)), fmt.Sprintf(`{"dlid":%q,"domain":"shop.example.com","product":"MokoSuitePOS","nonce":"n"}`, l.Key())
}

// benchLicense buys, mints and activates (on shop.example.com) a suite
// license through the store.
func benchLicense(b *testing.B, st *store.Store) models.License {
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
	return l
}

// coldKeysEnv sets how many licenses BenchmarkColdKeyValidation creates.
const coldKeysEnv = "LICENSEFLOW_BENCH_COLD_KEYS"

// BenchmarkColdKeyValidation measures validation as production mostly sees
// it: a site validates about once a day, so nearly every request is the
// first for its key in the cache's lifetime and carries a fresh nonce. It
// creates 100,000 licenses (LICENSEFLOW_BENCH_COLD_KEYS), each with its
// tier's entitlements and one active domain, and asks about each key at
// most once across the whole run, against the bare gin handler in the same
// run (closed-loop throughput ratio, then p99 at 2,000 requests/s).
//
//	go test ./siteapi -run '^$' -bench ColdKeyValidation -benchtime 1x -timeout 30m
func BenchmarkColdKeyValidation(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv(coldKeysEnv)); err == nil && v > 0 {
		n = v
	}
	loadgen := siteload.BuildLoadgen(b)
	baseline := siteload.Bare(b, "validate")
	for _, backend := range testsupport.Backends {
		b.Run(backend.Name, func(b *testing.B) {
			st := backend.Open(b)
			bodies := seedColdKeys(b, st, n)
			licenseflow := siteload.SiteAPI(b, st, testsupport.SecretKeys(b))
			unused := bodies
			// cold runs a load over keys never asked before.
			cold := func(rate int, d time.Duration) siteload.Result {
				r := loadgen.Run(siteload.Load{URL: licenseflow + siteload.CallPath("validate"), Bodies: unused, Seq: "SEQ",
					Rate: rate, Duration: d, Warmup: 500 * time.Millisecond})
				if r.Sent > len(unused) {
					b.Fatalf("%d requests, %d keys never asked: raise %s", r.Sent, len(unused), coldKeysEnv)
				}
				unused = unused[r.Sent:]
				return r
			}
			bare := func(rate int, d time.Duration) siteload.Result {
				return loadgen.Run(siteload.Load{URL: baseline + siteload.CallPath("validate"), Body: bodies[0],
					Rate: rate, Duration: d, Warmup: 500 * time.Millisecond})
			}
			for range b.N {
				compareWithBare(b, bare, cold)
				b.ReportMetric(float64(len(bodies)-len(unused)), "keys_asked")
			}
		})
	}
}

// seedColdKeys creates n active licenses like one bought through the
// store (its rows copied in bulk: buying 100,000 one by one would take the
// benchmark's time), each with one active domain seen a day ago, and
// returns the validation body each one's site sends, in a shuffled order.
func seedColdKeys(b *testing.B, st *store.Store, n int) []string {
	b.Helper()
	ctx := context.Background()
	l := benchLicense(b, st)
	var ents []models.Entitlement
	var act models.Activation
	db := st.DB().WithContext(ctx)
	if err := db.Find(&ents, "license_id = ?", l.ID).Error; err != nil {
		b.Fatal(err)
	}
	if err := db.First(&act, "license_id = ?", l.ID).Error; err != nil {
		b.Fatal(err)
	}
	const batch = 500
	seen := time.Now().Add(-24 * time.Hour)
	bodies := make([]string, 0, n)
	for start := 0; start < n; start += batch {
		var licenses []models.License
		var entitlements []models.Entitlement
		var activations []models.Activation
		for i := start; i < min(start+batch, n); i++ {
			id, dlid, domain := fmt.Sprintf("cold-%d", i), fmt.Sprintf("%032x", i+1), fmt.Sprintf("site-%d.example.com", i)
			c := l
			c.ID, c.DLID, c.OrderID, c.WorkflowID, c.Customer = id, &dlid, id, models.LicenseWorkflowID(id), models.Customer{}
			licenses = append(licenses, c)
			for _, e := range ents {
				e.ID, e.LicenseID = 0, id
				entitlements = append(entitlements, e)
			}
			a := act
			a.ID, a.LicenseID, a.Domain, a.FirstSeen, a.LastSeen = 0, id, domain, seen, seen
			activations = append(activations, a)
			bodies = append(bodies, fmt.Sprintf(`{"dlid":%q,"domain":%q,"product":"MokoSuitePOS","nonce":"n-SEQ"}`, dlid, domain))
		}
		err := db.Transaction(func(tx *gorm.DB) error {
			return errors.Join(tx.Create(&licenses).Error, tx.CreateInBatches(&entitlements, batch).Error, tx.Create(&activations).Error)
		})
		if err != nil {
			b.Fatalf("seed licenses %d..: %v", start, err)
		}
	}
	rand.Shuffle(len(bodies), func(i, j int) { bodies[i], bodies[j] = bodies[j], bodies[i] })
	return bodies
}
