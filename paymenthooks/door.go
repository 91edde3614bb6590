// Package paymenthooks is licenseflow's one door for payment providers'
// webhooks (Stripe, PayPal, Paddle): each event is verified the way its
// provider signs it, recorded once under the provider and its id, and
// turned into the same few license changes whoever took the money: a
// purchase, a renewal on the same DLID, a dunning email, automatic renewal
// off, a refund or a dispute. Operators list the received events and what
// became of them.
package paymenthooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/lifecycle"
	"github.com/licenseflow/licenseflow/metrics"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments"
	"github.com/licenseflow/licenseflow/payments/paypal"
	"github.com/licenseflow/licenseflow/store"
)

// Deps are the webhooks' collaborators.
type Deps struct {
	Store     *store.Store
	Lifecycle lifecycle.Client
	// Payments looks up the price a Checkout Session sold; nil without a
	// Stripe key (sessions then need a tier in their metadata).
	Payments *payments.Checkout
	// WebhookSecrets verify Stripe webhooks (several while rotating).
	WebhookSecrets []string
	// Livemode is the Stripe mode whose events are acted upon (STRIPE_MODE):
	// a test-mode event reaching a live endpoint (or the other way round)
	// issues nothing. The zero value accepts test mode only, so a
	// deployment that forgets it pays out nothing for free.
	Livemode bool
	// PayPal verifies PayPal's webhooks (PAYPAL_WEBHOOK_ID); nil answers
	// them 503 paypal_not_configured.
	PayPal *paypal.Verifier
	// PaddleSecrets verify Paddle's notifications (several while rotating);
	// none answers them 503 paddle_not_configured.
	PaddleSecrets []string
	Now           func() time.Time
	// Metrics counts received events by outcome; nil counts nothing.
	Metrics *metrics.Metrics
	// RenderCreditNote lays out the credit note of a refund; nil issues
	// none (the refund is then noted in the event's reason).
	RenderCreditNote func(models.CreditNote, models.Invoice) ([]byte, error)
}

type server struct {
	Deps
}

// Mount adds the webhooks and the admin listing of their events to r.
func Mount(r gin.IRouter, d Deps) {
	if d.Now == nil {
		d.Now = time.Now
	}
	s := &server{Deps: d}
	admin := httpx.RequireScope(d.Store, d.Now, models.ScopeAdmin)
	v1 := r.Group("/api/v1")
	v1.POST("/webhooks/stripe", s.stripeWebhook)
	v1.POST("/webhooks/paypal", s.paypalWebhook)
	v1.POST("/webhooks/paddle", s.paddleWebhook)
	v1.GET("/webhooks/:provider/events", admin, s.events)
	v1.GET("/webhooks/:provider/events/:id", admin, s.event)
}

// Receipt acknowledges a webhook to its provider.
type Receipt struct {
	Received bool `json:"received"`
	// Duplicate says the event was handled before (a redelivery).
	Duplicate bool                       `json:"duplicate,omitempty"`
	Outcome   models.PaymentEventOutcome `json:"outcome"`
	Reason    string                     `json:"reason,omitempty"`
}

// EventView is a received provider event and what became of it.
type EventView struct {
	// ID is the provider's own event id.
	ID         string                     `json:"id"`
	Provider   models.PaymentProvider     `json:"provider"`
	Type       string                     `json:"type"`
	Livemode   bool                       `json:"livemode"`
	Outcome    models.PaymentEventOutcome `json:"outcome"`
	Reason     string                     `json:"reason,omitempty"`
	LicenseID  string                     `json:"license_id,omitempty"`
	OrderID    string                     `json:"order_id,omitempty"`
	ReceivedAt time.Time                  `json:"received_at"`
	FinishedAt *time.Time                 `json:"finished_at"`
}

