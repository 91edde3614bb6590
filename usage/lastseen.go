package usage

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/licenseflow/licenseflow/models"
)

// LastSeen writes heartbeats' last-seen times in batches, so a heartbeat
// answers without waiting for a database write. Heartbeats of one domain
// between two writes collapse into the latest. A clean shutdown (Close)
// writes what is pending; a crash loses at most one interval of last-seen
// updates. That is harmless as long as the interval is far below the
// silence after which a domain is released (at least a day against
// seconds), and the site API writes at once the heartbeat of a domain that
// has been silent for a good part of that window.
type LastSeen struct {
	store    heartbeatStore
	log      *slog.Logger
	interval time.Duration
	flushAt  int

	mu      sync.Mutex
	pending map[domainKey]time.Time

	full    chan struct{} // flushAt domains are pending
	closing chan struct{}
	done    chan struct{}
	once    sync.Once
	dropped atomic.Int64
}

// heartbeatStore is where LastSeen writes.
type heartbeatStore interface {
	RecordHeartbeats(ctx context.Context, beats []models.Heartbeat) error
}

type domainKey struct{ licenseID, domain string }

// LastSeenOptions shape a LastSeen writer.
type LastSeenOptions struct {
	// Interval is how often pending heartbeats are written, and so the
	// most a crash loses.
	Interval time.Duration
	// FlushAt writes early once this many domains are pending (default
	// 10,000), which bounds memory and the loss of a crash in a busy spell.
	FlushAt int
}

// DefaultLastSeenInterval is how often heartbeats are written unless told.
const DefaultLastSeenInterval = 10 * time.Second

// holdFactor bounds the domains kept while the database refuses writes
// (FlushAt times this); heartbeats of further domains are dropped then.
const holdFactor = 10

// NewLastSeen starts a writer.
func NewLastSeen(store heartbeatStore, log *slog.Logger, o LastSeenOptions) *LastSeen {
	if log == nil {
		log = slog.Default()
	}
	if o.Interval <= 0 {
		o.Interval = DefaultLastSeenInterval
	}
	if o.FlushAt <= 0 {
		o.FlushAt = 10000
	}
	w := &LastSeen{store: store, log: log, interval: o.Interval, flushAt: o.FlushAt, pending: map[domainKey]time.Time{},
		full: make(chan struct{}, 1), closing: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

// Seen queues a heartbeat.
func (w *LastSeen) Seen(b models.Heartbeat) {
	w.mu.Lock()
	n := w.hold(domainKey{b.LicenseID, b.Domain}, b.At)
	w.mu.Unlock()
	if n >= w.flushAt {
		select {
		case w.full <- struct{}{}:
		default: // a write is already due
		}
	}
}

// hold keeps the later of at and what is pending for k, and returns how
// many domains are pending. w.mu is held.
func (w *LastSeen) hold(k domainKey, at time.Time) int {
	if pending, ok := w.pending[k]; ok {
		if at.After(pending) {
			w.pending[k] = at
		}
		return len(w.pending)
	}
	if len(w.pending) >= w.flushAt*holdFactor {
		if n := w.dropped.Add(1); n == 1 || n%1000 == 0 {
			w.log.Warn("last-seen queue full; heartbeats dropped", "dropped_total", n)
		}
		return len(w.pending)
	}
	w.pending[k] = at
	return len(w.pending)
}

// Close writes what is pending and stops the writer.
func (w *LastSeen) Close() {
	w.once.Do(func() { close(w.closing) })
	<-w.done
}

func (w *LastSeen) run() {
	defer close(w.done)
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-w.full:
		case <-w.closing:
			w.flush()
			return
		}
		w.flush()
	}
}

// flush writes what is pending. Heartbeats arriving meanwhile wait for
// the next write; a failed write is kept for the next one.
func (w *LastSeen) flush() {
	w.mu.Lock()
	taken := w.pending
	w.pending = make(map[domainKey]time.Time, len(taken))
	w.mu.Unlock()
	if len(taken) == 0 {
		return
	}
	beats := make([]models.Heartbeat, 0, len(taken))
	for k, at := range taken {
		beats = append(beats, models.Heartbeat{LicenseID: k.licenseID, Domain: k.domain, At: at})
	}
	// In one order, so two instances writing the same domains never deadlock.
	slices.SortFunc(beats, func(a, b models.Heartbeat) int {
		return cmp.Or(strings.Compare(a.LicenseID, b.LicenseID), strings.Compare(a.Domain, b.Domain))
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := w.store.RecordHeartbeats(ctx, beats)
	if err == nil {
		return
	}
	w.log.Error("writing last-seen times failed; retrying with the next batch", "domains", len(beats), "error", err)
	w.mu.Lock()
	for k, at := range taken {
		w.hold(k, at)
	}
	w.mu.Unlock()
}
