package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licenseflow/licenseflow/activities"
	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/siteapi"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/siteload"
	"github.com/licenseflow/licenseflow/testsupport/stack"
	"github.com/licenseflow/licenseflow/worker"
)

// scaleBackends are the two ways the scale benchmarks run licenseflow:
// `licenseflow dev` as shipped (embedded Temporal server and application
// data on SQLite files), and the same process with both on PostgreSQL, as
// a real Temporal cluster and the production database would persist. Both
// keep the workflow caches dev mode keeps by default.
var scaleBackends = []struct {
	name  string
	start func(b *testing.B) *stack.Stack
}{
	{"sqlite", func(b *testing.B) *stack.Stack {
		worker.SetWorkflowCache(worker.DefaultWorkflowCache)
		return stack.Start(b, testsupport.SQLiteAt(b, filepath.Join(b.TempDir(), "licenseflow.db")),
			stack.Options{Embedded: true, HistoryCacheSize: worker.DefaultWorkflowCache})
	}},
	{"postgres", func(b *testing.B) *stack.Stack {
		worker.SetWorkflowCache(worker.DefaultWorkflowCache)
		temporalDB := testsupport.PostgresDatabaseURL(b) // dropped after the stack stops
		return stack.Start(b, testsupport.Postgres(b),
			stack.Options{Embedded: true, TemporalPostgresURL: temporalDB, HistoryCacheSize: worker.DefaultWorkflowCache})
	}},
}

// scaleTier is what the scale benchmarks' licenses are bought on, and
// scaleProduct one of its products, asked for in validations.
const scaleTier, scaleProduct = "pos", "MokoSuitePOS"

// BenchmarkTenThousandLicenses buys 10,000 licenses through the API (the
// CRM's "order completed" call, 20 at a time) and reports how fast they
// are all issued (key and invoice emailed), the memory of the process
// (which holds the Temporal server, the worker and the API, as in dev mode),
// and whether validation slows down with 10,000 licenses in the store and
// the site cache: its throughput against a bare gin handler, measured
// with one license, then with all 10,000 keys in turn (each key about once
// in a run, so mostly cache misses), then with the first key again among
// the 10,000. Run it with
//
//	go test ./integration -run '^$' -bench TenThousandLicenses -benchtime 1x -timeout 90m
func BenchmarkTenThousandLicenses(b *testing.B) {
	for _, backend := range scaleBackends {
		b.Run(backend.name, func(b *testing.B) {
			const licenses, concurrency = 10_000, 20
			s := backend.start(b)
			load := validationLoad{loadgen: siteload.BuildLoadgen(b), site: siteload.SiteAPI(b, s.Store, s.Keys), bare: siteload.Bare(b, "validate")}
			firstBought, _ := buyScaleLicenses(b, s, "first", 1, 1)
			first := firstBought[0]
			firstBody := validationBody(s.WaitIssued(first.ID).DLID)
			requireValid(b, s, firstBody)
			oneLicense := load.ratio(firstBody)
			memOne := readProcessMemory(b)

			for round := range b.N {
				start := time.Now()
				issuedBefore := countEmails(b, s.Store, activities.TemplateInvoice)
				_, retries := buyScaleLicenses(b, s, fmt.Sprint("r", round), licenses-1, concurrency)
				waitEmails(b, s.Store, activities.TemplateInvoice, issuedBefore+licenses-1, "issued licenses", time.Hour)
				rate := float64(licenses-1) / time.Since(start).Seconds()
				mem := readProcessMemory(b)

				bodies := make([]string, 0, licenses)
				for _, key := range licenseKeys(b, s.Store) {
					bodies = append(bodies, validationBody(key))
				}
				requireValid(b, s, bodies[len(bodies)-1])
				all := load.ratio(bodies...)
				sameKey := load.ratio(firstBody) // the 1-license figure's key, now among 10,000

				b.ReportMetric(rate, "licenses/s")
				b.ReportMetric(float64(retries), "purchases-sent-again")
				b.ReportMetric(mem.rssMB, "rss-MB")
				b.ReportMetric(mem.rssAnonMB, "rss-anon-MB")
				b.ReportMetric(mem.goHeapInuseMB, "go-heap-inuse-MB")
				b.ReportMetric(mem.rssMB-memOne.rssMB, "rss-growth-MB")
				b.ReportMetric(mem.goHeapInuseMB-memOne.goHeapInuseMB, "go-heap-growth-MB")
				b.ReportMetric(oneLicense.ratio, "validation-ratio-1-license")
				b.ReportMetric(all.ratio, "validation-ratio-10k-licenses")
				b.ReportMetric(all.ratio/oneLicense.ratio, "validation-10k-vs-1")
				b.ReportMetric(sameKey.ratio, "validation-ratio-1-key-of-10k")
				b.ReportMetric(all.perSecond, "validations/s-10k")
				b.Logf("%s: %d licenses at %.1f/s; memory after GC with 1 license: %s; with %d: %s; "+
					"validation vs bare gin: %.3f (%.0f/s vs %.0f/s) with 1 license, %.3f (%.0f/s vs %.0f/s) with %d keys in turn",
					backend.name, licenses, rate, memOne, licenses, mem,
					oneLicense.ratio, oneLicense.perSecond, oneLicense.barePerSecond,
					all.ratio, all.perSecond, all.barePerSecond, len(bodies))
			}
		})
	}
}