func eventView(e models.PaymentEvent) EventView {
	id := e.ID
	if e.Provider != models.ProviderStripe {
		id = strings.TrimPrefix(id, string(e.Provider)+":")
	}
	return EventView{ID: id, Provider: e.Provider, Type: e.Type, Livemode: e.Livemode, Outcome: e.Outcome, Reason: e.Reason,
		LicenseID: e.LicenseID, OrderID: e.OrderID, ReceivedAt: e.CreatedAt, FinishedAt: e.FinishedAt}
}

// outcome is what handling one event came to.
type outcome struct {
	outcome   models.PaymentEventOutcome
	reason    string
	licenseID string
	orderID   string
}

func ignored(reason string) outcome {
	return outcome{outcome: models.PaymentEventIgnored, reason: reason}
}

// needsReview holds a payment back for an operator with the reason.
func needsReview(reason string, licenseID, orderID string) outcome {
	return outcome{outcome: models.PaymentEventNeedsReview, reason: reason, licenseID: licenseID, orderID: orderID}
}

// verified is a provider's event whose signature checked out.
type verified struct {
	provider models.PaymentProvider
	id, typ  string
	livemode bool
	payload  []byte
	// movesMoney: a payment, a refund or a dispute. Such an event that
	// matches no license waits for an operator instead of failing quietly.
	movesMoney bool
}

// receive records a verified event once and acts on it. The event id is
// recorded first (unique: each event is handled once, concurrent
// redeliveries included), then handle acts on it. The provider gets a 2xx
// only once the event is recorded and its effect is durable (a workflow
// signal or start accepted by Temporal); an outage answers 503 and
// releases the event so the provider's redelivery handles it. An event
// that can never apply (no such license) is recorded as failed with the
// reason, and acknowledged.
func (s *server) receive(c *gin.Context, ev verified, handle func(context.Context) (outcome, error)) {
	if !utf8.Valid(ev.payload) { // it is stored as text
		httpx.Fail(c, httpx.NewError(http.StatusBadRequest, "invalid_event", "", "the event is not UTF-8 encoded JSON"))
		return
	}
	ctx := c.Request.Context()
	key := models.PaymentEventKey(ev.provider, ev.id)
	rec, claimed, err := s.Store.ClaimPaymentEvent(ctx, models.PaymentEvent{
		ID: key, Provider: ev.provider, Type: ev.typ, Livemode: ev.livemode, Payload: string(ev.payload),
	}, s.Now())
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	name := string(ev.provider)
	if !claimed && rec.Outcome == models.PaymentEventReceived {
		// Another delivery is handling it and its effect is not durable yet:
		// no 2xx, so that should it fail, the provider delivers it again.
		c.Header("Retry-After", "60")
		httpx.Fail(c, httpx.NewError(http.StatusConflict, "event_in_progress", "",
			fmt.Sprintf("event %s is being handled by another delivery; it is acknowledged once that is done, retry later", ev.id)))
		return
	}
	if !claimed {
		s.Metrics.WebhookIn(name, "duplicate")
		c.JSON(http.StatusOK, Receipt{Received: true, Duplicate: true, Outcome: rec.Outcome})
		return
	}
	result, err := s.settle(models.WithActor(ctx, name+":"+ev.id), ev, handle)
	if err != nil {
		httpx.Logger(c).Error(name+" event not handled; releasing it for redelivery", "event", ev.id, "type", ev.typ, "error", err)
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = s.Store.ReleasePaymentEvent(bg, key)
		s.Metrics.WebhookIn(name, "unavailable")
		httpx.Fail(c, err)
		return
	}
	if err := s.Store.FinishPaymentEvent(ctx, key, result.outcome, result.reason, result.licenseID, result.orderID, s.Now()); err != nil {
		httpx.Fail(c, err)
		return
	}
	if result.outcome == models.PaymentEventFailed || result.outcome == models.PaymentEventNeedsReview {
		httpx.Logger(c).Warn(name+" event "+string(result.outcome), "event", ev.id, "type", ev.typ, "reason", result.reason)
	}
	s.Metrics.WebhookIn(name, string(result.outcome))
	c.JSON(http.StatusOK, Receipt{Received: true, Outcome: result.outcome, Reason: result.reason})
}

