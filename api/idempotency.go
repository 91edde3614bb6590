package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// IdempotencyHeader is honoured on every POST that creates something.
const IdempotencyHeader = "Idempotency-Key"

// idempotent makes a creating POST safe to retry: the first request with a
// key runs and its answer is stored; a retry with the same key and body gets
// that answer again (header Idempotent-Replayed: true); the same key with a
// different body is refused. Keys are scoped to the API token and route and
// remembered for 24 hours. Answers of 5xx are not stored, so a retry after
// an outage runs again.
func (s *server) idempotent(c *gin.Context) {
	key := c.GetHeader(IdempotencyHeader)
	if key == "" {
		c.Next()
		return
	}
	if len(key) > 200 {
		abort(c, newError(http.StatusBadRequest, "invalid_idempotency_key", IdempotencyHeader, "Idempotency-Key must be at most 200 characters"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes))
	if err != nil {
		abort(c, newError(http.StatusRequestEntityTooLarge, "body_too_large", "", "the request body is larger than 1 MiB"))
		return
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	scoped := fmt.Sprintf("%d %s %s %s", token(c).ID, c.Request.Method, c.Request.URL.Path, key)
	ctx := c.Request.Context()

	rec, claimed, err := s.Store.ClaimIdempotencyKey(ctx, scoped, hash, s.Now())
	if err != nil {
		s.fail(c, err)
		return
	}
	for !claimed && !rec.Done { // the first request is still running: wait for its answer
		if rec.RequestHash != hash {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
		if time.Since(rec.CreatedAt) > 30*time.Second {
			abort(c, newError(http.StatusConflict, "idempotency_key_in_use", IdempotencyHeader,
				"a request with this Idempotency-Key is still being processed; retry later"))
			return
		}
		if rec, err = s.Store.GetIdempotencyRecord(ctx, scoped); err != nil {
			s.fail(c, err)
			return
		}
	}
	if !claimed {
		if rec.RequestHash != hash {
			abort(c, newError(http.StatusUnprocessableEntity, "idempotency_key_reused", IdempotencyHeader,
				"this Idempotency-Key was already used with a different request body; use a new key for a new request"))
			return
		}
		c.Header("Idempotent-Replayed", "true")
		c.Data(rec.StatusCode, "application/json; charset=utf-8", []byte(rec.ResponseBody))
		c.Abort()
		return
	}

	rw := &recordingWriter{ResponseWriter: c.Writer}
	c.Writer = rw
	c.Next()
	// Store or release with a fresh context: the client may have gone away.
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if status := rw.Status(); status >= 500 || status == 0 {
		_ = s.Store.ReleaseIdempotencyKey(bg, scoped)
	} else if err := s.Store.CompleteIdempotencyKey(bg, scoped, status, rw.body.String()); err != nil {
		logger(c).Error("storing idempotent response failed", "error", err)
	}
}

type recordingWriter struct {
	gin.ResponseWriter
	body bytes.Buffer
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *recordingWriter) WriteString(s string) (int, error) {
	w.body.WriteString(s)
	return w.ResponseWriter.WriteString(s)
}
