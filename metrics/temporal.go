package metrics

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// TemporalHandler is a client.MetricsHandler that records the Temporal
// SDK's metrics (polls, task latencies, workflow and activity outcomes,
// request failures) in this registry: counters as <name>_total, timers as
// <name>_seconds histograms, gauges as they are. Pass it as
// client.Options.MetricsHandler; workers built on that client report too.
//
// It is written over client_golang directly rather than through the SDK's
// tally adapter: that adapter is a separate module our module source does
// not carry, and tally's Prometheus reporter would bring a second metrics
// library into a process that needs one. The SDK emits the same metric
// name with different tag sets (a poll has no workflow type, a task does),
// which a CounterVec cannot hold, so each (name, tags) pair is its own
// series in one unchecked collector.
func (m *Metrics) TemporalHandler() client.MetricsHandler {
	if m == nil {
		return client.MetricsNopHandler
	}
	return temporalHandler{c: m.temporal}
}

// temporalBuckets suit the SDK's latencies: task scheduling and execution,
// long polls (up to a minute), requests.
var temporalBuckets = []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}

type temporalHandler struct {
	c    *temporalCollector
	tags map[string]string
}

func (h temporalHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := maps.Clone(h.tags)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, tags)
	return temporalHandler{c: h.c, tags: merged}
}

func (h temporalHandler) Counter(name string) client.MetricsCounter {
	return counterAdapter{h.c.seriesOf(name+"_total", h.tags, func(opts prometheus.Opts) prometheus.Collector {
		return prometheus.NewCounter(prometheus.CounterOpts(opts))
	}).(prometheus.Counter)}
}

func (h temporalHandler) Gauge(name string) client.MetricsGauge {
	return gauge{h.c.seriesOf(name, h.tags, func(opts prometheus.Opts) prometheus.Collector {
		return prometheus.NewGauge(prometheus.GaugeOpts(opts))
	}).(prometheus.Gauge)}
}

func (h temporalHandler) Timer(name string) client.MetricsTimer {
	return timer{h.c.seriesOf(name+"_seconds", h.tags, func(opts prometheus.Opts) prometheus.Collector {
		return prometheus.NewHistogram(prometheus.HistogramOpts{Name: opts.Name, Help: opts.Help, ConstLabels: opts.ConstLabels, Buckets: temporalBuckets})
	}).(prometheus.Histogram)}
}

// counterAdapter, gauge and timer adapt Prometheus' methods to the SDK's.
type (
	counterAdapter struct{ prometheus.Counter }
	gauge          struct{ prometheus.Gauge }
	timer          struct{ prometheus.Histogram }
)

func (c counterAdapter) Inc(delta int64) { c.Add(float64(delta)) }
func (g gauge) Update(v float64)         { g.Set(v) }
func (t timer) Record(d time.Duration)   { t.Observe(d.Seconds()) }

// temporalCollector holds one series per (name, tags).
type temporalCollector struct {
	mu     sync.RWMutex
	series map[string]prometheus.Collector
}

func newTemporalCollector() *temporalCollector {
	return &temporalCollector{series: map[string]prometheus.Collector{}}
}

var invalidLabelChars = regexp.MustCompile(`[^a-zA-Z0-9_]`)

// seriesOf finds or makes the series of name with tags.
func (c *temporalCollector) seriesOf(name string, tags map[string]string, newSeries func(prometheus.Opts) prometheus.Collector) prometheus.Collector {
	keys := slices.Sorted(maps.Keys(tags))
	var id strings.Builder
	id.WriteString(name)
	for _, k := range keys {
		id.WriteString("\xff" + k + "=" + tags[k])
	}
	c.mu.RLock()
	s, ok := c.series[id.String()]
	c.mu.RUnlock()
	if ok {
		return s
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.series[id.String()]; ok {
		return s
	}
	labels := prometheus.Labels{}
	for _, k := range keys {
		labels[invalidLabelChars.ReplaceAllString(k, "_")] = tags[k]
	}
	s = newSeries(prometheus.Opts{Name: invalidLabelChars.ReplaceAllString(name, "_"), Help: "Temporal SDK metric " + name + ".", ConstLabels: labels})
	c.series[id.String()] = s
	return s
}

// Describe sends nothing: the collector is unchecked, as its series appear
// while the SDK runs.
func (c *temporalCollector) Describe(chan<- *prometheus.Desc) {}

func (c *temporalCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, s := range c.series {
		s.Collect(ch)
	}
}
