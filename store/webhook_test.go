package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
)

func endpoint(t *testing.T, st *store.Store, types ...string) models.WebhookEndpoint {
	t.Helper()
	e, err := st.CreateWebhookEndpoint(ctx, models.WebhookEndpoint{URL: "https://crm.example.com/hooks", EventTypes: types,
		Enabled: true, Secret: "plain:whsec_test"})
	require.NoError(t, err)
	return e
}

// wakes records the endpoints announced after commits.
type wakes struct {
	mu  sync.Mutex
	ids []string
}

func (w *wakes) record(id string) { w.mu.Lock(); w.ids = append(w.ids, id); w.mu.Unlock() }

func (w *wakes) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.ids
	w.ids = nil
	return out
}

func deliveries(t *testing.T, st *store.Store, endpointID string) []models.WebhookDelivery {
	t.Helper()
	out, err := st.PendingWebhookDeliveries(ctx, endpointID, nil, 100)
	require.NoError(t, err)
	return out
}

func TestAProjectionWritesItsWebhookEventsInItsTransactionOnce(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		var woken wakes
		st.OnWebhookDeliveries(woken.record)
		l := issuedLicense(t, st, "wh-1", 3)
		everything := endpoint(t, st, models.AllWebhookEvents)
		suspensions := endpoint(t, st, string(models.EventLicenseSuspended))
		renewals := endpoint(t, st, string(models.EventLicenseRenewed))
		off, err := st.UpdateWebhookEndpoint(ctx, endpoint(t, st, "*").ID, func(e *models.WebhookEndpoint) { e.Enabled = false })
		require.NoError(t, err)
		assert.Empty(t, deliveries(t, st, everything.ID), "events written before an endpoint existed are not its to deliver")

		at := time.Now().UTC()
		suspend := models.Projection{LicenseID: l.ID, Revision: 5, Status: models.StatusSuspended, TierKey: "pos", MaxDomains: 3,
			Events: []models.LicenseEvent{{LicenseID: l.ID, Revision: 5, At: at, Actor: "stripe:evt_9", Action: "suspend",
				Field: "status", Old: "active", New: "suspended", Note: "payment refunded"}}}
		require.NoError(t, st.ProjectLicense(ctx, suspend))
		require.NoError(t, st.ProjectLicense(ctx, suspend), "a retried projection")

		all := deliveries(t, st, everything.ID)
		require.Len(t, all, 1, "one delivery per event and endpoint, however often the projection is retried")
		assert.Equal(t, models.EventLicenseSuspended, all[0].EventType)
		assert.Equal(t, l.ID, all[0].LicenseID)
		assert.Len(t, deliveries(t, st, suspensions.ID), 1)
		assert.Empty(t, deliveries(t, st, renewals.ID), "not subscribed")
		assert.Empty(t, deliveries(t, st, off.ID), "disabled endpoints get nothing")
		assert.ElementsMatch(t, []string{everything.ID, suspensions.ID}, woken.take(), "announced after the commit")

		ev, err := st.GetWebhookEvent(ctx, all[0].EventID)
		require.NoError(t, err)
		d := ev.Data.V
		require.NotNil(t, d.License)
		assert.Equal(t, models.StatusSuspended, d.License.Status, "the license as the change left it")
		assert.Equal(t, models.MaskDLID(l.Key()), d.License.DLIDMasked)
		assert.Empty(t, d.License.DLID, "the outbox never holds the full key")
		assert.Equal(t, "payment refunded", d.Reason)
		assert.Equal(t, "stripe:evt_9", d.Actor)
		assert.Equal(t, "wh-1@example.com", d.License.CustomerEmail)
	})
}

