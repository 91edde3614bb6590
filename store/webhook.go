package store

import (
	"context"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/licenseflow/licenseflow/models"
)

// Outbound webhooks. An event is written to the outbox (webhook_events) in
// the transaction of the change it reports, together with a pending
// delivery (webhook_deliveries) for every enabled endpoint subscribed to
// it: once the change is committed, so is every delivery it owes, and a
// dispatcher only has to work through pending rows. After the commit the
// endpoints concerned are announced (OnWebhookDeliveries) so their
// dispatchers start at once; a lost announcement only waits for the
// worker's overdue check (OverdueWebhookEndpoints).

// OnWebhookDeliveries subscribes fn to endpoints that have new pending
// deliveries (written, redelivered, or the endpoint enabled again). It is
// called after the commit.
func (s *Store) OnWebhookDeliveries(fn func(endpointID string)) {
	s.webhooks.mu.Lock()
	defer s.webhooks.mu.Unlock()
	s.webhooks.subs = append(s.webhooks.subs, fn)
}

func (s *Store) webhooksDue(endpointIDs []string) {
	s.webhooks.mu.RLock()
	defer s.webhooks.mu.RUnlock()
	for _, id := range endpointIDs {
		for _, fn := range s.webhooks.subs {
			fn(id)
		}
	}
}

// writeWebhookEvents adds events to the outbox and a pending delivery of
// each to every enabled endpoint subscribed to its type, inside the
// caller's transaction; it returns the endpoints that got deliveries. An
// event whose source was written before (a retried projection) adds
// nothing. The licenses concerned are locked first, so a license's events
// are written (and numbered) in the order their transactions commit.
func writeWebhookEvents(tx *gorm.DB, events []models.WebhookEvent) ([]string, error) {
	if len(events) == 0 {
		return nil, nil
	}
	var licenseIDs []string
	for _, e := range events {
		if e.LicenseID != "" && !slices.Contains(licenseIDs, e.LicenseID) {
			licenseIDs = append(licenseIDs, e.LicenseID)
		}
	}
	if len(licenseIDs) > 0 {
		var locked []string
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Model(&models.License{}).
			Where("id IN ?", licenseIDs).Order("id").Pluck("id", &locked).Error; err != nil {
			return nil, err
		}
	}
	var endpoints []models.WebhookEndpoint
	if err := tx.Where("enabled = ?", true).Order("id").Find(&endpoints).Error; err != nil {
		return nil, err
	}
	var (
		deliveries []models.WebhookDelivery
		due        []string
	)
	for _, e := range events {
		if e.ID == "" {
			e.ID = models.NewWebhookEventID()
		}
		if e.Source == "" {
			e.Source = "event:" + e.ID
		}
		e.OccurredAt = models.Instant(e.OccurredAt)
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&e)
		if res.Error != nil {
			return nil, res.Error
		}
		if res.RowsAffected == 0 { // written before
			continue
		}
		for _, ep := range endpoints {
			if !ep.Subscribed(e.Type) {
				continue
			}
			deliveries = append(deliveries, models.WebhookDelivery{
				EndpointID: ep.ID, EventSeq: e.Seq, EventID: e.ID, EventType: e.Type, LicenseID: e.LicenseID,
				Status: models.DeliveryPending,
			})
			if !slices.Contains(due, ep.ID) {
				due = append(due, ep.ID)
			}
		}
	}
	if len(deliveries) == 0 {
		return nil, nil
	}
	return due, tx.Create(&deliveries).Error
}

// licenseChangeEvents derives a projection's webhook events from its ledger
// lines, each describing the license as the transaction leaves it.
func licenseChangeEvents(tx *gorm.DB, p models.Projection) ([]models.WebhookEvent, error) {
	changes := models.LicenseChanges(p.Events)
	if len(changes) == 0 {
		return nil, nil
	}
	var l models.License
	if err := tx.Preload("Customer").First(&l, "id = ?", p.LicenseID).Error; err != nil {
		return nil, err
	}
	out := make([]models.WebhookEvent, len(changes))
	for i, c := range changes {
		c.Data.License = models.WebhookLicenseOf(l)
		out[i] = models.WebhookEvent{
			Type: c.Type, LicenseID: l.ID, Source: models.LicenseEventSource(l.ID, p.Revision, c.Type),
			OccurredAt: c.At, Data: models.JSONValue[models.WebhookData]{V: c.Data},
		}
	}
	return out, nil
}

