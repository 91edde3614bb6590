package usage_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/usage"
)

var ctx = context.Background()

// watchedStore reports every batch of heartbeats written to the real store
// (after it is written), and can hold a write back or fail it.
type watchedStore struct {
	*store.Store
	started chan []models.Heartbeat // the batch, before it is written
	proceed chan struct{}           // nil: write at once
	fail    error                   // returned, once, instead of writing
	written chan []models.Heartbeat
}

func watch(st *store.Store) *watchedStore {
	return &watchedStore{Store: st, started: make(chan []models.Heartbeat, 100), written: make(chan []models.Heartbeat, 100)}
}

func (w *watchedStore) RecordHeartbeats(ctx context.Context, beats []models.Heartbeat) error {
	w.started <- beats
	if w.proceed != nil {
		<-w.proceed
	}
	if err := w.fail; err != nil {
		w.fail = nil
		return err
	}
	err := w.Store.RecordHeartbeats(ctx, beats)
	w.written <- beats
	return err
}

// activeDomains issues a license with the given domains active since then.
func activeDomains(t *testing.T, st *store.Store, then time.Time, domains ...string) models.License {
	t.Helper()
	tier, err := st.GetTier(ctx, "suite")
	require.NoError(t, err)
	_, l, _, err := st.RecordPurchase(ctx, models.Purchase{OrderID: "beats", Email: "beats@example.com", Tier: tier,
		MaxDomains: len(domains), Months: 12, PaidAt: then})
	require.NoError(t, err)
	l, err = st.MintLicense(ctx, models.Mint{LicenseID: l.ID, TierKey: "suite", MaxDomains: len(domains), StartsAt: then})
	require.NoError(t, err)
	for _, d := range domains {
		_, _, err := st.Activate(ctx, l.ID, d, then)
		require.NoError(t, err)
	}
	return l
}

// lastSeen reads when each active domain of l was last seen, in UTC.
func lastSeen(t *testing.T, st *store.Store, l models.License) map[string]time.Time {
	t.Helper()
	sl, err := st.LookupSiteLicense(ctx, l.Key())
	require.NoError(t, err)
	out := map[string]time.Time{}
	for d, at := range sl.LastSeen {
		out[d] = at.UTC()
	}
	return out
}

func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func TestLastSeenIsWrittenEveryInterval(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		then, now := models.Instant(time.Now().AddDate(0, 0, -1)), models.Instant(time.Now())
		l := activeDomains(t, st, then, "a.example.com", "b.example.com")
		ws := watch(st)
		w := usage.NewLastSeen(ws, nil, usage.LastSeenOptions{Interval: 20 * time.Millisecond})
		t.Cleanup(w.Close)

		w.Seen(models.Heartbeat{LicenseID: l.ID, Domain: "a.example.com", At: now})
		receive(t, ws.written, "the interval's write")
		assert.Equal(t, map[string]time.Time{"a.example.com": now, "b.example.com": then}, lastSeen(t, st, l))
	})
}

func TestLastSeenWritesWhatIsPendingOnClose(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		then, now := models.Instant(time.Now().AddDate(0, 0, -1)), models.Instant(time.Now())
		l := activeDomains(t, st, then, "a.example.com")
		ws := watch(st)
		w := usage.NewLastSeen(ws, nil, usage.LastSeenOptions{Interval: time.Hour})
		w.Seen(models.Heartbeat{LicenseID: l.ID, Domain: "a.example.com", At: now.Add(-time.Minute)})
		w.Seen(models.Heartbeat{LicenseID: l.ID, Domain: "a.example.com", At: now})
		w.Seen(models.Heartbeat{LicenseID: l.ID, Domain: "a.example.com", At: now.Add(-2 * time.Minute)})
		assert.Empty(t, ws.started, "nothing is written before the interval")
		w.Close()
		assert.Equal(t, []models.Heartbeat{{LicenseID: l.ID, Domain: "a.example.com", At: now}}, receive(t, ws.written, "the write on close"),
			"heartbeats of one domain collapse into the latest")
		assert.Equal(t, map[string]time.Time{"a.example.com": now}, lastSeen(t, st, l))
		w.Close() // closing twice is harmless
	})
}