// stormSizeEnv sets how many licenses BenchmarkTimerStorm makes due at once.
const stormSizeEnv = "LICENSEFLOW_BENCH_STORM"

// BenchmarkTimerStorm makes the 30-day reminders of 1,000 licenses
// (LICENSEFLOW_BENCH_STORM) due at the same second and reports how long
// after it the last of their emails is in the outbox, and the p50/p99
// lateness of all of them. The
// licenses are bought through the API; their expiry is then corrected
// (PATCH expires_at, as an operator would) to 30 days after an instant a
// few seconds past the last correction, so every workflow's timer is set
// on the same absolute deadline. It fails when a reminder is missing or
// sent twice. Run it with
//
//	go test ./integration -run '^$' -bench TimerStorm -benchtime 1x -timeout 30m
func BenchmarkTimerStorm(b *testing.B) {
	licenses := 1_000
	if n, err := strconv.Atoi(os.Getenv(stormSizeEnv)); err == nil && n > 0 {
		licenses = n
	}
	// The target's budget: 10,000 reminders within 5 minutes, i.e.
	// 30 ms a reminder, and never under the first storms' minute.
	budget := max(time.Minute, time.Duration(licenses)*30*time.Millisecond)
	for _, backend := range scaleBackends {
		b.Run(backend.name, func(b *testing.B) {
			const concurrency = 20
			s := backend.start(b)
			for round := range b.N {
				start := time.Now()
				issuedBefore := countEmails(b, s.Store, activities.TemplateInvoice)
				bought, retries := buyScaleLicenses(b, s, fmt.Sprint("storm", round), licenses, concurrency)
				waitEmails(b, s.Store, activities.TemplateInvoice, issuedBefore+licenses, "issued licenses", 30*time.Minute)
				issuing := time.Since(start)

				// A correction is lighter than a purchase, so half the issuing
				// time plus a margin is ample for all of them; a run where it
				// was not is refused rather than measured.
				due := time.Now().Add(issuing/2 + 10*time.Second).Truncate(time.Second).Add(time.Second)
				body := fmt.Sprintf(`{"expires_at":%q,"reason":"timer storm"}`, due.Add(30*24*time.Hour).UTC().Format(time.RFC3339))
				measure(licenses, concurrency, func(i int) time.Duration {
					r, err := s.Send(s.Token, http.MethodPatch, "/api/v1/licensing/licenses/"+bought[i].ID, body)
					if err != nil || r.Status != http.StatusOK {
						b.Errorf("correct %s: %v %d %s", bought[i].ID, err, r.Status, r.Body)
					}
					return 0
				})
				if b.Failed() {
					b.FailNow()
				}
				if corrected := time.Now(); !corrected.Before(due) {
					b.Fatalf("the corrections ended %s after the due instant; the storm was not simultaneous", corrected.Sub(due))
				}

				stopProfile := startCPUProfile(b, os.Getenv("LICENSEFLOW_BENCH_CPU_PROFILE"), due)
				lateness := waitReminders(b, s.Store, bought, due, max(5*time.Minute, 2*budget))
				stopProfile()
				all := lateness[len(lateness)-1]
				b.ReportMetric(all.Seconds(), "seconds-to-all")
				b.ReportMetric(ms(lateness[len(lateness)/2]), "p50-late-ms")
				b.ReportMetric(ms(lateness[len(lateness)*99/100]), "p99-late-ms")
				b.ReportMetric(float64(licenses)/all.Seconds(), "reminders/s")
				b.ReportMetric(float64(retries), "purchases-sent-again")
				b.Logf("%s: %d reminders due at %s, all in the outbox %.1fs later (p50 %s, p99 %s late); issuing took %s",
					backend.name, licenses, due.Format(time.TimeOnly), all.Seconds(),
					lateness[len(lateness)/2].Round(time.Millisecond), lateness[len(lateness)*99/100].Round(time.Millisecond), issuing.Round(time.Second))
				if all >= budget {
					b.Logf("OVER BUDGET: the last reminder went out %.1fs after the due instant (budget %s)", all.Seconds(), budget)
				}
			}
		})
	}
}

