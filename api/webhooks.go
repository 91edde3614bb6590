package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
)

// mountWebhooks adds /api/v1/webhook-endpoints (admin only).
func (s *server) mountWebhooks(v1 gin.IRouter, admin, idempotent gin.HandlerFunc) {
	endpoints := v1.Group("/webhook-endpoints", admin)
	endpoints.POST("", idempotent, s.createWebhookEndpoint)
	endpoints.GET("", s.listWebhookEndpoints)
	endpoints.GET("/:id", s.getWebhookEndpoint)
	endpoints.PATCH("/:id", s.updateWebhookEndpoint)
	endpoints.DELETE("/:id", s.deleteWebhookEndpoint)
	endpoints.POST("/:id/rotate-secret", s.rotateWebhookSecret)
	endpoints.GET("/:id/deliveries", s.listWebhookDeliveries)
	endpoints.GET("/:id/deliveries/:delivery", s.getWebhookDelivery)
	endpoints.POST("/:id/deliveries/:delivery/redeliver", s.redeliverWebhook)
}

// WebhookEndpointRequest registers an endpoint; on update every field is
// optional and only those given change.
type WebhookEndpointRequest struct {
	URL         *string  `json:"url"`
	EventTypes  []string `json:"event_types"`
	IncludeDLID *bool    `json:"include_dlid"`
	Description *string  `json:"description"`
	Enabled     *bool    `json:"enabled"`
}

