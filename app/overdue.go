package app

import (
	"context"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/licenseflow/licenseflow/lifecycle"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/workflows"
)

// OverdueWebhooks shapes the worker's check for deliveries whose wake-up
// was lost; zero fields take the defaults.
type OverdueWebhooks struct {
	// Every is how often the database is asked (default a minute).
	Every time.Duration
	// After is how long a pending delivery may wait for a dispatcher before
	// it is overdue (default a minute): a woken dispatcher attempts a new
	// delivery within seconds, and a retry on time.
	After time.Duration
	// Checked, when set, hears the outcome of every check: the endpoints
	// whose dispatchers it woke (tests wait on it).
	Checked func(woken []string, err error)
}

// Overdue-check defaults: a lost wake-up delays a delivery by two minutes
// at most.
const (
	DefaultOverdueCheck = time.Minute
	DefaultOverdueAfter = time.Minute
)

// WatchOverdueWebhooks wakes, every o.Every, the dispatchers of endpoints
// with an overdue delivery: a wake-up lost between a commit and its signal
// (a process that stopped in between, Temporal away) or a dispatcher that
// stopped only delays deliveries. It is a plain query, not a workflow, so
// an idle installation adds no workflow runs for operators to scroll past;
// a dispatcher is only signalled (or started) when a delivery is overdue.
func WatchOverdueWebhooks(st *store.Store, c client.Client, policy workflows.WebhookPolicy, o OverdueWebhooks, log *slog.Logger) *Watch {
	if log == nil {
		log = slog.Default()
	}
	if o.Every <= 0 {
		o.Every = DefaultOverdueCheck
	}
	if o.After <= 0 {
		o.After = DefaultOverdueAfter
	}
	flows := lifecycle.New(c, lifecycle.Options{Webhooks: policy})
	return watchEvery(o.Every, func() {
		woken, err := wakeOverdue(st, flows, o.After, log)
		if err != nil {
			log.Warn("overdue webhook deliveries not checked; trying again later", "error", err)
		}
		if o.Checked != nil {
			o.Checked(woken, err)
		}
	})
}

// wakeOverdue wakes the dispatcher of every endpoint with a delivery
// overdue by after, and returns those it woke.
func wakeOverdue(st *store.Store, flows *lifecycle.Temporal, after time.Duration, log *slog.Logger) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	due, err := st.OverdueWebhookEndpoints(ctx, time.Now(), after)
	if err != nil {
		return nil, err
	}
	var woken []string
	for _, id := range due {
		if err := flows.WakeWebhookDispatcher(ctx, id); err != nil {
			log.Warn("webhook dispatcher with overdue deliveries not woken; trying again at the next check", "endpoint", id, "error", err)
			continue
		}
		log.Info("woke the webhook dispatcher of an endpoint with overdue deliveries", "endpoint", id)
		woken = append(woken, id)
	}
	return woken, nil
}
