package store

import (
	"context"
	"strings"

	"github.com/licenseflow/licenseflow/models"
)

// SeedCatalog inserts the example catalog when the catalog is empty.
func (s *Store) SeedCatalog(ctx context.Context) error {
	var n int64
	if err := s.with(ctx).Model(&models.Product{}).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	products, tiers := models.ExampleCatalog()
	return s.transaction(ctx, func(tx *Store) error {
		for i := range products {
			if err := tx.db.Create(&products[i]).Error; err != nil && !isDuplicate(err) {
				return err
			}
		}
		for i := range tiers {
			if err := tx.db.Create(&tiers[i]).Error; err != nil && !isDuplicate(err) {
				return err
			}
		}
		return nil
	})
}

// ListProducts returns the catalog's products ordered by code.
func (s *Store) ListProducts(ctx context.Context) ([]models.Product, error) {
	var out []models.Product
	return out, s.with(ctx).Order("code").Find(&out).Error
}

// GetProduct finds a product by code.
func (s *Store) GetProduct(ctx context.Context, code string) (models.Product, error) {
	var p models.Product
	err := s.with(ctx).First(&p, "code = ?", strings.ToLower(code)).Error
	if isNotFound(err) {
		return p, models.NotFound("product_not_found", "product %q does not exist", code)
	}
	return p, err
}

// CreateProduct adds a product to the catalog.
func (s *Store) CreateProduct(ctx context.Context, p models.Product) (models.Product, error) {
	p.Normalize()
	if err := p.Validate(); err != nil {
		return p, err
	}
	err := s.with(ctx).Create(&p).Error
	if isDuplicate(err) {
		return p, models.Conflict("product_exists", "a product with code %q or repo %q already exists", p.Code, p.Repo)
	}
	return p, err
}

// UpdateProduct replaces a product's editable fields (not its code).
func (s *Store) UpdateProduct(ctx context.Context, code string, p models.Product) (models.Product, error) {
	current, err := s.GetProduct(ctx, code)
	if err != nil {
		return p, err
	}
	p.Code = current.Code
	p.Normalize()
	if err := p.Validate(); err != nil {
		return p, err
	}
	err = s.with(ctx).Model(&current).Select("Repo", "Name", "Platform", "RequiresKey", "DomainRequired", "AddonPriceCents", "AddonCurrency").Updates(&p).Error
	if isDuplicate(err) {
		return p, models.Conflict("product_exists", "another product already uses repo %q", p.Repo)
	}
	if err != nil {
		return p, err
	}
	return s.GetProduct(ctx, code)
}

// DeleteProduct removes a product no tier grants.
func (s *Store) DeleteProduct(ctx context.Context, code string) error {
	p, err := s.GetProduct(ctx, code)
	if err != nil {
		return err
	}
	tiers, err := s.ListTiers(ctx, false)
	if err != nil {
		return err
	}
	for _, t := range tiers {
		if t.Products.Contains(p.Code) {
			return models.Conflict("product_in_use", "product %q is granted by tier %q; remove it from the tier first", p.Code, t.Key)
		}
	}
	return s.with(ctx).Delete(&p).Error
}

// ListTiers returns tiers ordered by key, optionally only the active ones.
func (s *Store) ListTiers(ctx context.Context, activeOnly bool) ([]models.Tier, error) {
	q := s.with(ctx).Order("key")
	if activeOnly {
		q = q.Where("active = ?", true)
	}
	var out []models.Tier
	return out, q.Find(&out).Error
}

// GetTier finds a tier by key; the error lists the tiers that do exist.
func (s *Store) GetTier(ctx context.Context, key string) (models.Tier, error) {
	var t models.Tier
	err := s.with(ctx).First(&t, "key = ?", strings.ToLower(strings.TrimSpace(key))).Error
	if isNotFound(err) {
		return t, s.tierNotFound(ctx, key)
	}
	return t, err
}

func (s *Store) tierNotFound(ctx context.Context, key string) error {
	tiers, _ := s.ListTiers(ctx, true)
	keys := make([]string, len(tiers))
	for i, t := range tiers {
		keys[i] = t.Key
	}
	p := models.NotFound("tier_not_found", "tier %q does not exist; known tiers: %s", key, strings.Join(keys, ", "))
	p.Field = "tier"
	return p
}

// CreateTier adds a tier whose products all exist.
func (s *Store) CreateTier(ctx context.Context, t models.Tier) (models.Tier, error) {
	t.Normalize()
	if err := s.checkTier(ctx, t); err != nil {
		return t, err
	}
	err := s.with(ctx).Create(&t).Error
	if isDuplicate(err) {
		return t, models.Conflict("tier_exists", "tier %q already exists; update it with PUT /api/v1/tiers/%s", t.Key, t.Key)
	}
	return t, err
}

// UpdateTier replaces a tier's editable fields. Licenses already sold keep
// their entitlements until their tier is changed or re-applied.
func (s *Store) UpdateTier(ctx context.Context, key string, t models.Tier) (models.Tier, error) {
	current, err := s.GetTier(ctx, key)
	if err != nil {
		return t, err
	}
	t.Key = current.Key
	t.Normalize()
	if err := s.checkTier(ctx, t); err != nil {
		return t, err
	}
	err = s.with(ctx).Model(&current).
		Select("Name", "Description", "Products", "MaxDomains", "Term", "TermMonths", "PriceCents", "Currency", "Channels", "Active", "TrialDays", "StripePriceID").
		Updates(&t).Error
	if err != nil {
		return t, err
	}
	return s.GetTier(ctx, key)
}

func (s *Store) checkTier(ctx context.Context, t models.Tier) error {
	if err := t.Validate(); err != nil {
		return err
	}
	products, err := s.ListProducts(ctx)
	if err != nil {
		return err
	}
	_, err = models.ExpandTier(t, products)
	return err
}

// RetireTier stops a tier from being sold; licenses already on it keep working.
func (s *Store) RetireTier(ctx context.Context, key string) (models.Tier, error) {
	t, err := s.GetTier(ctx, key)
	if err != nil {
		return t, err
	}
	if err := s.with(ctx).Model(&t).Update("active", false).Error; err != nil {
		return t, err
	}
	t.Active = false
	return t, nil
}

// TierForStripePrice finds the tier sold under a Stripe price.
func (s *Store) TierForStripePrice(ctx context.Context, priceID string) (models.Tier, error) {
	var t models.Tier
	err := s.with(ctx).First(&t, "stripe_price_id = ? AND stripe_price_id <> ''", priceID).Error
	if isNotFound(err) {
		return t, models.NotFound("tier_not_found", "no tier is sold under Stripe price %q; set stripe_price_id on a tier or put the tier in the Checkout Session metadata", priceID)
	}
	return t, err
}
