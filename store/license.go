package store

import (
	"context"
	"encoding/base64"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/licenseflow/licenseflow/models"
)

// UpsertCustomer finds a customer by email or creates one. A name or company
// given for an existing customer without one fills the gap. It inserts with
// ON CONFLICT DO NOTHING, so a concurrent insert of the same email never
// raises an error (which would abort a surrounding PostgreSQL transaction).
func (s *Store) UpsertCustomer(ctx context.Context, email, name, company string) (models.Customer, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	fresh := models.Customer{ID: models.NewCustomerID(), Email: email, Name: name, Company: company}
	if err := insertIgnoringDuplicates(s.with(ctx), &fresh); err != nil {
		return fresh, err
	}
	var c models.Customer
	if err := s.with(ctx).First(&c, "email = ?", email).Error; err != nil {
		return c, err
	}
	updates := map[string]any{}
	if c.Name == "" && name != "" {
		updates["name"] = name
	}
	if c.Company == "" && company != "" {
		updates["company"] = company
	}
	if len(updates) > 0 {
		if err := s.with(ctx).Model(&c).Updates(updates).Error; err != nil {
			return c, err
		}
	}
	return c, nil
}

// GetLicense finds a license by id, with its customer.
func (s *Store) GetLicense(ctx context.Context, id string) (models.License, error) {
	var l models.License
	err := s.with(ctx).Preload("Customer").First(&l, "id = ?", id).Error
	if isNotFound(err) {
		return l, models.NotFound("license_not_found", "license %q does not exist", id)
	}
	return l, err
}

// GetLicenseByDLID finds a license by its key.
func (s *Store) GetLicenseByDLID(ctx context.Context, dlid string) (models.License, error) {
	var l models.License
	err := s.with(ctx).Preload("Customer").First(&l, "dlid = ?", dlid).Error
	if isNotFound(err) {
		return l, models.NotFound("license_not_found", "no license has that key")
	}
	return l, err
}

// MintLicense applies m; see Mint.
func (s *Store) MintLicense(ctx context.Context, m models.Mint) (models.License, error) {
	var out models.License
	err := s.transaction(ctx, func(tx *Store) error {
		var err error
		out, err = tx.mint(ctx, m)
		return err
	})
	if err == nil {
		s.licenseChanged(ctx, out.ID)
	}
	return out, err
}

// MintWithEntitlements applies m and expands its tier's entitlements (as
// SetEntitlements) in one transaction: a purchase's license is never
// minted without them, and issuing it costs one commit.
func (s *Store) MintWithEntitlements(ctx context.Context, m models.Mint) (models.License, models.Tier, []models.Entitlement, error) {
	var (
		l    models.License
		tier models.Tier
		all  []models.Entitlement
	)
	err := s.transaction(ctx, func(tx *Store) error {
		var err error
		if l, err = tx.mint(ctx, m); err != nil {
			return err
		}
		tier, all, err = tx.setEntitlements(ctx, l.ID, m.TierKey)
		return err
	})
	if err == nil {
		s.licenseChanged(ctx, l.ID)
	}
	return l, tier, all, err
}

// mint applies m inside the caller's transaction.
func (s *Store) mint(ctx context.Context, m models.Mint) (models.License, error) {
	l, err := s.GetLicense(ctx, m.LicenseID)
	if errors.Is(err, models.ErrNotFound) {
		customer, err := s.UpsertCustomer(ctx, m.Email, m.Name, "")
		if err != nil {
			return l, err
		}
		l = models.License{ID: m.LicenseID, CustomerID: customer.ID, TierKey: m.TierKey, Status: models.StatusPending,
			Type: m.Type, MaxDomains: m.MaxDomains, Channels: m.Channels, OrderID: m.OrderID, WorkflowID: m.WorkflowID}
		if err := s.db.Omit("Customer").Create(&l).Error; err != nil {
			return l, err
		}
	} else if err != nil {
		return l, err
	}
	if l.DLID != nil {
		return l, nil
	}
	dlid, err := models.NewDLID()
	if err != nil {
		return l, err
	}
	starts := models.Instant(m.StartsAt)
	err = s.db.Model(&models.License{}).Where("id = ? AND dlid IS NULL", l.ID).Updates(map[string]any{
		"dlid": dlid, "starts_at": starts, "expires_at": m.ExpiresAt, "grace_until": m.GraceUntil,
		"status": models.StatusActive, "max_domains": m.MaxDomains, "channels": m.Channels, "tier_key": m.TierKey,
	}).Error
	if err != nil {
		// A duplicate key here is a concurrent mint of the same license (or a
		// 128-bit DLID collision); either way the activity's retry resolves it.
		return l, err
	}
	return s.GetLicense(ctx, l.ID)
}

