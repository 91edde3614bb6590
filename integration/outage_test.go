package integration

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/licensetoken"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/siteapi"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
)

// Every purchase answered before a part came back (its steps met the
// outage) must be issued (license, emails, invoice) within recoveryBound of
// the return. A step waiting out our own database retries at least every
// 5 seconds (workflows.ownRetryMax); after a Temporal outage the worker's
// polls resume within 10 seconds (the SDK's fixed backoff) and a step lost
// with the outage is tried again within its timeout or heartbeat (10 and
// 20 seconds); the rest of the bound is the work of the purchases answered
// meanwhile, on a busy 2-core machine.
//
// The outages are as long as it takes for a step without those bounds to
// miss recoveryBound by far: a database step that backed off by doubling
// (1, 2, 4 … 64 s) from the cut would sleep until 127 s, 57 s after the
// return; an email whose result was lost with Temporal would wait for its
// one-minute timeout, 40 s after the return.
const (
	databaseOutage = 70 * time.Second
	temporalOutage = 20 * time.Second
	recoveryBound  = 30 * time.Second
)

// The outage tests take away a part licenseflow runs on (its PostgreSQL
// database, its Temporal server) while a CRM buys licenses and installed
// sites validate keys, and check what every caller was told and what was
// recorded: a 503 with a stable code or a correct answer, never a false
// "invalid"; after the outage every purchase is issued exactly once.

func TestDatabaseOutageDuringPurchasesAndValidations(t *testing.T) {
	t.Parallel() // waits on retries and timeouts much more than it computes
	const purchases, validations = 100, 1000
	logf := stopwatch(t)
	db := testsupport.NewIsolatedPostgres(t) // a database of its own: only its connections are cut
	s := stack.Start(t, db.Store(t, 10), stack.Options{})
	crm := newCRM(s)
	sites := newSites(t, s)

	// The keys the sites validate come from the first ten purchases.
	crm.buy(0, 10, 5).wait(t, 30*time.Second)
	issued := waitAllIssued(t, s, 10, 30*time.Second)
	logf("first ten issued")
	var keys []string
	for _, l := range issued {
		keys = append(keys, l.Key())
	}
	warm, cold := keys[:5], keys[5:] // only the warm ones are validated before the outage
	sites.validate(len(warm), warm, 1, "warm-up")

	rest := crm.buy(10, purchases, 6)
	before := make(chan struct{})
	go func() { defer close(before); sites.validate(395, warm, 2, "before") }()
	waitUntil(t, "30 more purchases answered before the outage", 30*time.Second, func() bool { return crm.answered.Load() >= 40 })

	terminated := db.CutOff(t)
	cut := time.Now()
	logf("database cut off (%d connections terminated) with %d purchases answered", terminated, crm.answered.Load())
	during := sites.validate(100, append(slices.Clone(warm), cold...), 4, "during")
	waitUntil(t, "a purchase answered 503 during the outage", 20*time.Second, func() bool { return crm.unavailable(httpx.ErrDatabaseUnavailable.Code) > 0 })
	waitUntil(t, "the outage to have lasted "+databaseOutage.String(), databaseOutage+time.Second, func() bool { return time.Since(cut) >= databaseOutage })
	heldUp := crm.licenseIDs() // answered before the return: their steps met the outage
	db.Restore(t)
	back := time.Now()
	logf("database back with %d purchases answered", len(heldUp))
	waitIssued(t, s, heldUp, recoveryBound+time.Minute)
	recovery := time.Since(back)
	logf("the %d purchases held up by the outage issued, the last invoice %.1fs after the database came back (bound %s); %s",
		len(heldUp), recovery.Seconds(), recoveryBound, invoicedAfter(t, s, heldUp, back))
	assert.LessOrEqual(t, recovery, recoveryBound, "steps that failed on the database resume within seconds of its return")
	<-before
	sites.validate(validations-len(warm)-395-100, keys, 4, "after")
	rest.wait(t, 90*time.Second)
	logf("all purchases answered")
	waitAllIssued(t, s, purchases, 2*time.Minute)
	logf("all issued, %.1fs after the database came back", time.Since(back).Seconds())
	assertIssuedOnce(t, s.Store, crm.licenseIDs())

	assert.Equal(t, validations, sites.total(), "validations sent")
	assert.Empty(t, sites.wrong(), "a site was told something false")
	// 100 validations round robin over 10 keys: each key 10 times.
	for _, k := range warm {
		assert.Equal(t, answers{Valid: 10}, during.of(k), "during the outage, every validation of a key validated before it is served from the cache")
	}
	for _, k := range cold {
		assert.Equal(t, answers{Unavailable: 10}, during.of(k), "during the outage, every validation of a key not in the cache answers 503")
	}
	assert.Empty(t, crm.unexpected(), "purchases answered only 2xx or 503")
	logf("purchases: %d answered, 503s by code %v; validations during the outage: %d from the cache, %d answered 503",
		crm.answered.Load(), crm.unavailableByCode(), during.valid.Load(), during.unavailable.Load())
}