// settle runs handle and sorts its error: a domain Problem (unknown
// license, unknown tier) makes the event failed for good (held for review
// when it moved money and matched nothing); any other error is transient
// and returned.
func (s *server) settle(ctx context.Context, ev verified, handle func(context.Context) (outcome, error)) (outcome, error) {
	out, err := handle(ctx)
	if p, ok := models.AsProblem(err); ok && errors.Is(p, models.ErrNotFound) && ev.movesMoney {
		// Money moved (or was taken back) and no license matches it: an
		// operator has to look, so it is queued for review and announced,
		// never left as a quiet "failed".
		return outcome{outcome: models.PaymentEventNeedsReview, reason: p.Message, licenseID: out.licenseID, orderID: out.orderID}, nil
	}
	if p, ok := models.AsProblem(err); ok {
		return outcome{outcome: models.PaymentEventFailed, reason: p.Message, licenseID: out.licenseID, orderID: out.orderID}, nil
	}
	if err != nil {
		return out, err
	}
	if out.outcome == "" {
		out.outcome = models.PaymentEventProcessed
	}
	return out, nil
}

// readEvent reads a delivery's body, at most httpx.MaxBodyBytes.
func readEvent(c *gin.Context) ([]byte, bool) {
	payload, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, httpx.MaxBodyBytes))
	if err != nil {
		httpx.Fail(c, httpx.NewError(http.StatusRequestEntityTooLarge, "body_too_large", "", "the event is larger than 1 MiB"))
		return nil, false
	}
	return payload, true
}

// badSignature answers a delivery whose signature does not verify: 400,
// nothing recorded.
func (s *server) badSignature(c *gin.Context, provider models.PaymentProvider, header string, err error) {
	s.Metrics.WebhookIn(string(provider), "rejected")
	httpx.Fail(c, httpx.NewError(http.StatusBadRequest, "invalid_signature", header, err.Error()))
}

// notConfigured answers a provider's delivery when its secret is not set.
func notConfigured(c *gin.Context, provider models.PaymentProvider, variable string) {
	httpx.Fail(c, httpx.NewError(http.StatusServiceUnavailable, string(provider)+"_not_configured", "",
		fmt.Sprintf("%s webhooks are not configured: set %s", provider.Title(), variable)))
}

// events lists a provider's recorded webhook events, for operators.
func (s *server) events(c *gin.Context) {
	provider, ok := knownProvider(c)
	if !ok {
		return
	}
	limit := 100
	if n, err := strconv.Atoi(c.Query("limit")); err == nil && n > 0 && n <= 500 {
		limit = n
	}
	events, err := s.Store.ListPaymentEvents(c.Request.Context(), provider, models.PaymentEventOutcome(c.Query("outcome")), c.Query("license_id"), limit)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	out := httpx.Page[EventView]{Data: make([]EventView, 0, len(events))}
	for _, e := range events {
		out.Data = append(out.Data, eventView(e))
	}
	c.JSON(http.StatusOK, out)
}

func (s *server) event(c *gin.Context) {
	provider, ok := knownProvider(c)
	if !ok {
		return
	}
	e, err := s.Store.GetPaymentEvent(c.Request.Context(), provider, c.Param("id"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, eventView(e))
}

// knownProvider reads the :provider of an events URL (404 for another).
func knownProvider(c *gin.Context) (models.PaymentProvider, bool) {
	switch p := models.PaymentProvider(c.Param("provider")); p {
	case models.ProviderStripe, models.ProviderPayPal, models.ProviderPaddle:
		return p, true
	}
	httpx.Fail(c, httpx.NewError(http.StatusNotFound, "provider_not_found", "provider",
		"licenseflow receives webhooks from stripe, paypal and paddle"))
	return "", false
}