// licenseEvent is an event about one license, described as tx sees it.
func licenseEvent(tx *gorm.DB, licenseID string, t models.WebhookEventType, at time.Time, d models.WebhookData) (models.WebhookEvent, error) {
	var l models.License
	if err := tx.Preload("Customer").First(&l, "id = ?", licenseID).Error; err != nil {
		return models.WebhookEvent{}, err
	}
	d.License = models.WebhookLicenseOf(l)
	return models.WebhookEvent{Type: t, LicenseID: licenseID, OccurredAt: at, Data: models.JSONValue[models.WebhookData]{V: d}}, nil
}

// orderPaidEvent reports a paid order, once per order.
func orderPaidEvent(tx *gorm.DB, o models.Order) (models.WebhookEvent, error) {
	at := time.Now()
	if o.PaidAt != nil {
		at = *o.PaidAt
	}
	e, err := licenseEvent(tx, o.LicenseID, models.EventOrderPaid, at, models.WebhookData{Order: models.WebhookOrderOf(o)})
	if err != nil {
		return e, err
	}
	if d := &e.Data.V; d.Order.CustomerEmail == "" {
		d.Order.CustomerEmail = d.License.CustomerEmail
	}
	e.Source = "order:" + o.ID + ":paid"
	return e, nil
}

// CreateWebhookEndpoint stores a new endpoint.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, e models.WebhookEndpoint) (models.WebhookEndpoint, error) {
	if e.ID == "" {
		e.ID = models.NewWebhookEndpointID()
	}
	return e, s.with(ctx).Create(&e).Error
}

// ListWebhookEndpoints lists every endpoint, oldest first.
func (s *Store) ListWebhookEndpoints(ctx context.Context) ([]models.WebhookEndpoint, error) {
	var out []models.WebhookEndpoint
	return out, s.with(ctx).Order("created_at, id").Find(&out).Error
}

// GetWebhookEndpoint finds an endpoint.
func (s *Store) GetWebhookEndpoint(ctx context.Context, id string) (models.WebhookEndpoint, error) {
	var e models.WebhookEndpoint
	err := s.with(ctx).First(&e, "id = ?", id).Error
	if isNotFound(err) {
		return e, models.NotFound("webhook_endpoint_not_found", "webhook endpoint %q does not exist", id)
	}
	return e, err
}

// UpdateWebhookEndpoint applies change to an endpoint. Enabling it again
// resumes its pending deliveries.
func (s *Store) UpdateWebhookEndpoint(ctx context.Context, id string, change func(*models.WebhookEndpoint)) (models.WebhookEndpoint, error) {
	var (
		e       models.WebhookEndpoint
		enabled bool
	)
	err := s.transaction(ctx, func(tx *Store) error {
		var err error
		if e, err = tx.GetWebhookEndpoint(ctx, id); err != nil {
			return err
		}
		was := e.Enabled
		change(&e)
		enabled = e.Enabled && !was
		return tx.db.Select("url", "description", "event_types", "include_dlid", "enabled", "secret", "previous_secret",
			"previous_until", "updated_at").Save(&e).Error
	})
	if err == nil && enabled {
		s.webhooksDue([]string{id})
	}
	return e, err
}

// RotateWebhookSecret makes sealed the endpoint's signing secret; the one
// it replaces keeps signing beside it until until.
func (s *Store) RotateWebhookSecret(ctx context.Context, id, sealed string, until time.Time) (models.WebhookEndpoint, error) {
	return s.UpdateWebhookEndpoint(ctx, id, func(e *models.WebhookEndpoint) {
		u := models.Instant(until)
		e.PreviousSecret, e.PreviousUntil, e.Secret = e.Secret, &u, sealed
	})
}

// DeleteWebhookEndpoint removes an endpoint and its delivery log; the
// events stay in the outbox.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, id string) error {
	return s.transaction(ctx, func(tx *Store) error {
		res := tx.db.Delete(&models.WebhookEndpoint{}, "id = ?", id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return models.NotFound("webhook_endpoint_not_found", "webhook endpoint %q does not exist", id)
		}
		return tx.db.Delete(&models.WebhookDelivery{}, "endpoint_id = ?", id).Error
	})
}