func TestTemporalRestartDuringPurchases(t *testing.T) {
	const purchases = 60
	t.Parallel()
	for _, backend := range testsupport.Backends {
		t.Run(backend.Name, func(t *testing.T) {
			t.Parallel()
			temporalRestartDuringPurchases(t, backend.Open(t), purchases)
		})
	}
}

// temporalRestartDuringPurchases stops the embedded Temporal server while
// a CRM buys licenses, until a purchase is answered 503 and temporalOutage
// has passed, and starts it again. Steps under way when it stopped, whose
// results it never heard, are tried again within their heartbeat or
// step timeout of its return.
func temporalRestartDuringPurchases(t *testing.T, st *store.Store, purchases int) {
	logf := stopwatch(t)
	s := stack.Start(t, st, stack.Options{Embedded: true})
	crm := newCRM(s)
	sites := newSites(t, s)
	crm.buy(0, 1, 1).wait(t, 30*time.Second)
	key := waitAllIssued(t, s, 1, 30*time.Second)[0].Key()

	all := crm.buy(1, purchases, 6)
	waitUntil(t, "15 purchases answered before the outage", 30*time.Second, func() bool { return crm.answered.Load() >= 15 })
	s.StopTemporal()
	stopped := time.Now()
	logf("Temporal stopped with %d purchases answered", crm.answered.Load())
	waitUntil(t, "a purchase answered 503 during the outage", 30*time.Second, func() bool { return crm.unavailable(httpx.ErrTemporalUnavailable.Code) > 0 })
	during := sites.validate(50, []string{key}, 2, "during")
	waitUntil(t, "the outage to have lasted "+temporalOutage.String(), temporalOutage+time.Second, func() bool { return time.Since(stopped) >= temporalOutage })
	heldUp := crm.licenseIDs() // answered before the return: their steps met the outage
	s.StartTemporal()
	back := time.Now()
	logf("Temporal started again with %d purchases answered", len(heldUp))

	waitIssued(t, s, heldUp, recoveryBound+time.Minute)
	recovery := time.Since(back)
	logf("the %d purchases held up by the outage issued, the last invoice %.1fs after Temporal came back (bound %s); %s",
		len(heldUp), recovery.Seconds(), recoveryBound, invoicedAfter(t, s, heldUp, back))
	assert.LessOrEqual(t, recovery, recoveryBound, "steps lost with the outage resume within seconds of Temporal's return")
	all.wait(t, 90*time.Second)
	logf("all purchases answered")
	waitAllIssued(t, s, purchases, 2*time.Minute)
	logf("all issued, %.1fs after Temporal came back", time.Since(back).Seconds())
	assertIssuedOnce(t, st, crm.licenseIDs())
	assert.Equal(t, int64(50), during.valid.Load(), "sites validate from the database while Temporal is away")
	assert.Empty(t, sites.wrong())
	assert.Empty(t, crm.unexpected(), "purchases answered only 2xx or 503")
	logf("purchases: 503s by code %v", crm.unavailableByCode())
}

// stopwatch returns a t.Logf that prefixes the time since the test began.
func stopwatch(t *testing.T) func(format string, args ...any) {
	start := time.Now()
	return func(format string, args ...any) {
		t.Helper()
		t.Logf("%5.1fs "+format, append([]any{time.Since(start).Seconds()}, args...)...)
	}
}

// crm buys licenses the way the README tells a CRM to: when an answer is a
// 503 (or does not come), it sends the same request again, with the same
// order_id and Idempotency-Key, until it is answered 2xx.
type crm struct {
	s        *stack.Stack
	answered atomic.Int64 // purchases answered 2xx

	mu        sync.Mutex
	licenses  map[int]string // purchase -> license id
	codes     map[string]int // 503 answers by error code
	surprises []string       // answers a CRM cannot act on
}

func newCRM(s *stack.Stack) *crm {
	return &crm{s: s, licenses: map[int]string{}, codes: map[string]int{}}
}

