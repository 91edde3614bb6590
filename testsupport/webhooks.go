package testsupport

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/webhooks"
)

// WebhookReceiver is a CRM's webhook endpoint on loopback: it verifies the
// signature of every delivery, records it with its answer, and can be taken
// down (connections refused) and brought back on the same address, or told
// how to answer.
type WebhookReceiver struct {
	URL  string
	t    testing.TB
	addr string

	mu       sync.Mutex
	srv      *http.Server
	secret   string
	answer   func(models.WebhookPayload) int
	requests []ReceivedWebhook
	changed  chan struct{}
}

// ReceivedWebhook is one delivery as the receiver saw it.
type ReceivedWebhook struct {
	Payload models.WebhookPayload
	Body    []byte
	Header  http.Header
	// Signature is webhooks.Verify's verdict with the receiver's secret.
	Signature error
	// Status is what the receiver answered.
	Status int
	At     time.Time
}

// Hang is an answer that keeps the request open until the sender gives up.
const Hang = -1

// StartWebhookReceiver listens on a loopback port until the test ends.
func StartWebhookReceiver(t testing.TB) *WebhookReceiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	r := &WebhookReceiver{t: t, addr: ln.Addr().String(), URL: "http://" + ln.Addr().String() + "/hooks", changed: make(chan struct{})}
	r.serve(ln)
	t.Cleanup(r.Down)
	return r
}

// SetSecret is the endpoint's signing secret, as shown when it was created.
func (r *WebhookReceiver) SetSecret(secret string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secret = secret
}

// Answer decides the status of each delivery (Hang: no answer); nil answers 200.
func (r *WebhookReceiver) Answer(fn func(models.WebhookPayload) int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer = fn
}

// Down stops listening: deliveries meet a refused connection.
func (r *WebhookReceiver) Down() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Up listens again on the same address.
func (r *WebhookReceiver) Up() {
	r.t.Helper()
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatalf("listen again on %s: %v", r.addr, err)
	}
	r.serve(ln)
}

func (r *WebhookReceiver) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(r.receive), ReadHeaderTimeout: 5 * time.Second}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.t.Errorf("webhook receiver: %v", err)
		}
	}()
}

func (r *WebhookReceiver) receive(w http.ResponseWriter, req *http.Request) {
	// Only deliveries are recorded. Its port may have belonged to a server
	// a previous test stopped, whose clients still reconnect to it for a
	// while (a gRPC client's preface arrives as "PRI *").
	if req.Method != http.MethodPost || req.URL.Path != "/hooks" {
		http.NotFound(w, req)
		return
	}
	body, _ := io.ReadAll(req.Body)
	got := ReceivedWebhook{Body: body, Header: req.Header.Clone(), Status: http.StatusOK, At: time.Now()}
	if err := json.Unmarshal(body, &got.Payload); err != nil {
		got.Status = http.StatusBadRequest
	}
	r.mu.Lock()
	got.Signature = webhooks.Verify(body, req.Header.Get(webhooks.SignatureHeader), r.secret, webhooks.DefaultTolerance)
	if r.answer != nil && got.Status == http.StatusOK {
		got.Status = r.answer(got.Payload)
	}
	r.mu.Unlock()
	if got.Status == Hang {
		<-req.Context().Done()
	} else {
		w.WriteHeader(got.Status)
		_, _ = w.Write([]byte(http.StatusText(got.Status)))
	}
	r.mu.Lock()
	r.requests = append(r.requests, got)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

// Requests returns every delivery received, in arrival order.
func (r *WebhookReceiver) Requests() []ReceivedWebhook {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ReceivedWebhook(nil), r.requests...)
}

// Accepted returns the deliveries answered with a 2xx, in arrival order.
func (r *WebhookReceiver) Accepted() []ReceivedWebhook {
	var out []ReceivedWebhook
	for _, got := range r.Requests() {
		if got.Status >= 200 && got.Status < 300 {
			out = append(out, got)
		}
	}
	return out
}

// WaitUntil waits for the deliveries received so far to satisfy cond,
// woken by each delivery; it fails the test after timeout.
func (r *WebhookReceiver) WaitUntil(what string, timeout time.Duration, cond func(received []ReceivedWebhook) bool) {
	r.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok, changed := cond(r.requests), r.changed
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			r.t.Fatalf("timed out after %s waiting for %s (%d deliveries received)", timeout, what, len(r.Requests()))
		}
	}
}

// WaitAccepted waits until n deliveries were accepted and returns them.
func (r *WebhookReceiver) WaitAccepted(n int, timeout time.Duration) []ReceivedWebhook {
	r.t.Helper()
	r.WaitUntil("accepted deliveries", timeout, func(all []ReceivedWebhook) bool {
		ok := 0
		for _, got := range all {
			if got.Status >= 200 && got.Status < 300 {
				ok++
			}
		}
		return ok >= n
	})
	return r.Accepted()
}
