package httpx

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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
	TakeOverIdempotencyKey(ctx context.Context, key string, claimedAt, now time.Time) (bool, error)
}

// How long a claimed key is waited for: after inFlightClaim a retry is told
// to come back later; a claim older than abandonedClaim is taken over, as
// no request runs that long (its process died, or the database was away
// whenever it tried to settle the key).
const (
	inFlightClaim  = 30 * time.Second
	abandonedClaim = time.Minute
)

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

	rec, claimed, err := claim(ctx, keys, scoped, hash, now)
	for err == nil && !claimed && !rec.Done && rec.RequestHash == hash {
		// The first request with this key is still running: wait for its answer.
		switch age := time.Since(rec.CreatedAt); {
		case age > abandonedClaim:
			at := now()
			switch claimed, err = keys.TakeOverIdempotencyKey(ctx, scoped, rec.CreatedAt, at); {
			case claimed:
				rec.CreatedAt = at
			case err == nil: // another retry took it over
				rec, claimed, err = reread(ctx, keys, scoped, hash, now)
			}
			continue
		case age > inFlightClaim:
			Fail(c, NewError(http.StatusConflict, "idempotency_key_in_use", IdempotencyHeader,
				"a request with this Idempotency-Key is still being processed; retry later"))
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
		rec, claimed, err = reread(ctx, keys, scoped, hash, now)
	}
	if err != nil {
		Fail(c, err)
		return
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
	status, answer := rw.Status(), rw.body.String()
	if what, sensitive := c.Get(ctxSensitive); sensitive && status < 300 {
		// The answer holds a secret shown once: it is never stored. A retry
		// is told so (409) and runs nothing.
		status, answer = http.StatusConflict, models.SecretShownOnceBody(what.(string))
	}
	if status >= 500 || status == 0 {
		settle(c, rec.CreatedAt, "release", func(ctx context.Context) error { return keys.ReleaseIdempotencyKey(ctx, scoped) })
	} else {
		settle(c, rec.CreatedAt, "store the answer", func(ctx context.Context) error {
			return keys.CompleteIdempotencyKey(ctx, scoped, status, answer)
		})
	}
}

// claim claims a key for this request, or returns the state of the
// request holding it. A claim released meanwhile (its request failed in a
// way a retry may fix) is claimed again.
func claim(ctx context.Context, keys IdempotencyKeys, scoped, hash string, now func() time.Time) (rec models.IdempotencyRecord, claimed bool, err error) {
	for range 3 {
		if rec, claimed, err = keys.ClaimIdempotencyKey(ctx, scoped, hash, now()); !errors.Is(err, models.ErrNotFound) {
			break
		}
	}
	return rec, claimed, err
}

// reread looks at a key held by another request again (see claim).
func reread(ctx context.Context, keys IdempotencyKeys, scoped, hash string, now func() time.Time) (models.IdempotencyRecord, bool, error) {
	rec, err := keys.GetIdempotencyRecord(ctx, scoped)
	if errors.Is(err, models.ErrNotFound) {
		return claim(ctx, keys, scoped, hash, now)
	}
	return rec, false, err
}

// settle stores the answer to a key or releases it, with a fresh context
// (the client may have gone away). When the database is away (the reason
// a request just failed, often), it keeps trying in the background until
// the database answers, so the client's retry after the outage finds the
// key released or answered instead of waiting for the claim to be
// abandoned; it stops in time for a take-over never to race with it.
func settle(c *gin.Context, claimedAt time.Time, what string, fn func(context.Context) error) {
	try := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return fn(ctx)
	}
	if try() == nil {
		return
	}
	log := Logger(c)
	go func() {
		for time.Since(claimedAt) < abandonedClaim-10*time.Second {
			time.Sleep(250 * time.Millisecond)
			if try() == nil {
				return
			}
		}
		log.Error("could not "+what+" of an Idempotency-Key; a retry takes the key over when its claim is abandoned", "after", abandonedClaim)
	}()
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