// purchases is a batch of purchases under way.
type purchases struct {
	done chan struct{}
	crm  *crm
	n    int
}

// buy makes purchases [from, to) with workers concurrent clients. A third
// of them send an order_id, a third an Idempotency-Key, a third both.
func (c *crm) buy(from, to, workers int) *purchases {
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				c.purchase(i)
			}
		})
	}
	p := &purchases{done: make(chan struct{}), crm: c, n: to - from}
	go func() {
		for i := from; i < to; i++ {
			next <- i
		}
		close(next)
		wg.Wait()
		close(p.done)
	}()
	return p
}

func (p *purchases) wait(t *testing.T, timeout time.Duration) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("purchases still unanswered after %s; 503s by code: %v; unexpected answers: %v",
			timeout, p.crm.unavailableByCode(), p.crm.unexpected())
	}
}

// purchase sends purchase i until it is answered 2xx, for at most two
// minutes (then it is recorded as a surprise).
func (c *crm) purchase(i int) {
	order := fmt.Sprintf("outage-%03d", i)
	body := map[string]any{"user_email": fmt.Sprintf("buyer-%03d@example.com", i), "tier": "pos", "max_domains": 3, "expires_months": 12}
	var headers []string
	if i%3 != 2 {
		body["order_id"] = order
	}
	if i%3 != 0 {
		headers = []string{httpx.IdempotencyHeader, order}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for attempt := 1; time.Now().Before(deadline); attempt++ {
		r, err := c.s.Send(c.s.Token, http.MethodPost, "/api/v1/licensing/licenses", body, headers...)
		switch {
		case err != nil: // no answer: a CRM sends the same request again
		case r.Status == http.StatusAccepted || r.Status == http.StatusOK:
			var v api.LicenseView
			if err := json.Unmarshal(r.Body, &v); err != nil || v.ID == "" {
				c.surprise("purchase %d: %d %s", i, r.Status, r.Body)
				return
			}
			c.mu.Lock()
			c.licenses[i] = v.ID
			c.mu.Unlock()
			c.answered.Add(1)
			return
		case r.Status == http.StatusServiceUnavailable:
			code := errorCode(r.Body)
			c.mu.Lock()
			c.codes[code]++
			c.mu.Unlock()
			if code != httpx.ErrDatabaseUnavailable.Code && code != httpx.ErrTemporalUnavailable.Code {
				c.surprise("purchase %d: 503 with code %q: %s", i, code, r.Body)
			}
		default:
			c.surprise("purchase %d, attempt %d: %d %s", i, attempt, r.Status, r.Body)
			return
		}
		time.Sleep(50 * time.Millisecond) // the client's pause before it retries, not synchronization
	}
	c.surprise("purchase %d: no 2xx answer within two minutes", i)
}

func (c *crm) surprise(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.surprises = append(c.surprises, fmt.Sprintf(format, args...))
}

func (c *crm) unexpected() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.surprises)
}

func (c *crm) unavailable(code string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.codes[code]
}

func (c *crm) unavailableByCode() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.codes {
		out[k] = v
	}
	return out
}

// licenseIDs are the licenses the purchases were answered with.
func (c *crm) licenseIDs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []string
	for _, id := range c.licenses {
		ids = append(ids, id)
	}
	return ids
}

// sites validate good keys like installed sites, and keep count of what
// they were told.
type sites struct {
	s    *stack.Stack
	keys map[string]ed25519.PublicKey

	mu     sync.Mutex
	sent   int
	errors []string // false or unexpected answers
}

// tally counts one batch's answers, in total and per key.
type tally struct {
	valid, unavailable atomic.Int64

	mu    sync.Mutex
	byKey map[string]answers
}

// answers are one key's answers in a batch.
type answers struct{ Valid, Unavailable int }

func (t *tally) count(key string, valid bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := t.byKey[key]
	if valid {
		t.valid.Add(1)
		a.Valid++
	} else {
		t.unavailable.Add(1)
		a.Unavailable++
	}
	t.byKey[key] = a
}

func (t *tally) of(key string) answers {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.byKey[key]
}

func newSites(t *testing.T, s *stack.Stack) *sites {
	return &sites{s: s, keys: publicKeys(t, s)}
}

