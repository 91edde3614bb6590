package store

import (
	"context"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/licenseflow/licenseflow/models"
)

// appendLedger adds a projection's ledger lines. A retried projection
// brings the same (license, revision, seq) again and adds nothing.
func appendLedger(db *gorm.DB, events []models.LicenseEvent) error {
	if len(events) == 0 {
		return nil
	}
	rows := make([]models.LicenseEvent, len(events))
	for i, e := range events {
		e.ID = 0
		e.At = models.Instant(e.At)
		rows[i] = e
	}
	return db.Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error
}

// LicenseLedger returns a license's ledger lines, newest first.
func (s *Store) LicenseLedger(ctx context.Context, f models.LedgerFilter) ([]models.LicenseEvent, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	q := s.with(ctx).Where("license_id = ?", f.LicenseID).Order("id DESC").Limit(f.Limit)
	if f.Before > 0 {
		q = q.Where("id < ?", f.Before)
	}
	var out []models.LicenseEvent
	return out, q.Find(&out).Error
}