// PendingWebhookDeliveries returns up to limit of an endpoint's pending
// deliveries in event order, leaving out those in skip (already being
// worked on).
func (s *Store) PendingWebhookDeliveries(ctx context.Context, endpointID string, skip []uint64, limit int) ([]models.WebhookDelivery, error) {
	q := s.with(ctx).Where("endpoint_id = ? AND status = ?", endpointID, models.DeliveryPending)
	if len(skip) > 0 {
		q = q.Where("id NOT IN ?", skip)
	}
	var out []models.WebhookDelivery
	return out, q.Order("event_seq").Limit(limit).Find(&out).Error
}

// OverdueWebhookEndpoints lists the enabled endpoints with a delivery no
// dispatcher has attempted for longer than after, as of now: pending, no
// attempt in flight, and written (never attempted) or due for its next
// attempt before now-after. Their dispatcher missed a wake-up, or stopped.
func (s *Store) OverdueWebhookEndpoints(ctx context.Context, now time.Time, after time.Duration) ([]string, error) {
	now = models.Instant(now)
	var ids []string
	err := s.with(ctx).Model(&models.WebhookDelivery{}).Distinct("endpoint_id").
		Where("status = ? AND endpoint_id IN (?)", models.DeliveryPending,
			s.with(ctx).Model(&models.WebhookEndpoint{}).Select("id").Where("enabled = ?", true)).
		Where("(lease_until IS NULL OR lease_until <= ?)", now).
		Where("COALESCE(next_attempt_at, created_at) < ?", now.Add(-after)).
		Order("endpoint_id").Pluck("endpoint_id", &ids).Error
	return ids, err
}

// ClaimWebhookDelivery takes a pending delivery's lease until now+lease and
// counts the attempt, so that no two attempts of it overlap (a dispatcher
// that continued as new while an attempt was in flight, a redelivery).
// A missing delivery or endpoint (deleted) is NotFound.
func (s *Store) ClaimWebhookDelivery(ctx context.Context, id uint64, now time.Time, lease time.Duration) (models.DeliveryClaim, error) {
	var a models.DeliveryClaim
	now = models.Instant(now)
	err := s.transaction(ctx, func(tx *Store) error {
		if err := tx.db.First(&a.Delivery, "id = ?", id).Error; err != nil {
			if isNotFound(err) {
				return models.NotFound("webhook_delivery_not_found", "webhook delivery %d does not exist", id)
			}
			return err
		}
		var err error
		if a.Endpoint, err = tx.GetWebhookEndpoint(ctx, a.Delivery.EndpointID); err != nil {
			return err
		}
		if err := tx.db.First(&a.Event, "seq = ?", a.Delivery.EventSeq).Error; err != nil {
			return err
		}
		if a.Delivery.Status != models.DeliveryPending || !a.Endpoint.Enabled {
			return nil
		}
		if a.Delivery.LeaseUntil != nil && a.Delivery.LeaseUntil.After(now) {
			a.InFlight = true
			return nil
		}
		until := now.Add(lease)
		updates := map[string]any{"lease_until": &until, "attempts": gormExpr("attempts + 1"), "last_attempt_at": &now}
		if a.Delivery.FirstAttemptAt == nil {
			updates["first_attempt_at"] = &now
			a.Delivery.FirstAttemptAt = &now
		}
		res := tx.db.Model(&models.WebhookDelivery{}).
			Where("id = ? AND status = ? AND (lease_until IS NULL OR lease_until <= ?)", id, models.DeliveryPending, now).
			Updates(updates)
		if res.Error != nil {
			return res.Error
		}
		if a.Claimed, a.InFlight = res.RowsAffected == 1, res.RowsAffected == 0; a.Claimed {
			a.Delivery.Attempts++
			a.Delivery.LeaseUntil, a.Delivery.LastAttemptAt = &until, &now
		}
		return nil
	})
	return a, err
}

