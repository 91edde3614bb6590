package app

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/lifecycle"
)

// health answers the load balancer's questions.
type health struct {
	store     httpx.Pinger
	lifecycle lifecycle.Client
	log       *slog.Logger
}

// healthz answers while the process is up.
func (h health) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz answers 200 only when the database and Temporal both answer, so a
// load balancer sends no traffic to an instance that would fail it. The
// answer is public: it says which part is down, the log says why (the raw
// error names hosts, ports and users).
func (h health) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	checks := gin.H{}
	ready := true
	if err := h.store.Ping(ctx); err != nil {
		h.log.Warn("readiness: the database does not answer", "error", err)
		checks["database"], ready = "unavailable", false
	} else {
		checks["database"] = "ok"
	}
	if err := h.lifecycle.CheckHealth(ctx); err != nil {
		h.log.Warn("readiness: Temporal does not answer", "error", err)
		checks["temporal"], ready = "unavailable", false
	} else {
		checks["temporal"] = "ok"
	}
	status, word := http.StatusOK, "ready"
	if !ready {
		status, word = http.StatusServiceUnavailable, "unavailable"
	}
	c.JSON(status, gin.H{"status": word, "checks": checks})
}

// HealthHandler serves /healthz and /readyz alone, for a process without
// the API (a worker), so an orchestrator can watch it too.
func HealthHandler(st httpx.Pinger, flows lifecycle.Client, log *slog.Logger) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	h := health{store: st, lifecycle: flows, log: log}
	r.GET("/healthz", h.healthz)
	r.GET("/readyz", h.readyz)
	return r
}
