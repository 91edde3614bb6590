package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/webhooks"
)

// WebhookPageInput asks for an endpoint's next pending deliveries.
type WebhookPageInput struct {
	EndpointID string
	// Skip are deliveries the dispatcher already holds.
	Skip  []uint64
	Limit int
}

// WebhookPageResult is a page of pending deliveries, in event order.
type WebhookPageResult struct {
	Deliveries []DeliveryRef
	// Paused: the endpoint is disabled; its deliveries wait.
	Paused bool
	// Gone: the endpoint was deleted.
	Gone bool
}

// DeliveryRef is a delivery as the dispatcher schedules it.
type DeliveryRef struct {
	ID        uint64
	EventID   string
	LicenseID string
	// NextAttemptAt is when an earlier attempt asked to be tried again.
	NextAttemptAt *time.Time
}

// PendingWebhookDeliveries returns an endpoint's next pending deliveries.
func (a *Activities) PendingWebhookDeliveries(ctx context.Context, in WebhookPageInput) (WebhookPageResult, error) {
	e, err := a.Store.GetWebhookEndpoint(ctx, in.EndpointID)
	if errors.Is(err, models.ErrNotFound) {
		return WebhookPageResult{Gone: true}, nil
	}
	if err != nil {
		return WebhookPageResult{}, err
	}
	if !e.Enabled {
		return WebhookPageResult{Paused: true}, nil
	}
	ds, err := a.Store.PendingWebhookDeliveries(ctx, in.EndpointID, in.Skip, in.Limit)
	if err != nil {
		return WebhookPageResult{}, err
	}
	out := WebhookPageResult{Deliveries: make([]DeliveryRef, len(ds))}
	for i, d := range ds {
		out.Deliveries[i] = DeliveryRef{ID: d.ID, EventID: d.EventID, LicenseID: d.LicenseID, NextAttemptAt: d.NextAttemptAt}
	}
	return out, nil
}

// DeliverWebhookInput is one attempt at a delivery, and the retry policy
// it is attempted under (the activity's own Temporal retry policy).
type DeliverWebhookInput struct {
	DeliveryID uint64
	// Timeout bounds the HTTP request.
	Timeout time.Duration
	// RetryFor is how long a failing delivery is retried, from its first
	// attempt, before it is given up.
	RetryFor time.Duration
	// FirstRetry and MaxRetry shape the exponential backoff between attempts.
	FirstRetry time.Duration
	MaxRetry   time.Duration
}

// DeliverWebhookResult is how a delivery ended.
type DeliverWebhookResult struct {
	Status     models.DeliveryStatus
	StatusCode int
	// Paused: the endpoint is disabled; the delivery stays pending.
	Paused bool
	// Gone: the delivery or its endpoint was deleted.
	Gone bool
}

// ErrTypeWebhookNotDelivered is the retryable failure of an attempt.
const ErrTypeWebhookNotDelivered = "WebhookNotDelivered"

// leaseMargin keeps a delivery's lease a little beyond its request timeout.
const leaseMargin = 5 * time.Second

