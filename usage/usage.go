// Package usage records site-facing hits (validations, activations,
// heartbeats, feed and download requests) and heartbeats' last-seen times
// without slowing them down: both are queued in memory and written to the
// database in batches.
package usage

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
)

// Recorder batches usage events. Identical events of the same second (a
// site asking again and again) become one row with their number of hits.
// A clean shutdown (Close) writes every queued event; a crash loses at most
// one flush interval of statistics, which is the price of not writing once
// per validation.
type Recorder struct {
	store    *store.Store
	log      *slog.Logger
	queue    chan models.UsageEvent
	interval time.Duration
	dropped  atomic.Int64
	done     chan struct{}
	once     sync.Once
}

// NewRecorder starts a recorder flushing every interval (or every 500 events).
func NewRecorder(store *store.Store, log *slog.Logger, interval time.Duration) *Recorder {
	if log == nil {
		log = slog.Default()
	}
	r := &Recorder{store: store, log: log, queue: make(chan models.UsageEvent, 50000), interval: interval, done: make(chan struct{})}
	go r.run()
	return r
}

// Record queues an event. If the database has fallen so far behind that
// the queue is full, the event is dropped and counted, rather than making
// sites wait for statistics.
func (r *Recorder) Record(e models.UsageEvent) {
	select {
	case r.queue <- e:
	default:
		if n := r.dropped.Add(1); n == 1 || n%1000 == 0 {
			r.log.Warn("usage queue full; events dropped", "dropped_total", n)
		}
	}
}

// Close writes what is queued and stops the recorder.
func (r *Recorder) Close() {
	r.once.Do(func() { close(r.queue) })
	<-r.done
}

func (r *Recorder) run() {
	defer close(r.done)
	tick := time.NewTicker(r.interval)
	defer tick.Stop()
	batch := make([]models.UsageEvent, 0, 500)
	rows := map[sameEvent]int{} // index in batch
	flush := func() {
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.store.RecordUsage(ctx, batch); err != nil {
			r.log.Error("writing usage events failed", "events", len(batch), "error", err)
		}
		batch = batch[:0]
		clear(rows)
	}
	for {
		select {
		case e, ok := <-r.queue:
			if !ok {
				flush()
				return
			}
			k := sameEvent{e.LicenseID, e.Kind, e.Domain, e.IP, e.Result, e.At.Unix()}
			if i, seen := rows[k]; seen {
				batch[i].Hits += max(e.Hits, 1)
				continue
			}
			e.Hits = max(e.Hits, 1)
			rows[k] = len(batch)
			batch = append(batch, e)
			if len(batch) == cap(batch) {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

// sameEvent is what makes two usage events one row: all but the
// fraction of a second.
type sameEvent struct {
	licenseID string
	kind      models.UsageKind
	domain    string
	ip        string
	result    string
	second    int64
}
