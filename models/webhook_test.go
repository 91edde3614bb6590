package models_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/licenseflow/licenseflow/models"
)

func TestLedgerLinesBecomeWebhookEvents(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	line := func(action, field, old, new string) models.LicenseEvent {
		return models.LicenseEvent{LicenseID: "lic_1", Revision: 3, At: at, Actor: "token:crm", Action: action, Field: field, Old: old, New: new, Note: "why"}
	}
	cases := []struct {
		name  string
		lines []models.LicenseEvent
		want  []models.WebhookEventType
	}{
		{"issue", []models.LicenseEvent{line("issue", "status", "pending", "active"), line("issue", "expires_at", "never", "2027")}, []models.WebhookEventType{models.EventLicenseIssued}},
		{"invoice only", []models.LicenseEvent{line("invoice", "", "", "")}, nil},
		{"renewal", []models.LicenseEvent{line("renew", "expires_at", "2027", "2028"), line("renew", "renewals", "0", "1")}, []models.WebhookEventType{models.EventLicenseRenewed}},
		{"30-day reminder", []models.LicenseEvent{line("reminder-30d", "status", "active", "expiring")}, []models.WebhookEventType{models.EventLicenseExpiring}},
		{"7-day reminder", []models.LicenseEvent{line("reminder-7d", "", "", "")}, []models.WebhookEventType{models.EventLicenseExpiring}},
		{"expiry", []models.LicenseEvent{line("expired", "status", "expiring", "expired")}, []models.WebhookEventType{models.EventLicenseExpired}},
		{"end of grace", []models.LicenseEvent{line("grace-ended", "", "", "")}, []models.WebhookEventType{models.EventLicenseGraceEnded}},
		{"suspension", []models.LicenseEvent{line("suspend", "status", "active", "suspended")}, []models.WebhookEventType{models.EventLicenseSuspended}},
		{"reinstatement after expiry", []models.LicenseEvent{line("reinstate", "status", "suspended", "expired")}, []models.WebhookEventType{models.EventLicenseReinstated}},
		{"revocation of a suspended license", []models.LicenseEvent{line("revoke", "status", "suspended", "revoked")}, []models.WebhookEventType{models.EventLicenseRevoked}},
		{"tier change", []models.LicenseEvent{line("change-tier", "tier", "pos", "suite"), line("change-tier", "entitlements", "a", "a,b")}, []models.WebhookEventType{models.EventLicenseTierChanged}},
		{"a patch doing three things", []models.LicenseEvent{line("patch", "status", "active", "suspended"), line("patch", "tier", "pos", "suite"), line("patch", "renewals", "1", "2")},
			[]models.WebhookEventType{models.EventLicenseSuspended, models.EventLicenseTierChanged, models.EventLicenseRenewed}},
		{"failed payment", []models.LicenseEvent{line("payment-failed", "", "", "")}, []models.WebhookEventType{models.EventPaymentFailed}},
		{"max domains only", []models.LicenseEvent{line("set-max-domains", "max_domains", "2", "5")}, nil},
		{"resumed from the database", []models.LicenseEvent{line("resume", "status", "suspended", "active")}, nil},
		{"nothing", nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []models.WebhookEventType
			for _, ch := range models.LicenseChanges(c.lines) {
				got = append(got, ch.Type)
				assert.Equal(t, at, ch.At)
				assert.Equal(t, "token:crm", ch.Data.Actor)
			}
			assert.Equal(t, c.want, got)
		})
	}
	reminder := models.LicenseChanges([]models.LicenseEvent{line("reminder-7d", "", "", "")})
	assert.Equal(t, "7d", reminder[0].Data.Reminder)
	tier := models.LicenseChanges([]models.LicenseEvent{line("change-tier", "tier", "pos", "suite")})
	assert.Equal(t, "pos", tier[0].Data.PreviousTier)
	suspended := models.LicenseChanges([]models.LicenseEvent{line("suspend", "status", "active", "suspended")})
	assert.Equal(t, "why", suspended[0].Data.Reason)
}

func TestSubscriptionsNameKnownEventTypes(t *testing.T) {
	got, err := models.ParseWebhookEventTypes([]string{" Order.Paid ", "license.issued", "order.paid"})
	assert.NoError(t, err)
	assert.Equal(t, models.StringList{"license.issued", "order.paid"}, got)
	_, err = models.ParseWebhookEventTypes([]string{"license.issued", "license.exploded"})
	assert.ErrorIs(t, err, models.ErrInvalid)
	_, err = models.ParseWebhookEventTypes(nil)
	assert.ErrorIs(t, err, models.ErrInvalid)
	all := models.WebhookEndpoint{EventTypes: models.StringList{models.AllWebhookEvents}}
	for _, typ := range models.WebhookEventTypes {
		assert.True(t, all.Subscribed(typ))
	}
	some := models.WebhookEndpoint{EventTypes: models.StringList{"order.paid"}}
	assert.True(t, some.Subscribed(models.EventOrderPaid))
	assert.False(t, some.Subscribed(models.EventLicenseIssued))
}