// DeliverWebhook makes one attempt: it claims the delivery (so no other
// attempt overlaps), POSTs the signed event, and records the answer. A 2xx
// delivers it; a redirect or a 4xx other than 408, 425 and 429 is the
// receiver refusing it, and fails it at once; anything else (5xx, timeout,
// connection refused) is retried with exponential backoff until RetryFor
// has passed since the first attempt, then the delivery fails. A failed
// delivery can be redelivered by an operator.
func (a *Activities) DeliverWebhook(ctx context.Context, in DeliverWebhookInput) (DeliverWebhookResult, error) {
	now := a.now()
	dctx, cancel := ownCall(ctx)
	claim, err := a.Store.ClaimWebhookDelivery(dctx, in.DeliveryID, now, in.Timeout+leaseMargin)
	cancel()
	switch {
	case errors.Is(err, models.ErrNotFound):
		return DeliverWebhookResult{Gone: true}, nil
	case err != nil:
		return DeliverWebhookResult{}, ownFailure(err)
	case claim.Delivery.Status != models.DeliveryPending:
		return DeliverWebhookResult{Status: claim.Delivery.Status, StatusCode: claim.Delivery.LastStatusCode}, nil
	case !claim.Endpoint.Enabled:
		return DeliverWebhookResult{Status: models.DeliveryPending, Paused: true}, nil
	case claim.InFlight:
		wait := in.Timeout + leaseMargin
		if lease := claim.Delivery.LeaseUntil; lease != nil {
			wait = max(lease.Sub(now), time.Second)
		}
		return DeliverWebhookResult{}, temporal.NewApplicationErrorWithOptions("another attempt of this delivery is in flight",
			ErrTypeWebhookNotDelivered, temporal.ApplicationErrorOptions{NextRetryDelay: wait})
	}
	attempt := a.attemptWebhook(ctx, claim, in.Timeout)
	d := claim.Delivery
	if attempt.Outcome == models.DeliveryPending && d.FirstAttemptAt != nil && !now.Before(d.FirstAttemptAt.Add(in.RetryFor)) {
		attempt.Outcome = models.DeliveryFailed
		attempt.Error = fmt.Sprintf("gave up after %d attempts over %s: %s", d.Attempts, now.Sub(*d.FirstAttemptAt).Round(time.Second), attempt.Error)
	}
	var delay time.Duration
	if attempt.Outcome == models.DeliveryPending {
		delay = backoff(activity.GetInfo(ctx).Attempt, in.FirstRetry, in.MaxRetry)
		next := now.Add(delay)
		attempt.NextAttemptAt = &next
	}
	// Recorded even when the attempt is being cancelled: the endpoint has
	// answered, and the next attempt must know.
	rctx, cancel := ownCall(context.WithoutCancel(ctx))
	err = a.Store.RecordWebhookAttempt(rctx, d.ID, attempt)
	cancel()
	if err != nil {
		return DeliverWebhookResult{}, ownFailure(err)
	}
	outcome := string(attempt.Outcome)
	if attempt.Outcome == models.DeliveryPending {
		outcome = "retrying"
	}
	a.Metrics.WebhookOut(outcome)
	if attempt.Outcome == models.DeliveryPending {
		return DeliverWebhookResult{}, temporal.NewApplicationErrorWithOptions(
			fmt.Sprintf("%s not delivered to endpoint %s: %s", claim.Event.ID, claim.Endpoint.ID, attempt.Error),
			ErrTypeWebhookNotDelivered, temporal.ApplicationErrorOptions{NextRetryDelay: delay})
	}
	return DeliverWebhookResult{Status: attempt.Outcome, StatusCode: attempt.StatusCode}, nil
}

// backoff is the wait after the attempt-th attempt: first, doubling up to most.
func backoff(attempt int32, first, most time.Duration) time.Duration {
	d := first
	for i := int32(1); i < attempt && d < most; i++ {
		d *= 2
	}
	return min(d, most)
}