// buyScaleLicenses posts n purchases, concurrency at a time, and returns
// the licenses the API answered with (issuing goes on in the background)
// and how many purchases were sent again. Like a CRM, it sends a purchase
// answered 503 (Temporal overloaded, the order recorded) again with the
// same order id, as the answer asks, a few times.
func buyScaleLicenses(b *testing.B, s *stack.Stack, batch string, n, concurrency int) ([]api.LicenseView, int) {
	b.Helper()
	const attempts = 10
	bought := make([]api.LicenseView, n)
	var retries atomic.Int64
	measure(n, concurrency, func(i int) time.Duration {
		body := fmt.Sprintf(`{"user_email":"scale-%s-%d@example.com","order_id":"scale-%s-%d","tier":%q,"max_domains":3,"expires_months":12}`,
			batch, i, batch, i, scaleTier)
		for attempt := 1; ; attempt++ {
			r, err := s.Send(s.Token, http.MethodPost, "/api/v1/licensing/licenses", body)
			switch {
			case err == nil && (r.Status == http.StatusAccepted || r.Status == http.StatusOK):
				r.JSON(b, &bought[i])
				return 0
			case err == nil && r.Status == http.StatusServiceUnavailable && attempt < attempts:
				retries.Add(1)
				time.Sleep(time.Second)
			default:
				b.Errorf("purchase %d, attempt %d: %v %d %s", i, attempt, err, r.Status, r.Body)
				return 0
			}
		}
	})
	if b.Failed() {
		b.FailNow()
	}
	return bought, int(retries.Load())
}

func countEmails(b *testing.B, st *store.Store, template string) int {
	b.Helper()
	var n int64
	if err := st.DB().Model(&models.EmailMessage{}).Where("template = ?", template).Count(&n).Error; err != nil {
		b.Fatal(err)
	}
	return int(n)
}

