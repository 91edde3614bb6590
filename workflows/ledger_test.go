package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/licenseflow/licenseflow/models"
)

// Every field that moved gets its own ledger line, in a fixed order, each
// with the change's actor and note; a cause with nothing moved gets one line.
func TestTheLedgerHasALinePerMovedField(t *testing.T) {
	at := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	expires := time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC)
	later := time.Date(2029, 3, 1, 0, 0, 0, 0, time.UTC)
	before := &LicenseState{LicenseID: "lic_1", Name: "Shop A", Status: models.StatusSuspended, Tier: "pos", ExpiresAt: &expires, MaxDomains: 3, Renewals: 1}
	after := &LicenseState{LicenseID: "lic_1", Name: "Shop B", Revision: 7, Status: models.StatusActive, Tier: "suite", ExpiresAt: &later, MaxDomains: 5, Renewals: 2}
	c := cause{action: "renew", actor: "token:crm", note: "invoice INV-1"}
	line := func(seq int, field, old, new string) models.LicenseEvent {
		return models.LicenseEvent{LicenseID: "lic_1", Revision: 7, Seq: seq, At: at, Actor: "token:crm", Action: "renew", Field: field, Old: old, New: new, Note: "invoice INV-1"}
	}
	assert.Equal(t, []models.LicenseEvent{
		line(0, "name", "Shop A", "Shop B"),
		line(1, "status", "suspended", "active"),
		line(2, "tier", "pos", "suite"),
		line(3, "expires_at", "2028-03-01T00:00:00Z", "2029-03-01T00:00:00Z"),
		line(4, "max_domains", "3", "5"),
		line(5, "renewals", "1", "2"),
	}, ledgerLines(before, after, c, at))

	same := *after
	assert.Equal(t, []models.LicenseEvent{{LicenseID: "lic_1", Revision: 7, At: at, Actor: models.LedgerSystemActor, Action: "reminder-30d"}},
		ledgerLines(after, &same, cause{action: "reminder-30d"}, at), "a cause alone: one line, by the system")
	assert.Empty(t, ledgerLines(after, &same, cause{}, at), "no cause and nothing moved: no line")
}