// The loss of a crash is bounded in domains too: once FlushAt domains are
// pending they are written without waiting for the interval.
func TestLastSeenWritesEarlyWhenManyDomainsArePending(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		then, now := models.Instant(time.Now().AddDate(0, 0, -1)), models.Instant(time.Now())
		domains := []string{"a.example.com", "b.example.com", "c.example.com"}
		l := activeDomains(t, st, then, domains...)
		ws := watch(st)
		w := usage.NewLastSeen(ws, nil, usage.LastSeenOptions{Interval: time.Hour, FlushAt: len(domains)})
		t.Cleanup(w.Close)
		for _, d := range domains {
			w.Seen(models.Heartbeat{LicenseID: l.ID, Domain: d, At: now})
		}
		assert.Len(t, receive(t, ws.written, "the early write"), len(domains))
		assert.Equal(t, map[string]time.Time{"a.example.com": now, "b.example.com": now, "c.example.com": now}, lastSeen(t, st, l))
	})
}

func TestAHeartbeatArrivingDuringAWriteIsWrittenNext(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		then, now := models.Instant(time.Now().AddDate(0, 0, -1)), models.Instant(time.Now())
		l := activeDomains(t, st, then, "a.example.com", "b.example.com")
		ws := watch(st)
		ws.proceed = make(chan struct{})
		w := usage.NewLastSeen(ws, nil, usage.LastSeenOptions{Interval: time.Hour, FlushAt: 1})
		t.Cleanup(w.Close)

		w.Seen(models.Heartbeat{LicenseID: l.ID, Domain: "a.example.com", At: now.Add(-time.Minute)})
		first := receive(t, ws.started, "the first write to start")
		assert.Equal(t, now.Add(-time.Minute), first[0].At)
		// While it is being written, the same domain and another one are seen.
		w.Seen(models.Heartbeat{LicenseID: l.ID, Domain: "a.example.com", At: now})
		w.Seen(models.Heartbeat{LicenseID: l.ID, Domain: "b.example.com", At: now})
		ws.proceed <- struct{}{}
		receive(t, ws.written, "the first write")

		second := receive(t, ws.started, "the second write to start")
		ws.proceed <- struct{}{}
		receive(t, ws.written, "the second write")
		assert.Equal(t, []models.Heartbeat{{LicenseID: l.ID, Domain: "a.example.com", At: now}, {LicenseID: l.ID, Domain: "b.example.com", At: now}}, second)
		assert.Equal(t, map[string]time.Time{"a.example.com": now, "b.example.com": now}, lastSeen(t, st, l))
	})
}

func TestAFailedWriteIsRetriedWithTheNextBatch(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		then, now := models.Instant(time.Now().AddDate(0, 0, -1)), models.Instant(time.Now())
		l := activeDomains(t, st, then, "a.example.com", "b.example.com")
		ws := watch(st)
		ws.fail = errors.New("database unreachable")
		w := usage.NewLastSeen(ws, nil, usage.LastSeenOptions{Interval: 20 * time.Millisecond})
		t.Cleanup(w.Close)

		w.Seen(models.Heartbeat{LicenseID: l.ID, Domain: "a.example.com", At: now})
		failed := receive(t, ws.started, "the failing write")
		require.Len(t, failed, 1)
		w.Seen(models.Heartbeat{LicenseID: l.ID, Domain: "b.example.com", At: now})
		var written []models.Heartbeat
		for len(written) < 2 {
			written = append(written, receive(t, ws.written, fmt.Sprintf("write %d", len(written)+1))...)
		}
		assert.Equal(t, map[string]time.Time{"a.example.com": now, "b.example.com": now}, lastSeen(t, st, l))
	})
}
