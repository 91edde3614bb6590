package store

import (
	"context"
	"slices"
	"strings"

	"github.com/licenseflow/licenseflow/models"
)

// SetEntitlements rebuilds a license's tier entitlements from tierKey:
// rows with source=tier are replaced, custom add-ons are kept. It returns the
// tier and the license's full entitlement list.
func (s *Store) SetEntitlements(ctx context.Context, licenseID, tierKey string) (models.Tier, []models.Entitlement, error) {
	var (
		tier models.Tier
		all  []models.Entitlement
	)
	err := s.transaction(ctx, func(tx *Store) error {
		var err error
		tier, all, err = tx.setEntitlements(ctx, licenseID, tierKey)
		return err
	})
	if err == nil {
		s.licenseChanged(ctx, licenseID)
	}
	return tier, all, err
}

// setEntitlements is SetEntitlements inside the caller's transaction.
func (s *Store) setEntitlements(ctx context.Context, licenseID, tierKey string) (models.Tier, []models.Entitlement, error) {
	tier, err := s.GetTier(ctx, tierKey)
	if err != nil {
		return tier, nil, err
	}
	products, err := s.ListProducts(ctx)
	if err != nil {
		return tier, nil, err
	}
	expanded, err := models.ExpandTier(tier, products)
	if err != nil {
		return tier, nil, err
	}
	if err := s.db.Where("license_id = ? AND source = ?", licenseID, models.SourceTier).Delete(&models.Entitlement{}).Error; err != nil {
		return tier, nil, err
	}
	for i := range expanded {
		expanded[i].LicenseID = licenseID
	}
	// A repo already granted as a custom add-on keeps its custom row.
	if err := insertIgnoringDuplicates(s.db, &expanded); err != nil {
		return tier, nil, err
	}
	all, err := s.GetEntitlements(ctx, licenseID)
	return tier, all, err
}

// GetEntitlements lists a license's entitlements ordered by repo.
func (s *Store) GetEntitlements(ctx context.Context, licenseID string) ([]models.Entitlement, error) {
	if licenseID == models.MasterLicenseID {
		return masterEntitlements(s.with(ctx), licenseID)
	}
	var out []models.Entitlement
	return out, s.with(ctx).Where("license_id = ?", licenseID).Order("repo").Find(&out).Error
}

// HasEntitlement answers with one lookup on the (license, repo) unique index.
func (s *Store) HasEntitlement(ctx context.Context, licenseID, repo string) (bool, error) {
	var n int64
	if licenseID == models.MasterLicenseID {
		err := s.with(ctx).Model(&models.Product{}).Where("repo = ?", repo).Limit(1).Count(&n).Error
		return n > 0, err
	}
	err := s.with(ctx).Model(&models.Entitlement{}).Where("license_id = ? AND repo = ?", licenseID, repo).Limit(1).Count(&n).Error
	return n > 0, err
}

// AddonFor is product code as an add-on for license l: refused (see
// models.CheckAddon) when it is not for sale, l cannot buy add-ons or
// already has it.
func (s *Store) AddonFor(ctx context.Context, l models.License, code string) (models.Product, error) {
	code = strings.TrimSpace(code)
	if code == "" {
		return models.Product{}, models.Invalid("missing_product", "product", "give the product code of the add-on")
	}
	p, err := s.GetProduct(ctx, code)
	if err != nil {
		return p, err
	}
	ents, err := s.GetEntitlements(ctx, l.ID)
	if err != nil {
		return p, err
	}
	entitled := slices.ContainsFunc(ents, func(e models.Entitlement) bool { return e.ProductCode == p.Code })
	return p, models.CheckAddon(l, p, entitled)
}

// RemoveCustomEntitlement takes back a product granted beyond the tier
// and returns the license's entitlements: a product its tier also grants
// stays, as the tier's. Removing what the license does not have changes
// nothing; a product only the tier grants is refused (not_an_addon).
func (s *Store) RemoveCustomEntitlement(ctx context.Context, licenseID, productCode string) ([]models.Entitlement, error) {
	var all []models.Entitlement
	err := s.transaction(ctx, func(tx *Store) error {
		l, err := tx.GetLicense(ctx, licenseID)
		if err != nil {
			return err
		}
		p, err := tx.GetProduct(ctx, strings.TrimSpace(productCode))
		if err != nil {
			return err
		}
		res := tx.db.Where("license_id = ? AND repo = ? AND source = ?", licenseID, p.Repo, models.SourceCustom).Delete(&models.Entitlement{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			var held int64 // not as an add-on: the tier grants it
			if err := tx.db.Model(&models.Entitlement{}).Where("license_id = ? AND repo = ?", licenseID, p.Repo).Count(&held).Error; err != nil {
				return err
			}
			if held > 0 {
				return models.Conflict("not_an_addon", "%s is part of license %s's tier %s, not an add-on; change the tier instead", p.Code, licenseID, l.TierKey)
			}
		}
		_, all, err = tx.setEntitlements(ctx, licenseID, l.TierKey)
		return err
	})
	if err == nil {
		s.licenseChanged(ctx, licenseID)
	}
	return all, err
}

// AddCustomEntitlement grants a product beyond the tier. It survives tier
// changes; a product the tier already grants becomes a custom grant.
func (s *Store) AddCustomEntitlement(ctx context.Context, licenseID, productCode string) (models.Entitlement, error) {
	var e models.Entitlement
	err := s.transaction(ctx, func(tx *Store) error {
		if _, err := tx.GetLicense(ctx, licenseID); err != nil {
			return err
		}
		p, err := tx.GetProduct(ctx, strings.TrimSpace(productCode))
		if err != nil {
			return err
		}
		e = models.Entitlement{LicenseID: licenseID, ProductCode: p.Code, Repo: p.Repo, Source: models.SourceCustom}
		if err := insertIgnoringDuplicates(tx.db, &e); err != nil {
			return err
		}
		return tx.db.Model(&models.Entitlement{}).Where("license_id = ? AND repo = ?", licenseID, p.Repo).
			Update("source", models.SourceCustom).Error
	})
	if err == nil {
		s.licenseChanged(ctx, licenseID)
	}
	return e, err
}
