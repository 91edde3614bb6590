package models

// EntitlementSource tells whether an entitlement comes from the license's
// tier (rebuilt when the tier changes) or was added by hand (kept).
type EntitlementSource string

const (
	SourceTier   EntitlementSource = "tier"
	SourceCustom EntitlementSource = "custom"
)

// Entitlement grants a license one product, identified by its repo.
type Entitlement struct {
	ID          uint              `gorm:"primaryKey" json:"-"`
	LicenseID   string            `gorm:"size:64;not null;uniqueIndex:ux_entitlement_license_repo,priority:1" json:"-"`
	Repo        string            `gorm:"size:128;not null;uniqueIndex:ux_entitlement_license_repo,priority:2" json:"repo"`
	ProductCode string            `gorm:"size:64;not null" json:"product"`
	Source      EntitlementSource `gorm:"size:16;not null" json:"source"`
}

// ExpandTier turns a tier's product codes into entitlements, using the
// catalog to map each code to its repo. A code missing from the catalog is
// a Problem naming it.
func ExpandTier(tier Tier, catalog []Product) ([]Entitlement, error) {
	repos := make(map[string]string, len(catalog))
	for _, p := range catalog {
		repos[p.Code] = p.Repo
	}
	out := make([]Entitlement, 0, len(tier.Products))
	for _, code := range tier.Products {
		repo, ok := repos[code]
		if !ok {
			return nil, Invalid("product_not_found", "products",
				"tier %q grants product %q, which is not in the catalog; add the product or fix the tier", tier.Key, code)
		}
		out = append(out, Entitlement{ProductCode: code, Repo: repo, Source: SourceTier})
	}
	return out, nil
}
