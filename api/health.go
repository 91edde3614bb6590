package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"
)

// healthz answers while the process is up.
func (s *server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz answers 200 only when the database and Temporal both answer, so a
// load balancer sends no traffic to an instance that would fail it.
func (s *server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	checks := gin.H{}
	ready := true
	if err := s.Store.Ping(ctx); err != nil {
		checks["database"], ready = err.Error(), false
	} else {
		checks["database"] = "ok"
	}
	if _, err := s.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		checks["temporal"], ready = err.Error(), false
	} else {
		checks["temporal"] = "ok"
	}
	status, word := http.StatusOK, "ready"
	if !ready {
		status, word = http.StatusServiceUnavailable, "unavailable"
	}
	c.JSON(status, gin.H{"status": word, "checks": checks})
}

// fail answers with err; an unexplained error while the database is down
// becomes a 503 (retry later), never a 500 or a false 4xx.
func (s *server) fail(c *gin.Context, err error) {
	if e := toError(err); e.Status == http.StatusInternalServerError {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), time.Second)
		defer cancel()
		if pingErr := s.Store.Ping(ctx); pingErr != nil {
			logger(c).Error("database unavailable", "error", err)
			abort(c, errDatabaseUnavailable)
			return
		}
	}
	abort(c, err)
}