// validate sends n validations of keys (round robin) from workers
// concurrent sites and returns when all are answered. Every answer must be
// a signed VALID or a 503 database_unavailable.
func (v *sites) validate(n int, keys []string, workers int, phase string) *tally {
	var (
		out  = tally{byKey: map[string]answers{}}
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				v.validateOnce(keys[i%len(keys)], phase, &out)
			}
		})
	}
	wg.Wait()
	v.mu.Lock()
	v.sent += n
	v.mu.Unlock()
	return &out
}

func (v *sites) validateOnce(key, phase string, out *tally) {
	req := siteapi.SiteRequest{DLID: key, Product: "MokoSuitePOS"}
	r, err := v.s.Send("", http.MethodPost, "/api/v1/licenses/validate", req)
	var a siteapi.SiteAnswer
	switch {
	case err != nil:
		v.wrongAnswer("%s: %s: no answer: %v", phase, key, err)
	case r.Status == http.StatusServiceUnavailable && errorCode(r.Body) == httpx.ErrDatabaseUnavailable.Code:
		out.count(key, false)
	case r.Status != http.StatusOK:
		v.wrongAnswer("%s: %s: %d %s", phase, key, r.Status, r.Body)
	case licensetoken.VerifyAnswer(r.Body, r.Header.Get(licensetoken.SignatureHeader), v.keys) != nil:
		v.wrongAnswer("%s: %s: the answer's signature does not verify: %s", phase, key, r.Body)
	case json.Unmarshal(r.Body, &a) != nil || !a.Valid || a.Code != models.CodeValid:
		v.wrongAnswer("%s: a good key was told %s", phase, r.Body)
	default:
		out.count(key, true)
	}
}

func (v *sites) wrongAnswer(format string, args ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.errors = append(v.errors, fmt.Sprintf(format, args...))
}

func (v *sites) wrong() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.errors)
}

func (v *sites) total() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.sent
}

func errorCode(raw []byte) string {
	var body httpx.ErrorBody
	if json.Unmarshal(raw, &body) != nil || body.Error == nil {
		return ""
	}
	return body.Error.Code
}