// RecordWebhookAttempt stores the outcome of a claimed attempt and
// releases the lease.
func (s *Store) RecordWebhookAttempt(ctx context.Context, id uint64, o models.DeliveryAttempt) error {
	response := o.Response
	if len(response) > models.MaxWebhookResponseExcerpt {
		response = response[:models.MaxWebhookResponseExcerpt]
	}
	errText := o.Error
	if len(errText) > 1024 {
		errText = errText[:1024]
	}
	updates := map[string]any{
		"status": o.Outcome, "last_status_code": o.StatusCode, "last_response": response, "last_error": errText,
		"next_attempt_at": o.NextAttemptAt, "lease_until": nil,
	}
	if o.Outcome == models.DeliveryDelivered {
		at := models.Instant(o.At)
		updates["delivered_at"] = &at
		updates["next_attempt_at"] = nil
	}
	return s.with(ctx).Model(&models.WebhookDelivery{}).Where("id = ? AND status = ?", id, models.DeliveryPending).Updates(updates).Error
}

// FailWebhookDelivery gives up on a pending delivery (retries ran out).
func (s *Store) FailWebhookDelivery(ctx context.Context, id uint64, reason string) error {
	if len(reason) > 1024 {
		reason = reason[:1024]
	}
	return s.with(ctx).Model(&models.WebhookDelivery{}).Where("id = ? AND status = ?", id, models.DeliveryPending).
		Updates(map[string]any{"status": models.DeliveryFailed, "last_error": reason, "next_attempt_at": nil, "lease_until": nil}).Error
}

// RedeliverWebhook queues a delivered or failed delivery again, with a
// fresh retry window; the log keeps its attempts.
func (s *Store) RedeliverWebhook(ctx context.Context, endpointID string, id uint64) (models.WebhookDelivery, error) {
	var d models.WebhookDelivery
	err := s.transaction(ctx, func(tx *Store) error {
		var err error
		if d, err = tx.GetWebhookDelivery(ctx, endpointID, id); err != nil {
			return err
		}
		if d.Status == models.DeliveryPending {
			return models.Conflict("delivery_pending", "delivery %d is still pending: it is being attempted and retried already", id)
		}
		res := tx.db.Model(&models.WebhookDelivery{}).Where("id = ? AND status = ?", id, d.Status).Updates(map[string]any{
			"status": models.DeliveryPending, "first_attempt_at": nil, "next_attempt_at": nil, "lease_until": nil,
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return models.Conflict("delivery_pending", "delivery %d was queued again meanwhile", id)
		}
		d.Status, d.FirstAttemptAt, d.NextAttemptAt = models.DeliveryPending, nil, nil
		return nil
	})
	if err == nil {
		s.webhooksDue([]string{endpointID})
	}
	return d, err
}

// GetWebhookDelivery finds one delivery of an endpoint.
func (s *Store) GetWebhookDelivery(ctx context.Context, endpointID string, id uint64) (models.WebhookDelivery, error) {
	var d models.WebhookDelivery
	err := s.with(ctx).First(&d, "id = ? AND endpoint_id = ?", id, endpointID).Error
	if isNotFound(err) {
		return d, models.NotFound("webhook_delivery_not_found", "webhook endpoint %s has no delivery %d", endpointID, id)
	}
	return d, err
}

// GetWebhookEvent finds an event by id.
func (s *Store) GetWebhookEvent(ctx context.Context, id string) (models.WebhookEvent, error) {
	var e models.WebhookEvent
	err := s.with(ctx).First(&e, "id = ?", id).Error
	if isNotFound(err) {
		return e, models.NotFound("webhook_event_not_found", "webhook event %q does not exist", id)
	}
	return e, err
}

// ListWebhookDeliveries returns an endpoint's delivery log, newest first.
func (s *Store) ListWebhookDeliveries(ctx context.Context, f models.DeliveryFilter) ([]models.WebhookDelivery, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	q := s.with(ctx).Where("endpoint_id = ?", f.EndpointID).Order("id DESC").Limit(f.Limit)
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.EventType != "" {
		q = q.Where("event_type = ?", f.EventType)
	}
	if f.EventID != "" {
		q = q.Where("event_id = ?", f.EventID)
	}
	if f.LicenseID != "" {
		q = q.Where("license_id = ?", f.LicenseID)
	}
	if f.Before > 0 {
		q = q.Where("id < ?", f.Before)
	}
	var out []models.WebhookDelivery
	return out, q.Find(&out).Error
}