// ProjectLicense stores a workflow's view of a license unless a newer
// revision is already stored (projections can arrive out of order on retry),
// and appends the change to the license's ledger and the webhook events it
// brings about to the outbox, in one transaction.
func (s *Store) ProjectLicense(ctx context.Context, p models.Projection) error {
	var (
		changed bool
		due     []string
	)
	err := s.with(ctx).Transaction(func(tx *gorm.DB) error {
		if err := appendLedger(tx, p.Events); err != nil {
			return err
		}
		columns := map[string]any{
			"revision": p.Revision, "name": p.Name, "status": p.Status, "tier_key": p.TierKey, "starts_at": p.StartsAt,
			"expires_at": p.ExpiresAt, "grace_until": p.GraceUntil, "max_domains": p.MaxDomains, "channels": p.Channels,
			"renewals": p.Renewals, "period_start": p.PeriodStart, "processed_refs": p.ProcessedRefs,
		}
		if p.Type != "" { // a paid renewal converts a trial
			columns["type"] = p.Type
		}
		names := slices.Sorted(maps.Keys(columns)) // one statement text per column set
		// Only these columns: updated_at keeps marking the license's own
		// writes, not every projection.
		res := tx.Model(&models.License{}).Where("id = ? AND revision < ?", p.LicenseID, p.Revision).Select(names).Updates(columns)
		if res.Error != nil {
			return res.Error
		}
		changed = res.RowsAffected > 0
		events, err := licenseChangeEvents(tx, p)
		if err != nil {
			return err
		}
		due, err = writeWebhookEvents(tx, events)
		return err
	})
	if err == nil && changed {
		s.licenseChanged(ctx, p.LicenseID)
	}
	if err == nil {
		s.webhooksDue(due)
	}
	return err
}

// ListLicenses returns licenses newest first, a page at a time.
func (s *Store) ListLicenses(ctx context.Context, f models.LicenseFilter) (models.LicensePage, error) {
	q := s.with(ctx).Preload("Customer").Order("created_at DESC").Order("id DESC")
	if f.Email != "" {
		q = q.Where("customer_id IN (?)", s.with(ctx).Model(&models.Customer{}).Select("id").Where("email = ?", strings.ToLower(f.Email)))
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Tier != "" {
		q = q.Where("tier_key = ?", f.Tier)
	}
	if f.ExpiringWithin > 0 {
		q = q.Where("expires_at >= ? AND expires_at <= ?", f.Now, f.Now.Add(f.ExpiringWithin))
	}
	if f.Cursor != "" {
		at, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return models.LicensePage{}, err
		}
		q = q.Where("created_at < ? OR (created_at = ? AND id < ?)", at, at, id)
	}
	var rows []models.License
	if err := q.Limit(f.Limit + 1).Find(&rows).Error; err != nil {
		return models.LicensePage{}, err
	}
	page := models.LicensePage{Licenses: rows}
	if len(rows) > f.Limit {
		page.Licenses = rows[:f.Limit]
		last := page.Licenses[f.Limit-1]
		page.NextCursor = encodeCursor(last.CreatedAt, last.ID)
	}
	return page, nil
}

func encodeCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + id))
}

func decodeCursor(c string) (time.Time, string, error) {
	bad := models.Invalid("invalid_cursor", "cursor", "cursor is not one this API returned; start again without it")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", bad
	}
	ts, id, ok := strings.Cut(string(raw), "|")
	if !ok {
		return time.Time{}, "", bad
	}
	at, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return time.Time{}, "", bad
	}
	return at, id, nil
}

// insertIgnoringDuplicates inserts rows, skipping any that collide with a unique key.
func insertIgnoringDuplicates(db *gorm.DB, rows any) error {
	return db.Clauses(clause.OnConflict{DoNothing: true}).Create(rows).Error
}