// waitUntil polls cond every 20 ms until it holds, failing after timeout.
func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitAllIssued waits until n licenses are active with their delivery and
// invoice emails and invoices, and returns the licenses. On a timeout it
// reports the workflows of the licenses not yet active.
func waitAllIssued(t *testing.T, s *stack.Stack, n int, timeout time.Duration) []models.License {
	st := s.Store
	t.Helper()
	var (
		licenses         []models.License
		emails, invoices int64
	)
	db := st.DB()
	deadline := time.Now().Add(timeout)
	for {
		require.NoError(t, db.Where("status = ? AND dlid IS NOT NULL", models.StatusActive).Order("order_id").Find(&licenses).Error)
		require.NoError(t, db.Model(&models.EmailMessage{}).Where("template IN ?", []string{"delivery", "invoice"}).Count(&emails).Error)
		require.NoError(t, db.Model(&models.Invoice{}).Count(&invoices).Error)
		if len(licenses) >= n && emails >= int64(2*n) && invoices >= int64(n) {
			return licenses
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %d of %d licenses active, %d of %d emails, %d of %d invoices; workflows of the others: %s",
				timeout, len(licenses), n, emails, 2*n, invoices, n, unissuedWorkflows(s))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitIssued waits until the licenses ids are active with their delivery
// and invoice emails and invoices.
func waitIssued(t *testing.T, s *stack.Stack, ids []string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		// Right after a restored outage the pool may still hand this query
		// the failure of a dial that began during it: a failed poll is not
		// an answer, only one still failing at the deadline is.
		var issued int64
		err := s.Store.DB().Raw(`SELECT count(*) FROM licenses l WHERE l.id IN ? AND l.status = ? AND l.dlid IS NOT NULL
			AND (SELECT count(*) FROM email_messages e WHERE e.license_id = l.id AND e.template IN ('delivery', 'invoice')) = 2
			AND EXISTS (SELECT 1 FROM invoices i WHERE i.license_id = l.id)`, ids, models.StatusActive).Scan(&issued).Error
		if err == nil && issued == int64(len(ids)) {
			return
		}
		if time.Now().After(deadline) {
			require.NoError(t, err)
			t.Fatalf("after %s: %d of %d licenses issued; %s", timeout, issued, len(ids), unissuedWorkflows(s))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// invoicedAfter tells how many of the licenses ids were invoiced after
// back, and how long after it.
func invoicedAfter(t *testing.T, s *stack.Stack, ids []string, back time.Time) string {
	var at []time.Time
	require.NoError(t, s.Store.DB().Model(&models.Invoice{}).Where("license_id IN ? AND created_at >= ?", ids, back).
		Order("created_at").Pluck("created_at", &at).Error)
	if len(at) == 0 {
		return "all were invoiced before the return"
	}
	return fmt.Sprintf("%d invoiced after the return, the first %.1fs and the median %.1fs after it",
		len(at), at[0].Sub(back).Seconds(), at[len(at)/2].Sub(back).Seconds())
}

// unissuedWorkflows describes the licenses not fully issued yet (not
// active, or missing an email or the invoice) and their workflows.
func unissuedWorkflows(s *stack.Stack) string {
	type row struct {
		ID, WorkflowID, Status string
		DLID                   *string `gorm:"column:dlid"`
		Emails, Invoices       int
	}
	var rows []row
	err := s.Store.DB().Raw(`SELECT l.id, l.workflow_id, l.status, l.dlid,
		(SELECT count(*) FROM email_messages e WHERE e.license_id = l.id AND e.template IN ('delivery', 'invoice')) AS emails,
		(SELECT count(*) FROM invoices i WHERE i.license_id = l.id) AS invoices
		FROM licenses l ORDER BY l.id`).Scan(&rows).Error
	if err != nil {
		return err.Error()
	}
	out := []string{fmt.Sprintf("%d licenses stored", len(rows))}
	for _, r := range rows {
		if r.Status == string(models.StatusActive) && r.DLID != nil && r.Emails == 2 && r.Invoices == 1 {
			continue
		}
		desc := fmt.Sprintf("%s (%s, key minted %t, %d emails, %d invoices)", r.ID, r.Status, r.DLID != nil, r.Emails, r.Invoices)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		d, err := s.Temporal.DescribeWorkflowExecution(ctx, r.WorkflowID, "")
		cancel()
		if err != nil {
			out = append(out, fmt.Sprintf("%s: %v", desc, err))
			continue
		}
		info := d.GetWorkflowExecutionInfo()
		out = append(out, fmt.Sprintf("%s: workflow %s, %d events, %d pending activities", desc, info.GetStatus(), info.GetHistoryLength(), len(d.GetPendingActivities())))
	}
	return strings.Join(out, "; ")
}

// assertIssuedOnce checks nothing was lost or duplicated: the database
// holds exactly the licenses the CRM was answered with, each with one
// order, one key, one delivery email, one invoice email and one invoice,
// and the invoice numbers run without gaps.
func assertIssuedOnce(t *testing.T, st *store.Store, licenseIDs []string) {
	t.Helper()
	db := st.DB()
	var stored []string
	require.NoError(t, db.Model(&models.License{}).Order("id").Pluck("id", &stored).Error)
	slices.Sort(licenseIDs)
	require.Equal(t, licenseIDs, stored, "the licenses in the database are the ones the CRM was answered with")

	type perLicense struct {
		ID                                      string
		Orders, Delivery, InvoiceMail, Invoices int
		DLID                                    *string `gorm:"column:dlid"`
	}
	var rows []perLicense
	require.NoError(t, db.Raw(`SELECT l.id, l.dlid,
		(SELECT count(*) FROM orders o WHERE o.license_id = l.id) AS orders,
		(SELECT count(*) FROM email_messages e WHERE e.license_id = l.id AND e.template = 'delivery') AS delivery,
		(SELECT count(*) FROM email_messages e WHERE e.license_id = l.id AND e.template = 'invoice') AS invoice_mail,
		(SELECT count(*) FROM invoices i WHERE i.license_id = l.id) AS invoices
		FROM licenses l ORDER BY l.id`).Scan(&rows).Error)
	keys := map[string]string{}
	for _, r := range rows {
		assert.Equal(t, perLicense{ID: r.ID, Orders: 1, Delivery: 1, InvoiceMail: 1, Invoices: 1, DLID: r.DLID}, r, "license %s", r.ID)
		if assert.NotNil(t, r.DLID, "license %s has a key", r.ID) {
			other, taken := keys[*r.DLID]
			assert.False(t, taken, "licenses %s and %s share a key", other, r.ID)
			keys[*r.DLID] = r.ID
		}
	}

	var sequences []int
	require.NoError(t, db.Model(&models.Invoice{}).Order("year, sequence").Pluck("sequence", &sequences).Error)
	for i, seq := range sequences {
		if !assert.Equal(t, i+1, seq, "invoice numbers are gapless") {
			break
		}
	}
}