func TestSiteOrderAndReleaseChangesWriteTheirEvents(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		all := endpoint(t, st, models.AllWebhookEvents)
		l := issuedLicense(t, st, "wh-2", 3)
		_, _, err := st.Activate(ctx, l.ID, "shop.example", time.Now())
		require.NoError(t, err)
		_, _, err = st.Activate(ctx, l.ID, "shop.example", time.Now()) // a refresh: nothing new
		require.NoError(t, err)
		require.NoError(t, st.Deactivate(ctx, l.ID, "shop.example", time.Now()))
		_, _, err = st.Activate(ctx, l.ID, "old.example", time.Now().Add(-40*24*time.Hour))
		require.NoError(t, err)
		released, err := st.ReleaseSilentDomains(ctx, time.Now().Add(-30*24*time.Hour), time.Now())
		require.NoError(t, err)
		require.Equal(t, 1, released)
		_, err = st.CreateRelease(ctx, models.Release{ProductCode: "pos", Version: "3.0.0", Channel: "stable", PublishedAt: time.Now()})
		require.NoError(t, err)
		o, _, err := st.CreateOrder(ctx, models.NewOrder{ID: "crm-77", Kind: models.OrderNew, Email: "new@example.com",
			Tier: models.Tier{Key: "pos"}, Months: 12, MaxDomains: 2, AmountCents: 100, Currency: "EUR"})
		require.NoError(t, err)
		_, _, err = st.PayOrder(ctx, o.ID, "bank-1", time.Now())
		require.NoError(t, err)
		_, _, err = st.PayOrder(ctx, o.ID, "bank-1", time.Now()) // paid twice
		require.NoError(t, err)

		var types []models.WebhookEventType
		for _, d := range deliveries(t, st, all.ID) {
			types = append(types, d.EventType)
		}
		assert.Equal(t, []models.WebhookEventType{
			models.EventOrderPaid, // issuedLicense's purchase
			models.EventLicenseDomainActivated, models.EventLicenseDomainDeactivated,
			models.EventLicenseDomainActivated, models.EventLicenseDomainDeactivated,
			models.EventReleasePublished, models.EventOrderCreated, models.EventOrderPaid,
		}, types, "in the order they happened, each once")
		pending := deliveries(t, st, all.ID)
		silent, err := st.GetWebhookEvent(ctx, pending[4].EventID)
		require.NoError(t, err)
		assert.Equal(t, "old.example", silent.Data.V.Domain)
		assert.Contains(t, silent.Data.V.Reason, "no heartbeat")
		created, err := st.GetWebhookEvent(ctx, pending[6].EventID)
		require.NoError(t, err)
		require.NotNil(t, created.Data.V.Order)
		assert.Equal(t, "crm-77", created.Data.V.Order.ID)
		assert.Nil(t, created.Data.V.License, "no license before the order is paid")
		paid, err := st.GetWebhookEvent(ctx, pending[7].EventID)
		require.NoError(t, err)
		require.NotNil(t, paid.Data.V.Order)
		assert.Equal(t, "bank-1", paid.Data.V.Order.PaymentRef)
		assert.Equal(t, "new@example.com", paid.Data.V.Order.CustomerEmail)
		assert.Equal(t, models.StatusPending, paid.Data.V.License.Status)
	})
}

