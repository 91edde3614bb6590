package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/licenseflow/licenseflow/lifecycle"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/webhooks"
	"github.com/licenseflow/licenseflow/workflows"
)

// Webhooks configures outbound webhooks, for the API (registering
// endpoints), the worker (delivering) and the waker (starting dispatchers).
type Webhooks struct {
	// Targets says where endpoints may point; its client delivers.
	Targets webhooks.Targets
	// Secrets seals endpoint secrets at rest (nil: stored as they are).
	Secrets *webhooks.SecretBox
	// Policy shapes deliveries: retries, timeouts, lanes.
	Policy workflows.WebhookPolicy
}

// WebhookWaker wakes an endpoint's dispatcher after every commit that gave
// the endpoint deliveries. It never holds up the committing caller (a
// license's projection, a site's activation): wake-ups are coalesced per
// endpoint and sent by one goroutine, which Close stops. A wake-up that
// fails is only logged: the worker's overdue check (WatchOverdueWebhooks)
// repeats it.
type WebhookWaker struct {
	flows *lifecycle.Temporal
	log   *slog.Logger

	mu      sync.Mutex
	pending map[string]bool
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

// WakeWebhookDispatchers subscribes a waker to st's new deliveries; the
// dispatchers it starts deliver under policy.
func WakeWebhookDispatchers(st *store.Store, c client.Client, policy workflows.WebhookPolicy, log *slog.Logger) *WebhookWaker {
	if log == nil {
		log = slog.Default()
	}
	w := &WebhookWaker{
		flows: lifecycle.New(c, lifecycle.Options{Webhooks: policy}), log: log, pending: map[string]bool{},
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	st.OnWebhookDeliveries(w.wake)
	go w.loop()
	return w
}

func (w *WebhookWaker) wake(endpointID string) {
	w.mu.Lock()
	w.pending[endpointID] = true
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default: // a kick is already waiting; it takes this endpoint along
	}
}

func (w *WebhookWaker) loop() {
	defer close(w.done)
	for {
		select {
		case <-w.stop:
			return
		case <-w.kick:
		}
		w.mu.Lock()
		due := w.pending
		w.pending = map[string]bool{}
		w.mu.Unlock()
		for id := range due {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := w.flows.WakeWebhookDispatcher(ctx, id); err != nil {
				w.log.Warn("webhook dispatcher not woken; the overdue check will wake it", "endpoint", id, "error", err)
			}
			cancel()
		}
		// A burst of commits becomes a few wake-ups per endpoint, not one
		// per commit: a woken dispatcher reads everything pending anyway.
		select {
		case <-w.stop:
			return
		case <-time.After(wakePacing):
		}
	}
}

// wakePacing is the least time between two rounds of wake-ups.
const wakePacing = 250 * time.Millisecond

// Close stops the waker; wake-ups not sent yet are left to the overdue check.
func (w *WebhookWaker) Close() {
	close(w.stop)
	<-w.done
}
