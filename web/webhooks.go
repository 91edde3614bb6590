package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/models"
)

// The dashboard's webhook pages: endpoints (the signing secret shown once,
// when created or rotated), each endpoint's delivery log, and redelivery.

// adminWebhooks lists the endpoints, with the form that adds one.
func (s *server) adminWebhooks(c *gin.Context) {
	sess, ok := s.operator(c, models.PermWebhooks)
	if !ok {
		return
	}
	s.webhooksPage(c, sess, http.StatusOK, "", nil)
}

func (s *server) webhooksPage(c *gin.Context, sess models.Session, status int, problem string, form url.Values) {
	endpoints, err := s.Store.ListWebhookEndpoints(c.Request.Context())
	if err != nil {
		s.webFail(c, "admin", err)
		return
	}
	s.render(c, status, webPage{Title: "Webhooks", Area: "admin", Template: "admin-webhooks", Email: sess.Email, Role: sess.Role, CSRF: sess.CSRFToken,
		Notice: s.takeNotice(c), Error: problem,
		Data: gin.H{"Endpoints": endpoints, "EventTypes": models.WebhookEventTypes, "Form": form}})
}

// adminCreateWebhook registers an endpoint and shows its secret, once.
func (s *server) adminCreateWebhook(c *gin.Context) {
	sess, ok := s.operator(c, models.PermWebhooks)
	if !ok || !s.checkCSRF(c, "admin", sess.CSRFToken) {
		return
	}
	form := c.Request.PostForm
	u, err := s.WebhookTargets.CheckURL(c.PostForm("url"))
	if err != nil {
		s.webhooksPage(c, sess, http.StatusUnprocessableEntity, "URL: "+err.Error(), form)
		return
	}
	types, err := models.ParseWebhookEventTypes(c.PostFormArray("event_types"))
	if err == nil {
		var d string
		if d, err = models.CheckWebhookDescription(c.PostForm("description")); err == nil {
			form.Set("description", d)
		}
	}
	if err != nil {
		s.webhooksPage(c, sess, http.StatusUnprocessableEntity, err.Error(), form)
		return
	}
	secret, sealed, err := s.WebhookSecrets.New()
	if err != nil {
		s.webFail(c, "admin", err)
		return
	}
	e, err := s.Store.CreateWebhookEndpoint(c.Request.Context(), models.WebhookEndpoint{URL: u.String(), EventTypes: types,
		Description: form.Get("description"), IncludeDLID: c.PostForm("include_dlid") == "on", Enabled: true, Secret: sealed})
	if err != nil {
		s.webFail(c, "admin", err)
		return
	}
	s.webhookPage(c, sess, e, secret, "Endpoint added. Copy its signing secret now: it is not shown again.")
}

// adminWebhook shows an endpoint and its delivery log (filter: status).
func (s *server) adminWebhook(c *gin.Context) {
	sess, ok := s.operator(c, models.PermWebhooks)
	if !ok {
		return
	}
	e, err := s.Store.GetWebhookEndpoint(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.webFail(c, "admin", err)
		return
	}
	s.webhookPage(c, sess, e, "", s.takeNotice(c))
}

func (s *server) webhookPage(c *gin.Context, sess models.Session, e models.WebhookEndpoint, secret, notice string) {
	status := models.DeliveryStatus(c.Query("status"))
	deliveries, err := s.Store.ListWebhookDeliveries(c.Request.Context(), models.DeliveryFilter{EndpointID: e.ID, Status: status, Limit: 100})
	if err != nil {
		s.webFail(c, "admin", err)
		return
	}
	s.render(c, http.StatusOK, webPage{Title: "Webhook " + e.URL, Area: "admin", Template: "admin-webhook", Email: sess.Email, Role: sess.Role,
		CSRF: sess.CSRFToken, Notice: notice,
		Data: gin.H{"Endpoint": e, "Secret": secret, "Deliveries": deliveries, "Status": string(status)}})
}

// adminWebhookAction enables, disables, rotates the secret of, or deletes
// an endpoint.
func (s *server) adminWebhookAction(c *gin.Context) {
	sess, ok := s.operator(c, models.PermWebhooks)
	if !ok || !s.checkCSRF(c, "admin", sess.CSRFToken) {
		return
	}
	ctx, id := c.Request.Context(), c.Param("id")
	var err error
	switch action := c.PostForm("action"); action {
	case "enable", "disable":
		_, err = s.Store.UpdateWebhookEndpoint(ctx, id, func(e *models.WebhookEndpoint) { e.Enabled = action == "enable" })
	case "rotate":
		secret, sealed, err := s.WebhookSecrets.New()
		if err != nil {
			s.webFail(c, "admin", err)
			return
		}
		e, err := s.Store.RotateWebhookSecret(ctx, id, sealed, s.Now().Add(models.WebhookSecretRotationOverlap))
		if err != nil {
			s.webFail(c, "admin", err)
			return
		}
		s.webhookPage(c, sess, e, secret, "New signing secret: copy it now, it is not shown again. The old one keeps signing for 24 hours.")
		return
	case "delete":
		if err = s.Store.DeleteWebhookEndpoint(ctx, id); err == nil {
			s.redirectWithNotice(c, "/admin/webhooks", "Endpoint deleted.")
			return
		}
	default:
		s.webError(c, http.StatusBadRequest, "admin", "Unknown action.")
		return
	}
	if err != nil {
		s.webFail(c, "admin", err)
		return
	}
	s.redirectWithNotice(c, "/admin/webhooks/"+id, "Done.")
}

// adminRedeliver queues a delivery again.
func (s *server) adminRedeliver(c *gin.Context) {
	sess, ok := s.operator(c, models.PermWebhooks)
	if !ok || !s.checkCSRF(c, "admin", sess.CSRFToken) {
		return
	}
	id := c.Param("id")
	delivery, err := strconv.ParseUint(c.Param("delivery"), 10, 64)
	if err != nil {
		s.webError(c, http.StatusNotFound, "admin", "There is no such delivery.")
		return
	}
	notice := "Queued again: the endpoint receives the event once more."
	if _, err := s.Store.RedeliverWebhook(c.Request.Context(), id, delivery); err != nil {
		p, ok := models.AsProblem(err)
		if !ok {
			s.webFail(c, "admin", err)
			return
		}
		notice = "Not done: " + p.Message
	}
	s.redirectWithNotice(c, "/admin/webhooks/"+id, notice)
}
