package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// Pinger checks the database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Options shape a router.
type Options struct {
	Logger *slog.Logger
	// Database is pinged when an error nothing explains happens, so an
	// outage answers 503 rather than 500.
	Database Pinger
	// TrustedProxies may set X-Forwarded-For (client IPs for rate limits);
	// empty trusts none.
	TrustedProxies []string
	// Requests is told about every answered request (metrics); nil: nobody.
	Requests RequestObserver
}

// RequestObserver is told about every answered request, by route template
// ("" when no route matched).
type RequestObserver interface {
	ObserveRequest(route, method string, status int, took time.Duration)
}

const (
	ctxLogger   = "licenseflow.logger"
	ctxToken    = "licenseflow.token"
	ctxDatabase = "licenseflow.database"
	// ctxSensitive marks an answer that must not be stored (see Sensitive).
	ctxSensitive = "licenseflow.sensitive"
)

// NewRouter returns a gin engine that tags and logs every request, turns
// panics into 500 answers, and answers unknown routes and methods with
// licenseflow's JSON errors. Each audience's package mounts its routes on it.
func NewRouter(o Options) *gin.Engine {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	r := gin.New()
	if err := r.SetTrustedProxies(o.TrustedProxies); err != nil {
		o.Logger.Error("ignoring LICENSEFLOW_TRUSTED_PROXIES", "error", err)
		_ = r.SetTrustedProxies(nil)
	}
	r.HandleMethodNotAllowed = true
	r.Use(requestContext(o.Logger, o.Database, o.Requests), recoverPanic, cleanURL)
	r.NoRoute(func(c *gin.Context) {
		Fail(c, NewError(http.StatusNotFound, "route_not_found", "", "no such endpoint: "+c.Request.Method+" "+c.Request.URL.Path))
	})
	r.NoMethod(func(c *gin.Context) {
		Fail(c, NewError(http.StatusMethodNotAllowed, "method_not_allowed", "", c.Request.Method+" is not allowed on "+c.Request.URL.Path))
	})
	return r
}

// requestContext tags the request with an id (echoed in X-Request-ID), and
// logs and reports it when done.
func requestContext(log *slog.Logger, db Pinger, observer RequestObserver) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-ID")
		if id == "" || len(id) > 64 {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Header("X-Request-ID", id)
		// The request's logger is made when something logs (see Logger):
		// tagging one for every request would cost more than most answers.
		c.Set(ctxLogger, requestLog{base: log, id: id})
		if db != nil {
			c.Set(ctxDatabase, db)
		}
		start := time.Now()
		c.Next()
		if observer != nil {
			observer.ObserveRequest(c.FullPath(), c.Request.Method, c.Writer.Status(), time.Since(start))
		}
		// Successful requests log at debug: sites validate thousands of times a
		// second, and an access log line each would cost more than the answer.
		level := slog.LevelDebug
		switch status := c.Writer.Status(); {
		case status >= 500:
			level = slog.LevelError
		case status >= 400:
			level = slog.LevelInfo
		}
		if log.Enabled(c.Request.Context(), level) {
			Logger(c).Log(c.Request.Context(), level, "http request", "method", c.Request.Method, "path", c.FullPath(),
				"status", c.Writer.Status(), "duration_ms", time.Since(start).Milliseconds())
		}
	}
}

func recoverPanic(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			Logger(c).Error("panic serving request", "panic", r)
			Fail(c, NewError(http.StatusInternalServerError, "internal", "", "something went wrong on our side; the error is logged"))
		}
	}()
	c.Next()
}

// cleanURL refuses a path or query that is not UTF-8 text or holds
// control characters (%00, %0A, %FF): no route means them, and a database
// asked about them fails instead of answering "not found".
func cleanURL(c *gin.Context) {
	if !cleanText(c.Request.URL.Path) || !cleanText(c.Request.URL.RawQuery) {
		Fail(c, NewError(http.StatusBadRequest, "invalid_encoding", "", "the URL holds characters that are not UTF-8 text (control characters or invalid bytes)"))
		return
	}
	if q, err := url.QueryUnescape(c.Request.URL.RawQuery); err == nil && !cleanText(q) {
		Fail(c, NewError(http.StatusBadRequest, "invalid_encoding", "", "the query holds characters that are not UTF-8 text (control characters or invalid bytes)"))
		return
	}
	c.Next()
}

func cleanText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// requestLog is what a request's logger is made of.
type requestLog struct {
	base *slog.Logger
	id   string
}

// Logger is the request's logger, tagged with its request id.
func Logger(c *gin.Context) *slog.Logger {
	l, _ := c.Get(ctxLogger)
	switch l := l.(type) {
	case *slog.Logger:
		return l
	case requestLog:
		tagged := l.base.With("request_id", l.id)
		c.Set(ctxLogger, tagged)
		return tagged
	}
	return slog.Default()
}

// NoStore keeps answers out of every cache, the browser's included: the
// pages, JSON answers and files behind it show keys, webhook secrets,
// emails and invoices, which must not linger on a shared computer or in a
// proxy.
func NoStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Next()
}