// waitEmails waits until the outbox holds want messages of template,
// logging progress every half minute.
func waitEmails(b *testing.B, st *store.Store, template string, want int, what string, timeout time.Duration) {
	b.Helper()
	start := time.Now()
	lastLog := start
	for {
		got := countEmails(b, st, template)
		switch {
		case got >= want:
			return
		case time.Since(start) > timeout:
			b.Fatalf("after %s only %d of %d %s", timeout, got, want, what)
		case time.Since(lastLog) > 30*time.Second:
			b.Logf("%d of %d %s after %s", got, want, what, time.Since(start).Round(time.Second))
			lastLog = time.Now()
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// waitReminders waits until every license has its 30-day reminder in the
// outbox, fails on a missing or duplicated one, and returns how late each
// was recorded after due, sorted.
func waitReminders(b *testing.B, st *store.Store, bought []api.LicenseView, due time.Time, timeout time.Duration) []time.Duration {
	b.Helper()
	ids := make([]string, len(bought))
	for i, l := range bought {
		ids[i] = l.ID
	}
	deadline := due.Add(timeout)
	var msgs []models.EmailMessage
	for {
		msgs = msgs[:0]
		if err := st.DB().Where("template = ? AND license_id IN ?", activities.TemplateReminder30, ids).Find(&msgs).Error; err != nil {
			b.Fatal(err)
		}
		if len(msgs) >= len(ids) || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	perLicense := map[string]int{}
	lateness := make([]time.Duration, 0, len(msgs))
	for _, m := range msgs {
		perLicense[m.LicenseID]++
		lateness = append(lateness, m.CreatedAt.Sub(due))
	}
	var missing, twice []string
	for _, id := range ids {
		switch perLicense[id] {
		case 0:
			missing = append(missing, id)
		case 1:
		default:
			twice = append(twice, id)
		}
	}
	if len(missing) > 0 || len(twice) > 0 {
		b.Fatalf("%d reminders missing %s after the due instant (e.g. %v), %d licenses reminded more than once (e.g. %v)",
			len(missing), timeout, first(missing, 3), len(twice), first(twice, 3))
	}
	if early := slices.MinFunc(lateness, func(x, y time.Duration) int { return int(x - y) }); early < 0 {
		b.Fatalf("a reminder went out %s before its deadline", -early)
	}
	slices.Sort(lateness)
	return lateness
}

func first(ids []string, n int) []string { return ids[:min(n, len(ids))] }

// licenseKeys returns every license's DLID.
func licenseKeys(b *testing.B, st *store.Store) []string {
	b.Helper()
	var keys []string
	if err := st.DB().Model(&models.License{}).Where("dlid IS NOT NULL").Order("id").Pluck("dlid", &keys).Error; err != nil {
		b.Fatal(err)
	}
	return keys
}

// requireValid checks that body validates as VALID, so the load measures
// the full path of a good key.
func requireValid(b *testing.B, s *stack.Stack, body string) {
	b.Helper()
	var v siteapi.SiteAnswer
	r := s.CallAs("", http.MethodPost, siteload.CallPath("validate"), body)
	r.JSON(b, &v)
	if r.Status != http.StatusOK || v.Code != models.CodeValid {
		b.Fatalf("validation of a scale license: %d %s", r.Status, r.Body)
	}
}

type validationFigures struct {
	perSecond, barePerSecond, ratio float64
}

// validationLoad drives the site API over a stack's store and a bare gin
// handler.
type validationLoad struct {
	loadgen    *siteload.Loadgen
	site, bare string
}

// ratio is licenseflow's closed-loop validation throughput over bodies
// (sent in turn) against the bare gin handler's, measured one after the
// other.
func (l validationLoad) ratio(bodies ...string) validationFigures {
	run := func(url string) siteload.Result {
		return l.loadgen.Run(siteload.Load{URL: url + siteload.CallPath("validate"), Bodies: bodies, Duration: 5 * time.Second})
	}
	bare, lf := run(l.bare), run(l.site)
	return validationFigures{perSecond: lf.PerSecond, barePerSecond: bare.PerSecond, ratio: lf.PerSecond / bare.PerSecond}
}

// validationBody asks whether key may use the scale tier's product.
func validationBody(key string) string {
	return fmt.Sprintf(`{"dlid":%q,"product":%q,"nonce":"n"}`, key, scaleProduct)
}

// processMemory is this process's memory after a garbage collection.
type processMemory struct {
	rssMB, rssAnonMB float64 // from /proc/self/status: resident, of it anonymous (heaps: Go's, SQLite's)
	goHeapInuseMB    float64 // the Go runtime's heap spans in use
}

func (m processMemory) String() string {
	return fmt.Sprintf("RSS %.0f MB (anonymous %.0f MB), Go heap in use %.0f MB", m.rssMB, m.rssAnonMB, m.goHeapInuseMB)
}

func readProcessMemory(b *testing.B) processMemory {
	b.Helper()
	runtime.GC()
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	m := processMemory{goHeapInuseMB: float64(stats.HeapInuse) / (1 << 20)}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Logf("no /proc/self/status (%v): RSS not reported", err)
		return m
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		kB, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 64)
		if err != nil {
			continue
		}
		switch name {
		case "VmRSS":
			m.rssMB = kB / 1024
		case "RssAnon":
			m.rssAnonMB = kB / 1024
		}
	}
	return m
}

// BenchmarkOpenLicenseMemory finds where the memory of open licenses goes
// and shows it bounded: with the worker's workflow cache set to
// LICENSEFLOW_BENCH_CACHE (default 1,000), and the embedded server's cache
// of workflow states likewise, as `licenseflow dev` does, it buys licenses in steps up to
// three times that many and reports the process's Go heap and RSS after
// each step. The heap grows with each license while the cache fills and
// stays flat after: the cache holds the workflows, and
// LICENSEFLOW_WORKFLOW_CACHE bounds it. Run it alone (the cache size is
// the process's) with
//
//	go test ./integration -run '^$' -bench OpenLicenseMemory -benchtime 1x -timeout 60m
func BenchmarkOpenLicenseMemory(b *testing.B) {
	cache := 1000
	if v, err := strconv.Atoi(os.Getenv("LICENSEFLOW_BENCH_CACHE")); err == nil && v > 0 {
		cache = v
	}
	worker.SetWorkflowCache(cache)
	// licenseflow dev: embedded Temporal, SQLite, both caches the same size
	s := stack.Start(b, testsupport.SQLiteAt(b, filepath.Join(b.TempDir(), "licenseflow.db")), stack.Options{Embedded: true, HistoryCacheSize: cache})
	last := 3 * cache
	if v, err := strconv.Atoi(os.Getenv("LICENSEFLOW_BENCH_OPEN_LICENSES")); err == nil && v > last {
		last = v
	}
	steps := []int{cache / 2, cache, 2 * cache, last}
	bought := 0
	var at []processMemory
	before := readProcessMemory(b)
	for _, step := range steps {
		issued := countEmails(b, s.Store, activities.TemplateInvoice)
		buyScaleLicenses(b, s, fmt.Sprint("m", step), step-bought, 20)
		waitEmails(b, s.Store, activities.TemplateInvoice, issued+step-bought, "issued licenses", time.Hour)
		bought = step
		mem := readProcessMemory(b)
		at = append(at, mem)
		b.Logf("%d open licenses, workflow cache %d: %s", bought, cache, mem)
		if step == 2*cache {
			// The base of the profile at the end: what grows per license
			// once the caches are full is the difference.
			writeHeapProfile(b, os.Getenv("LICENSEFLOW_BENCH_HEAP_PROFILE"), ".base")
		}
	}
	perLicense := func(from, to int) (heapKB, rssKB float64) {
		n := float64(steps[to] - steps[from])
		return (at[to].goHeapInuseMB - at[from].goHeapInuseMB) * 1024 / n, (at[to].rssMB - at[from].rssMB) * 1024 / n
	}
	fillHeap, fillRSS := perLicense(0, 1)     // the cache filling
	beyondHeap, beyondRSS := perLicense(1, 3) // the cache full
	b.ReportMetric(fillHeap, "heap-KB/license-cache-filling")
	b.ReportMetric(fillRSS, "rss-KB/license-cache-filling")
	b.ReportMetric(beyondHeap, "heap-KB/license-cache-full")
	b.ReportMetric(beyondRSS, "rss-KB/license-cache-full")
	b.ReportMetric(at[len(at)-1].rssMB, "rss-MB")
	b.Logf("before: %s; per open license while the cache fills: heap %.1f KB, RSS %.1f KB; once it is full: heap %.1f KB, RSS %.1f KB",
		before, fillHeap, fillRSS, beyondHeap, beyondRSS)
	writeHeapProfile(b, os.Getenv("LICENSEFLOW_BENCH_HEAP_PROFILE"), "")
}

// writeHeapProfile writes the process's heap profile to path+suffix
// (nothing when path is empty), after a GC.
func writeHeapProfile(b *testing.B, path, suffix string) {
	if path == "" {
		return
	}
	f, err := os.Create(path + suffix)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
	b.Logf("heap profile in %s (go tool pprof -top -inuse_space -base %s.base %s)", path+suffix, path, path)
}

// startCPUProfile writes a CPU profile from the instant from until the
// returned function is called to path (nothing when path is empty): the
// storm alone, without the purchases and corrections before it. A storm
// that fails is profiled too: the profile is also written when the
// benchmark ends.
func startCPUProfile(b *testing.B, path string, from time.Time) (stop func()) {
	b.Helper()
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	started := make(chan error, 1)
	go func() {
		time.Sleep(time.Until(from))
		started <- pprof.StartCPUProfile(f)
	}()
	stop = sync.OnceFunc(func() {
		if err := <-started; err != nil {
			b.Error(err)
		}
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Error(err)
		}
	})
	b.Cleanup(stop)
	return stop
}