// WebhookEndpointView is an endpoint as the API shows it (never its secret).
type WebhookEndpointView struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	Description string    `json:"description"`
	EventTypes  []string  `json:"event_types"`
	IncludeDLID bool      `json:"include_dlid"`
	Enabled     bool      `json:"enabled"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// WebhookSecretShown carries an endpoint's signing secret, the only time
// it is shown: at creation and at rotation.
type WebhookSecretShown struct {
	Secret   string              `json:"secret"`
	Endpoint WebhookEndpointView `json:"endpoint"`
	// PreviousSecretValidUntil: after a rotation the old secret keeps
	// signing deliveries (a second v1 signature) until then.
	PreviousSecretValidUntil *time.Time `json:"previous_secret_valid_until,omitempty"`
}

func webhookEndpointView(e models.WebhookEndpoint) WebhookEndpointView {
	return WebhookEndpointView{ID: e.ID, URL: e.URL, Description: e.Description, EventTypes: e.EventTypes,
		IncludeDLID: e.IncludeDLID, Enabled: e.Enabled, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
}

// applyWebhookRequest checks the request's fields and sets them on e.
func (s *server) applyWebhookRequest(req WebhookEndpointRequest, e *models.WebhookEndpoint) error {
	if req.URL != nil {
		u, err := s.WebhookTargets.CheckURL(*req.URL)
		if err != nil {
			return httpx.Invalid("invalid_url", "url", err.Error())
		}
		e.URL = u.String()
	}
	if req.EventTypes != nil {
		types, err := models.ParseWebhookEventTypes(req.EventTypes)
		if err != nil {
			return err
		}
		e.EventTypes = types
	}
	if req.Description != nil {
		d, err := models.CheckWebhookDescription(*req.Description)
		if err != nil {
			return err
		}
		e.Description = d
	}
	if req.IncludeDLID != nil {
		e.IncludeDLID = *req.IncludeDLID
	}
	if req.Enabled != nil {
		e.Enabled = *req.Enabled
	}
	return nil
}

// createWebhookEndpoint registers an endpoint and shows its secret once.
func (s *server) createWebhookEndpoint(c *gin.Context) {
	var req WebhookEndpointRequest
	if err := httpx.Decode(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	switch {
	case req.URL == nil:
		httpx.Fail(c, httpx.Invalid("missing_url", "url", "give the URL deliveries are posted to, such as https://crm.example.com/hooks/licenseflow"))
		return
	case req.EventTypes == nil:
		httpx.Fail(c, httpx.Invalid("missing_event_types", "event_types", "list the event types to receive, or [\"*\"] for all of them"))
		return
	}
	e := models.WebhookEndpoint{Enabled: true}
	if err := s.applyWebhookRequest(req, &e); err != nil {
		httpx.Fail(c, err)
		return
	}
	secret, sealed, err := s.WebhookSecrets.New()
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	e.Secret = sealed
	created, err := s.Store.CreateWebhookEndpoint(c.Request.Context(), e)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	httpx.Sensitive(c, "webhook endpoint "+created.ID)
	c.Header("Location", "/api/v1/webhook-endpoints/"+created.ID)
	c.JSON(http.StatusCreated, WebhookSecretShown{Secret: secret, Endpoint: webhookEndpointView(created)})
}

func (s *server) listWebhookEndpoints(c *gin.Context) {
	es, err := s.Store.ListWebhookEndpoints(c.Request.Context())
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, pageOf(es, webhookEndpointView))
}

func (s *server) getWebhookEndpoint(c *gin.Context) {
	e, err := s.Store.GetWebhookEndpoint(c.Request.Context(), c.Param("id"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, webhookEndpointView(e))
}

// updateWebhookEndpoint changes the fields given, all or nothing. Setting
// enabled to false pauses deliveries (new events are not queued for the
// endpoint); setting it back resumes the pending ones.
func (s *server) updateWebhookEndpoint(c *gin.Context) {
	var req WebhookEndpointRequest
	if err := httpx.Decode(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	var probe models.WebhookEndpoint
	if err := s.applyWebhookRequest(req, &probe); err != nil { // checked before anything is read or written
		httpx.Fail(c, err)
		return
	}
	e, err := s.Store.UpdateWebhookEndpoint(c.Request.Context(), c.Param("id"), func(e *models.WebhookEndpoint) {
		_ = s.applyWebhookRequest(req, e)
	})
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, webhookEndpointView(e))
}

func (s *server) deleteWebhookEndpoint(c *gin.Context) {
	if err := s.Store.DeleteWebhookEndpoint(c.Request.Context(), c.Param("id")); err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// rotateWebhookSecret gives the endpoint a new secret, shown once; the old
// one keeps signing beside it for a day, so the receiver can switch over.
func (s *server) rotateWebhookSecret(c *gin.Context) {
	secret, sealed, err := s.WebhookSecrets.New()
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	until := s.Now().Add(models.WebhookSecretRotationOverlap)
	e, err := s.Store.RotateWebhookSecret(c.Request.Context(), c.Param("id"), sealed, until)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, WebhookSecretShown{Secret: secret, Endpoint: webhookEndpointView(e), PreviousSecretValidUntil: e.PreviousUntil})
}

// WebhookDeliveryView is one entry of an endpoint's delivery log.
type WebhookDeliveryView struct {
	ID             uint64                  `json:"id"`
	EventID        string                  `json:"event_id"`
	EventType      models.WebhookEventType `json:"event_type"`
	LicenseID      string                  `json:"license_id,omitempty"`
	Status         models.DeliveryStatus   `json:"status"`
	Attempts       int                     `json:"attempts"`
	LastStatusCode int                     `json:"last_status_code,omitempty"`
	LastResponse   string                  `json:"last_response,omitempty"`
	LastError      string                  `json:"last_error,omitempty"`
	FirstAttemptAt *time.Time              `json:"first_attempt_at"`
	LastAttemptAt  *time.Time              `json:"last_attempt_at"`
	NextAttemptAt  *time.Time              `json:"next_attempt_at"`
	DeliveredAt    *time.Time              `json:"delivered_at"`
	CreatedAt      time.Time               `json:"created_at"`
	// Event is the delivered body (the key masked), on a single delivery.
	Event *models.WebhookPayload `json:"event,omitempty"`
}

func webhookDeliveryView(d models.WebhookDelivery) WebhookDeliveryView {
	return WebhookDeliveryView{ID: d.ID, EventID: d.EventID, EventType: d.EventType, LicenseID: d.LicenseID, Status: d.Status,
		Attempts: d.Attempts, LastStatusCode: d.LastStatusCode, LastResponse: d.LastResponse, LastError: d.LastError,
		FirstAttemptAt: d.FirstAttemptAt, LastAttemptAt: d.LastAttemptAt, NextAttemptAt: d.NextAttemptAt,
		DeliveredAt: d.DeliveredAt, CreatedAt: d.CreatedAt}
}

// listWebhookDeliveries pages through an endpoint's delivery log, newest
// first; filters status, event_type, event_id, license_id; before (the id of
// the previous page's last entry) and limit.
func (s *server) listWebhookDeliveries(c *gin.Context) {
	ctx := c.Request.Context()
	if _, err := s.Store.GetWebhookEndpoint(ctx, c.Param("id")); err != nil {
		httpx.Fail(c, err)
		return
	}
	f := models.DeliveryFilter{EndpointID: c.Param("id"), Status: models.DeliveryStatus(c.Query("status")),
		EventType: models.WebhookEventType(c.Query("event_type")), EventID: c.Query("event_id"), LicenseID: c.Query("license_id"), Limit: 100}
	switch f.Status {
	case "", models.DeliveryPending, models.DeliveryDelivered, models.DeliveryFailed:
	default:
		httpx.Fail(c, httpx.Invalid("invalid_status", "status", "status is pending, delivered or failed"))
		return
	}
	if f.EventType != "" {
		if _, err := models.ParseWebhookEventTypes([]string{string(f.EventType)}); err != nil || f.EventType == models.AllWebhookEvents {
			httpx.Fail(c, httpx.Invalid("unknown_event_type", "event_type", "event_type is not an event type; see event_types of an endpoint"))
			return
		}
	}
	if raw := c.Query("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 500 {
			httpx.Fail(c, httpx.Invalid("invalid_limit", "limit", "limit is a number from 1 to 500"))
			return
		}
		f.Limit = n
	}
	if raw := c.Query("before"); raw != "" {
		n, err := strconv.ParseUint(raw, 10, 64)
		if err != nil {
			httpx.Fail(c, httpx.Invalid("invalid_before", "before", "before is the id of a delivery"))
			return
		}
		f.Before = n
	}
	ds, err := s.Store.ListWebhookDeliveries(ctx, f)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	page := pageOf(ds, webhookDeliveryView)
	if len(ds) == f.Limit {
		page.NextCursor = strconv.FormatUint(ds[len(ds)-1].ID, 10)
	}
	c.JSON(http.StatusOK, page)
}

func (s *server) deliveryID(c *gin.Context) (uint64, bool) {
	id, err := strconv.ParseUint(strings.TrimSpace(c.Param("delivery")), 10, 64)
	if err != nil {
		httpx.Fail(c, httpx.NewError(http.StatusNotFound, "webhook_delivery_not_found", "", "delivery ids are numbers, as the delivery log shows them"))
		return 0, false
	}
	return id, true
}

// getWebhookDelivery shows one delivery with the event it carries.
func (s *server) getWebhookDelivery(c *gin.Context) {
	id, ok := s.deliveryID(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	d, err := s.Store.GetWebhookDelivery(ctx, c.Param("id"), id)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	ev, err := s.Store.GetWebhookEvent(ctx, d.EventID)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	v := webhookDeliveryView(d)
	v.Event = &models.WebhookPayload{ID: ev.ID, Type: ev.Type, Created: ev.OccurredAt, Data: ev.Data.V}
	c.JSON(http.StatusOK, v)
}

// redeliverWebhook queues a delivered or failed delivery again (202): the
// endpoint receives the event once more, same event id.
func (s *server) redeliverWebhook(c *gin.Context) {
	id, ok := s.deliveryID(c)
	if !ok {
		return
	}
	d, err := s.Store.RedeliverWebhook(c.Request.Context(), c.Param("id"), id)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, webhookDeliveryView(d))
}
