package httpx_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
)

// outageKeys is the real store, except that settling a key (storing an
// answer or releasing a claim) fails while the database is "away".
type outageKeys struct {
	*store.Store
	away  atomic.Bool
	polls atomic.Int64 // looks at a key another request holds
}

func (k *outageKeys) GetIdempotencyRecord(ctx context.Context, key string) (models.IdempotencyRecord, error) {
	k.polls.Add(1)
	return k.Store.GetIdempotencyRecord(ctx, key)
}

var errAway = errors.New("connect: database is not accepting connections")

func (k *outageKeys) ReleaseIdempotencyKey(ctx context.Context, key string) error {
	if k.away.Load() {
		return errAway
	}
	return k.Store.ReleaseIdempotencyKey(ctx, key)
}

func (k *outageKeys) CompleteIdempotencyKey(ctx context.Context, key string, status int, body string) error {
	if k.away.Load() {
		return errAway
	}
	return k.Store.CompleteIdempotencyKey(ctx, key, status, body)
}

// idempotentRoute serves POST /orders behind Idempotent: 503 while fail is
// set, else 201; runs counts the handler's runs.
func idempotentRoute(keys httpx.IdempotencyKeys, now func() time.Time, fail *atomic.Bool, runs *atomic.Int64) *gin.Engine {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.POST("/orders", httpx.Idempotent(keys, now), func(c *gin.Context) {
		runs.Add(1)
		if fail.Load() {
			httpx.Fail(c, httpx.ErrDatabaseUnavailable)
			return
		}
		c.JSON(http.StatusCreated, gin.H{"id": "ord-1"})
	})
	return r
}

func post(r http.Handler, key string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/orders", strings.NewReader(`{"tier":"pos"}`))
	req.Header.Set(httpx.IdempotencyHeader, key)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

// A request failed during a database outage and could not release its
// key either; once the database is back, the client's retry runs at once
// (it used to wait 30 s and then be refused with 409 for a day).
func TestARetryAfterADatabaseOutageRunsAgain(t *testing.T) {
	keys := &outageKeys{Store: testsupport.SQLite(t)}
	var fail atomic.Bool
	var runs atomic.Int64
	r := idempotentRoute(keys, time.Now, &fail, &runs)

	fail.Store(true)
	keys.away.Store(true)
	require.Equal(t, http.StatusServiceUnavailable, post(r, "order-1").Code)
	fail.Store(false)
	keys.away.Store(false)

	start := time.Now()
	w := post(r, "order-1")
	assert.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	assert.Less(t, time.Since(start), 5*time.Second, "the retry does not wait for the failed request's claim to be abandoned")
	assert.Equal(t, int64(2), runs.Load())
	assert.Equal(t, "true", post(r, "order-1").Header().Get("Idempotent-Replayed"), "the answer is stored")
}

// The process that claimed a key died before settling it: a retry takes
// the abandoned claim over instead of being refused until the key expires.
func TestAnAbandonedIdempotencyKeyIsTakenOver(t *testing.T) {
	keys := &outageKeys{Store: testsupport.SQLite(t)}
	keys.away.Store(true) // the claim is never settled
	var fail atomic.Bool
	var runs atomic.Int64
	longAgo := func() time.Time { return time.Now().Add(-2 * time.Minute) }
	fail.Store(true)
	require.Equal(t, http.StatusServiceUnavailable, post(idempotentRoute(keys, longAgo, &fail, &runs), "order-2").Code)

	keys.away.Store(false)
	fail.Store(false)
	w := post(idempotentRoute(keys, time.Now, &fail, &runs), "order-2")
	assert.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	assert.Equal(t, int64(2), runs.Load())
}

// A retry that arrives while the first request is still running waits for
// it; when that request fails (503) and releases the key, the retry runs
// (it used to answer 500 when the claim it waited for disappeared).
func TestARetryWaitingForAFailedRequestRunsIt(t *testing.T) {
	keys := &outageKeys{Store: testsupport.SQLite(t)}
	var runs atomic.Int64
	release := make(chan struct{})
	entered := make(chan struct{})
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.POST("/orders", httpx.Idempotent(keys, time.Now), func(c *gin.Context) {
		if runs.Add(1) == 1 {
			close(entered)
			<-release // the first attempt waits on Temporal, then fails
			httpx.Fail(c, httpx.ErrTemporalUnavailable)
			return
		}
		c.JSON(http.StatusCreated, gin.H{"id": "ord-3"})
	})

	var wg sync.WaitGroup
	var first *httptest.ResponseRecorder
	wg.Go(func() { first = post(r, "order-3") })
	<-entered
	var retry *httptest.ResponseRecorder
	wg.Go(func() { retry = post(r, "order-3") })
	require.Eventually(t, func() bool { return keys.polls.Load() > 0 }, 10*time.Second, 10*time.Millisecond,
		"the retry waits for the first request")
	close(release)
	wg.Wait()

	assert.Equal(t, http.StatusServiceUnavailable, first.Code)
	assert.Equal(t, http.StatusCreated, retry.Code, retry.Body.String())
	assert.Equal(t, int64(2), runs.Load())
}
