package workflows

import (
	"strconv"
	"strings"
	"time"

	"github.com/licenseflow/licenseflow/activities"
	"github.com/licenseflow/licenseflow/models"
)

// ledgerLines is what one published change adds to the license's ledger:
// a line per field that moved from before to after, or a single line for
// the cause alone when no field moved (a reminder, a dunning email). A
// publish with no cause and no moved field adds nothing.
func ledgerLines(before, after *LicenseState, c cause, at time.Time) []models.LicenseEvent {
	type move struct{ field, old, new string }
	var moves []move
	field := func(name, old, new string) {
		if old != new {
			moves = append(moves, move{name, old, new})
		}
	}
	field("name", before.Name, after.Name)
	field("status", string(before.Status), string(after.Status))
	field("tier", before.Tier, after.Tier)
	field("expires_at", expiryText(before.ExpiresAt), expiryText(after.ExpiresAt))
	field("max_domains", strconv.Itoa(before.MaxDomains), strconv.Itoa(after.MaxDomains))
	field("renewals", strconv.Itoa(before.Renewals), strconv.Itoa(after.Renewals))
	field("entitlements", productList(before.Entitlements), productList(after.Entitlements))
	if len(moves) == 0 && c.action == "" {
		return nil
	}
	if c.actor == "" {
		c.actor = models.LedgerSystemActor
	}
	if len(moves) == 0 {
		moves = []move{{}}
	}
	out := make([]models.LicenseEvent, len(moves))
	for i, m := range moves {
		out[i] = models.LicenseEvent{
			LicenseID: after.LicenseID, Revision: after.Revision, Seq: i, At: at,
			Actor: c.actor, Action: c.action, Field: m.field, Old: m.old, New: m.new, Note: c.note,
		}
	}
	return out
}

func expiryText(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

func productList(ents []activities.EntitlementRef) string {
	codes := make([]string, len(ents))
	for i, e := range ents {
		codes[i] = e.Product
	}
	return strings.Join(codes, ",")
}