// attemptWebhook sends one signed delivery and classifies the answer.
func (a *Activities) attemptWebhook(ctx context.Context, c models.DeliveryClaim, timeout time.Duration) models.DeliveryAttempt {
	at := a.now()
	body, err := a.webhookBody(ctx, c)
	if err != nil {
		return models.DeliveryAttempt{At: at, Outcome: models.DeliveryPending, Error: err.Error()}
	}
	secrets, err := a.signingSecrets(c.Endpoint, at)
	if err != nil {
		return models.DeliveryAttempt{At: at, Outcome: models.DeliveryPending, Error: err.Error()}
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.Endpoint.URL, bytes.NewReader(body))
	if err != nil {
		return models.DeliveryAttempt{At: at, Outcome: models.DeliveryFailed, Error: "the endpoint URL cannot be requested: " + sendError(err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "licenseflow-webhooks/1")
	req.Header.Set(webhooks.EventIDHeader, c.Event.ID)
	req.Header.Set(webhooks.EventTypeHeader, string(c.Event.Type))
	req.Header.Set(webhooks.SignatureHeader, webhooks.Sign(body, at, secrets...))
	resp, err := a.WebhookClient.Do(req)
	if errors.Is(err, webhooks.ErrPrivateTarget) {
		return models.DeliveryAttempt{At: at, Outcome: models.DeliveryFailed, Error: sendError(err)}
	}
	if err != nil {
		return models.DeliveryAttempt{At: at, Outcome: models.DeliveryPending, Error: sendError(err)}
	}
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, models.MaxWebhookResponseExcerpt))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	resp.Body.Close()
	out := models.DeliveryAttempt{At: at, StatusCode: resp.StatusCode, Response: string(bytes.ToValidUTF8(excerpt, []byte("?")))}
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		out.Outcome = models.DeliveryDelivered
	case code >= 300 && code < 400:
		out.Outcome, out.Error = models.DeliveryFailed, fmt.Sprintf("HTTP %d: redirects are not followed; register the final URL", code)
	case code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooEarly && code != http.StatusTooManyRequests:
		out.Outcome, out.Error = models.DeliveryFailed, fmt.Sprintf("HTTP %d: the receiver refused the event", code)
	default:
		out.Outcome, out.Error = models.DeliveryPending, fmt.Sprintf("HTTP %d", code)
	}
	return out
}

// webhookBody is the event as delivered; endpoints that opted in get the
// license's full key.
func (a *Activities) webhookBody(ctx context.Context, c models.DeliveryClaim) ([]byte, error) {
	data := c.Event.Data.V
	if c.Endpoint.IncludeDLID && data.License != nil {
		l, err := a.Store.GetLicense(ctx, data.License.ID)
		if err != nil {
			return nil, fmt.Errorf("read the license's key: %w", err)
		}
		full := *data.License
		full.DLID = l.Key()
		data.License = &full
	}
	return json.Marshal(models.WebhookPayload{ID: c.Event.ID, Type: c.Event.Type, Created: c.Event.OccurredAt.UTC(), Data: data})
}

// signingSecrets opens the endpoint's secret, and the rotated-out one
// while it still signs.
func (a *Activities) signingSecrets(e models.WebhookEndpoint, now time.Time) ([]string, error) {
	current, err := a.WebhookSecrets.Open(e.Secret)
	if err != nil {
		return nil, err
	}
	secrets := []string{current}
	if e.PreviousSecret != "" && e.PreviousUntil != nil && now.Before(*e.PreviousUntil) {
		previous, err := a.WebhookSecrets.Open(e.PreviousSecret)
		if err != nil {
			return nil, err
		}
		secrets = append(secrets, previous)
	}
	return secrets, nil
}

// FailWebhookInput gives up on a delivery.
type FailWebhookInput struct {
	DeliveryID uint64
	Reason     string
}

// FailWebhookResult is empty.
type FailWebhookResult struct{}

// FailWebhookDelivery marks a delivery failed (its attempts could not go
// on), visible and redeliverable in the log.
func (a *Activities) FailWebhookDelivery(ctx context.Context, in FailWebhookInput) (FailWebhookResult, error) {
	return FailWebhookResult{}, a.Store.FailWebhookDelivery(ctx, in.DeliveryID, in.Reason)
}

// sendError says why a delivery could not be sent without the endpoint's
// URL, whose path or query may hold the receiver's token: the attempt's
// error is also the activity's failure message, which the worker logs.
// Operators see the URL on the endpoint's page.
func sendError(err error) string {
	var u *url.Error
	if errors.As(err, &u) {
		return fmt.Sprintf("%s to the endpoint: %v", u.Op, u.Err)
	}
	return err.Error()
}
