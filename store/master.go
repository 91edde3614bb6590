package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/licenseflow/licenseflow/models"
)

// EnsureMasterLicense creates the master license unless it exists and
// returns its key when this call created it (shown once; "" otherwise).
// Its fixed id makes it one per installation: processes starting at once
// race on the primary key, one inserts, the others insert nothing. The key
// is stored as its digest only, beside an "issue" ledger line with the key
// masked.
func (s *Store) EnsureMasterLicense(ctx context.Context, now time.Time) (string, error) {
	key, err := models.NewDLID()
	if err != nil {
		return "", err
	}
	now = models.Instant(now)
	created := false
	err = s.transaction(ctx, func(tx *Store) error {
		customer, err := tx.UpsertCustomer(ctx, models.MasterEmail, "Master license", "")
		if err != nil {
			return err
		}
		l := models.NewMasterLicense(customer.ID, now)
		digest := models.MasterKeyDigest(key)
		l.KeyDigest, l.Revision = &digest, 1
		res := tx.db.Omit("Customer").Clauses(clause.OnConflict{DoNothing: true}).Create(&l)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 { // another start created it, unless a row took its order id
			var n int64
			if err := tx.db.Model(&models.License{}).Where("id = ? AND type = ?", l.ID, models.TypeMaster).Count(&n).Error; err != nil || n == 1 {
				return err
			}
			return fmt.Errorf("the master license cannot be created: license id %s or order id %s is taken by another license", l.ID, l.OrderID)
		}
		created = true
		return appendLedger(tx.db, []models.LicenseEvent{{LicenseID: l.ID, Revision: 1, At: now, Actor: models.LedgerSystemActor,
			Action: models.LedgerIssue, Field: "dlid", New: models.MaskDLID(key), Note: "master license created at first start"}})
	})
	if err != nil || !created {
		return "", err
	}
	return key, nil
}

// RotateMasterKey gives the master license a new key at once and returns
// it (shown once). The old key stops validating as the transaction commits:
// only the new digest is stored, and every process's site cache forgets
// the license (the change notice). The ledger records the rotation with
// both keys masked. Any other license is a Conflict: its DLID is for life.
func (s *Store) RotateMasterKey(ctx context.Context, licenseID, actor, reason string, now time.Time) (string, models.License, error) {
	key, err := models.NewDLID()
	if err != nil {
		return "", models.License{}, err
	}
	now = models.Instant(now)
	var l models.License
	err = s.transaction(ctx, func(tx *Store) error {
		if err := tx.db.Clauses(clause.Locking{Strength: "UPDATE"}).First(&l, "id = ?", licenseID).Error; err != nil {
			if isNotFound(err) {
				return models.NotFound("license_not_found", "license %q does not exist", licenseID)
			}
			return err
		}
		if err := models.CheckRotatable(l); err != nil {
			return err
		}
		old, err := currentMasterMask(tx.db, l.ID)
		if err != nil {
			return err
		}
		digest := models.MasterKeyDigest(key)
		revision := l.Revision + 1
		if err := tx.db.Model(&models.License{}).Where("id = ?", l.ID).
			Updates(map[string]any{"key_digest": digest, "revision": revision, "updated_at": now}).Error; err != nil {
			return err
		}
		if actor == "" {
			actor = models.LedgerSystemActor
		}
		if err := appendLedger(tx.db, []models.LicenseEvent{{LicenseID: l.ID, Revision: revision, At: now, Actor: actor,
			Action: models.LedgerRotateKey, Field: "dlid", Old: old, New: models.MaskDLID(key), Note: reason}}); err != nil {
			return err
		}
		l.KeyDigest, l.Revision, l.UpdatedAt = &digest, revision, now
		return nil
	})
	if err != nil {
		return "", l, err
	}
	s.licenseChanged(ctx, l.ID)
	return key, l, nil
}

// currentMasterMask is the masked form of the master license's key, as its
// latest issue or rotation line in the ledger says (the key itself is not
// stored).
func currentMasterMask(db *gorm.DB, licenseID string) (string, error) {
	var last []models.LicenseEvent
	err := db.Where("license_id = ? AND action IN ? AND field = ?", licenseID, []string{models.LedgerIssue, models.LedgerRotateKey}, "dlid").
		Order("id DESC").Limit(1).Find(&last).Error
	if err != nil || len(last) == 0 {
		return "", err
	}
	return last[0].New, nil
}

// masterEntitlements are the master license's entitlements: one for every
// product in the catalog as it is now, so a product added later is
// included without any row to keep in step.
func masterEntitlements(db *gorm.DB, licenseID string) ([]models.Entitlement, error) {
	var products []models.Product
	if err := db.Order("repo").Find(&products).Error; err != nil {
		return nil, err
	}
	out := make([]models.Entitlement, len(products))
	for i, p := range products {
		out[i] = models.Entitlement{LicenseID: licenseID, Repo: p.Repo, ProductCode: p.Code, Source: models.SourceMaster}
	}
	return out, nil
}