func TestADeliveryIsAttemptedByOneCallerAtATime(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		var woken wakes
		st.OnWebhookDeliveries(woken.record)
		e := endpoint(t, st, string(models.EventReleasePublished))
		_, err := st.CreateRelease(ctx, models.Release{ProductCode: "pos", Version: "3.1.0", Channel: "stable", PublishedAt: time.Now()})
		require.NoError(t, err)
		d := deliveries(t, st, e.ID)[0]
		now := time.Now()

		first, err := st.ClaimWebhookDelivery(ctx, d.ID, now, time.Minute)
		require.NoError(t, err)
		assert.True(t, first.Claimed)
		assert.Equal(t, models.EventReleasePublished, first.Event.Type)
		second, err := st.ClaimWebhookDelivery(ctx, d.ID, now.Add(time.Second), time.Minute)
		require.NoError(t, err)
		assert.False(t, second.Claimed)
		assert.True(t, second.InFlight, "a second attempt waits for the first")
		skipped, err := st.PendingWebhookDeliveries(ctx, e.ID, []uint64{d.ID}, 10)
		require.NoError(t, err)
		assert.Empty(t, skipped)

		require.NoError(t, st.RecordWebhookAttempt(ctx, d.ID, models.DeliveryAttempt{At: now, StatusCode: 200, Response: "ok",
			Outcome: models.DeliveryDelivered}))
		after, err := st.ClaimWebhookDelivery(ctx, d.ID, now.Add(2*time.Second), time.Minute)
		require.NoError(t, err)
		assert.False(t, after.Claimed)
		assert.Equal(t, models.DeliveryDelivered, after.Delivery.Status, "delivered: nothing left to do")
		assert.Equal(t, 1, after.Delivery.Attempts)

		_, err = st.RedeliverWebhook(ctx, e.ID, d.ID)
		require.NoError(t, err)
		assert.Equal(t, []string{e.ID, e.ID}, woken.take(), "written, then redelivered")
		again, err := st.ClaimWebhookDelivery(ctx, d.ID, now.Add(3*time.Second), time.Minute)
		require.NoError(t, err)
		assert.True(t, again.Claimed)
		assert.Equal(t, 2, again.Delivery.Attempts, "the log keeps counting")
		_, err = st.RedeliverWebhook(ctx, e.ID, d.ID)
		assert.ErrorIs(t, err, models.ErrConflict, "a pending delivery is not queued twice")

		require.NoError(t, st.FailWebhookDelivery(ctx, d.ID, "gave up"))
		log, err := st.ListWebhookDeliveries(ctx, models.DeliveryFilter{EndpointID: e.ID, Status: models.DeliveryFailed})
		require.NoError(t, err)
		require.Len(t, log, 1)
		assert.Equal(t, "gave up", log[0].LastError)

		require.NoError(t, st.DeleteWebhookEndpoint(ctx, e.ID))
		_, err = st.ClaimWebhookDelivery(ctx, d.ID, now, time.Minute)
		assert.ErrorIs(t, err, models.ErrNotFound)
	})
}

// A delivery is overdue when no dispatcher attempted it for longer than the
// margin: written and never attempted, or due for a retry that did not
// come; never while an attempt is in flight, once it is settled, or while
// its endpoint is disabled.
func TestOverdueDeliveriesAreThoseNoDispatcherPickedUp(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		e := endpoint(t, st, string(models.EventReleasePublished))
		_, err := st.CreateRelease(ctx, models.Release{ProductCode: "pos", Version: "3.2.0", Channel: "stable", PublishedAt: time.Now()})
		require.NoError(t, err)
		d := deliveries(t, st, e.ID)[0]
		overdue := func(at time.Time) []string {
			t.Helper()
			ids, err := st.OverdueWebhookEndpoints(ctx, at, time.Minute)
			require.NoError(t, err)
			return ids
		}
		now := time.Now()
		assert.Empty(t, overdue(now), "just written: its wake-up is on its way")
		assert.Equal(t, []string{e.ID}, overdue(now.Add(2*time.Minute)), "never attempted for two minutes")

		_, err = st.ClaimWebhookDelivery(ctx, d.ID, now, 5*time.Minute)
		require.NoError(t, err)
		assert.Empty(t, overdue(now.Add(2*time.Minute)), "an attempt is in flight")
		retry := now.Add(time.Minute)
		require.NoError(t, st.RecordWebhookAttempt(ctx, d.ID, models.DeliveryAttempt{At: now, StatusCode: 503,
			Outcome: models.DeliveryPending, NextAttemptAt: &retry}))
		assert.Empty(t, overdue(retry.Add(30*time.Second)), "its retry is only just due")
		assert.Equal(t, []string{e.ID}, overdue(retry.Add(2*time.Minute)), "its retry did not come")

		_, err = st.UpdateWebhookEndpoint(ctx, e.ID, func(e *models.WebhookEndpoint) { e.Enabled = false })
		require.NoError(t, err)
		assert.Empty(t, overdue(retry.Add(2*time.Minute)), "a disabled endpoint's deliveries wait for it")
		_, err = st.UpdateWebhookEndpoint(ctx, e.ID, func(e *models.WebhookEndpoint) { e.Enabled = true })
		require.NoError(t, err)

		require.NoError(t, st.RecordWebhookAttempt(ctx, d.ID, models.DeliveryAttempt{At: now, StatusCode: 200,
			Outcome: models.DeliveryDelivered}))
		assert.Empty(t, overdue(retry.Add(time.Hour)), "delivered: nothing is overdue")
	})
}
