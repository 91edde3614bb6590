package httpx

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

	"github.com/licenseflow/licenseflow/models"
)

// IdempotencyHeader is honoured on every POST that creates something.
const IdempotencyHeader = "Idempotency-Key"

// IdempotencyKeys remember the answers to requests with an Idempotency-Key.
type IdempotencyKeys interface {
	ClaimIdempotencyKey(ctx context.Context, key, hash string, now time.Time) (models.IdempotencyRecord, bool, error)
	GetIdempotencyRecord(ctx context.Context, key string) (models.IdempotencyRecord, error)
	CompleteIdempotencyKey(ctx context.Context, key string, status int, body string) error
	ReleaseIdempotencyKey(ctx context.Context, key string) error
}

// Idempotent makes a creating POST safe to retry: the first request with a
// key runs and its answer is stored; a retry with the same key and body gets
// that answer again (header Idempotent-Replayed: true); the same key with a
// different body is refused. Keys are scoped to the API token and route and
// remembered for 24 hours (then swept). Answers of 5xx are not stored, so a
// retry after an outage runs again. Answers marked Sensitive are never
// stored: a retry is told the secret was shown once.
func Idempotent(keys IdempotencyKeys, now func() time.Time) gin.HandlerFunc {
	return func(c *gin.Context) { idempotent(c, keys, now) }
}

func idempotent(c *gin.Context, keys IdempotencyKeys, now func() time.Time) {
	key := c.GetHeader(IdempotencyHeader)
	if key == "" {
		c.Next()
		return
	}
	if len(key) > 200 || !cleanText(key) {
		Fail(c, NewError(http.StatusBadRequest, "invalid_idempotency_key", IdempotencyHeader, "Idempotency-Key must be at most 200 bytes of UTF-8 text without control characters, such as a UUID"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxBodyBytes))
	if err != nil {
		Fail(c, NewError(http.StatusRequestEntityTooLarge, "body_too_large", "", "the request body is larger than 1 MiB"))
		return
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	scoped := fmt.Sprintf("%d %s %s %s", Token(c).ID, c.Request.Method, c.Request.URL.Path, key)
	ctx := c.Request.Context()

	rec, claimed, err := keys.ClaimIdempotencyKey(ctx, scoped, hash, now())
	if err != nil {
		Fail(c, err)
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
			Fail(c, NewError(http.StatusConflict, "idempotency_key_in_use", IdempotencyHeader,
				"a request with this Idempotency-Key is still being processed; retry later"))
			return
		}
		if rec, err = keys.GetIdempotencyRecord(ctx, scoped); err != nil {
			Fail(c, err)
			return
		}
	}
	if !claimed {
		if rec.RequestHash != hash {
			Fail(c, NewError(http.StatusUnprocessableEntity, "idempotency_key_reused", IdempotencyHeader,
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
	status, answer := rw.Status(), rw.body.String()
	if what, sensitive := c.Get(ctxSensitive); sensitive && status < 300 {
		// The answer holds a secret shown once: it is never stored. A retry
		// is told so (409) and runs nothing.
		status, answer = http.StatusConflict, models.SecretShownOnceBody(what.(string))
	}
	if status >= 500 || status == 0 {
		_ = keys.ReleaseIdempotencyKey(bg, scoped)
	} else if err := keys.CompleteIdempotencyKey(bg, scoped, status, answer); err != nil {
		Logger(c).Error("storing idempotent response failed", "error", err)
	}
}

// Sensitive marks the request's answer as holding a secret that is shown
// once (a new API token's plaintext): Idempotent does not store it, and a
// retry with the same key gets a 409 secret_shown_once naming what (e.g.
// `token 7 "crm"`) instead of a replay.
func Sensitive(c *gin.Context, what string) { c.Set(ctxSensitive, what) }

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
