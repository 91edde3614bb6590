// Package metrics is licenseflow's Prometheus instrumentation: HTTP
// requests by route, validations, activations, webhooks in and out, emails,
// licenses by status, and the Temporal SDK's own metrics, all on one
// registry served at /metrics. A nil *Metrics counts nothing, so code and
// tests that do not care pass none.
package metrics

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/licenseflow/licenseflow/models"
)

// Metrics holds licenseflow's collectors and the registry they live in.
type Metrics struct {
	registry    *prometheus.Registry
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	validations *prometheus.CounterVec
	activations *prometheus.CounterVec
	webhooksIn  *prometheus.CounterVec
	webhooksOut *prometheus.CounterVec
	emails      *prometheus.CounterVec
	licenses    *licenseGauge
	temporal    *temporalCollector

	// routes caches the series of each (route, method, status), so the
	// request path pays one map read instead of hashing label values.
	routesMu sync.RWMutex
	routes   map[routeKey]routeSeries
	// byCode caches the validation counters of the known codes, for the
	// same reason on the validation hot path.
	byCode map[string]prometheus.Counter
}

type routeKey struct {
	route, method string
	status        int
}

type routeSeries struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

// New makes the collectors and registers them, with the Go runtime's and
// the process's.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "licenseflow_http_requests_total", Help: "HTTP requests answered, by route template, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "licenseflow_http_request_duration_seconds", Help: "Time to answer an HTTP request, by route template and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		validations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "licenseflow_validations_total", Help: "Key validations answered to sites, by result code.",
		}, []string{"code"}),
		activations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "licenseflow_activations_total", Help: "Domain activations asked by sites, by result (ACTIVATED or the refusal's code) and whether the domain is a staging copy.",
		}, []string{"result", "staging"}),
		webhooksIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "licenseflow_webhooks_received_total", Help: "Webhooks received, by source and outcome.",
		}, []string{"source", "outcome"}),
		webhooksOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "licenseflow_webhooks_delivered_total", Help: "Outbound webhook delivery attempts, by outcome.",
		}, []string{"outcome"}),
		emails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "licenseflow_emails_total", Help: "Emails handled by the outbox, by template and resulting status.",
		}, []string{"template", "status"}),
		licenses: &licenseGauge{desc: prometheus.NewDesc("licenseflow_licenses",
			"Licenses by status, read from the database at scrape time.", []string{"status"}, nil)},
		temporal: newTemporalCollector(),
		byCode:   map[string]prometheus.Counter{},
		routes:   map[routeKey]routeSeries{},
	}
	m.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.latency, m.validations, m.activations, m.webhooksIn, m.webhooksOut, m.emails, m.licenses, m.temporal)
	for _, code := range []string{models.CodeNotFound, models.CodeRevoked, models.CodeSuspended, models.CodeNotEntitled,
		models.CodeDomainNotActivated, models.CodeTooManyDomains, models.CodeExpired, models.CodeValid} {
		m.byCode[code] = m.validations.WithLabelValues(code)
	}
	return m
}

// Handler serves the registry in Prometheus' text format. A non-empty token
// must come as "Authorization: Bearer <token>" (for scrapers that reach
// /metrics on the public address).
func (m *Metrics) Handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
	if token == "" {
		return h
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "metrics need Authorization: Bearer <LICENSEFLOW_METRICS_TOKEN>", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// ObserveRequest counts an answered request under its route template
// ("unmatched" for unknown paths, which keeps the series bounded).
func (m *Metrics) ObserveRequest(route, method string, status int, took time.Duration) {
	if m == nil {
		return
	}
	if route == "" {
		route = "unmatched"
	}
	key := routeKey{route, method, status}
	m.routesMu.RLock()
	series, ok := m.routes[key]
	m.routesMu.RUnlock()
	if !ok {
		series = routeSeries{
			count:   m.requests.WithLabelValues(route, method, strconv.Itoa(status)),
			latency: m.latency.WithLabelValues(route, method),
		}
		m.routesMu.Lock()
		m.routes[key] = series
		m.routesMu.Unlock()
	}
	series.count.Inc()
	series.latency.Observe(took.Seconds())
}

// Validation counts a validation answer by its code.
func (m *Metrics) Validation(code string) {
	if m == nil {
		return
	}
	if c, ok := m.byCode[code]; ok {
		c.Inc()
		return
	}
	m.validations.WithLabelValues(code).Inc()
}

// Activation counts an activation by its result: ACTIVATED, or the code
// of the refusal.
func (m *Metrics) Activation(result string, staging bool) {
	if m == nil {
		return
	}
	m.activations.WithLabelValues(result, strconv.FormatBool(staging)).Inc()
}

// WebhookIn counts a received webhook (source "stripe") by outcome:
// processed, ignored, failed, duplicate, rejected (bad signature) or
// unavailable (answered 503 so the sender retries).
func (m *Metrics) WebhookIn(source, outcome string) {
	if m == nil {
		return
	}
	m.webhooksIn.WithLabelValues(source, outcome).Inc()
}

// WebhookOut counts one outbound webhook delivery attempt by outcome
// (delivered, failed, …).
func (m *Metrics) WebhookOut(outcome string) {
	if m == nil {
		return
	}
	m.webhooksOut.WithLabelValues(outcome).Inc()
}

// Email counts an outbox message reaching a status (sent, held, failed,
// queued again for a retry) by template.
func (m *Metrics) Email(template string, status models.EmailStatus) {
	if m == nil {
		return
	}
	m.emails.WithLabelValues(template, string(status)).Inc()
}

// LicenseCounter counts licenses by status.
type LicenseCounter func(ctx context.Context) (map[models.LicenseStatus]int, error)

// WatchLicenses reports licenses by status at scrape time with count, at
// most every licenseReadInterval (one grouped query).
func (m *Metrics) WatchLicenses(count LicenseCounter) {
	if m == nil {
		return
	}
	m.licenses.mu.Lock()
	defer m.licenses.mu.Unlock()
	m.licenses.count = count
}

// licenseReadInterval bounds how often scrapes query the database.
const licenseReadInterval = 15 * time.Second

// licenseGauge reads licenses by status when scraped, reusing the last
// reading for licenseReadInterval so frequent scrapes stay cheap.
type licenseGauge struct {
	desc   *prometheus.Desc
	mu     sync.Mutex
	count  LicenseCounter
	last   map[models.LicenseStatus]int
	readAt time.Time
}

func (g *licenseGauge) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

func (g *licenseGauge) Collect(ch chan<- prometheus.Metric) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.count == nil {
		return
	}
	if g.last == nil || time.Since(g.readAt) > licenseReadInterval {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		counts, err := g.count(ctx)
		cancel()
		if err != nil {
			ch <- prometheus.NewInvalidMetric(g.desc, err)
			return
		}
		g.last, g.readAt = counts, time.Now()
	}
	for _, st := range models.LicenseStatuses {
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(g.last[st]), string(st))
	}
}
