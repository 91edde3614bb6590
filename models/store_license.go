package models

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// UpsertCustomer finds a customer by email or creates one. A name or company
// given for an existing customer without one fills the gap. It inserts with
// ON CONFLICT DO NOTHING, so a concurrent insert of the same email never
// raises an error (which would abort a surrounding PostgreSQL transaction).
func (s *Store) UpsertCustomer(ctx context.Context, email, name, company string) (Customer, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	fresh := Customer{ID: newID("cus_"), Email: email, Name: name, Company: company}
	if err := insertIgnoringDuplicates(s.with(ctx), &fresh); err != nil {
		return fresh, err
	}
	var c Customer
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
func (s *Store) GetLicense(ctx context.Context, id string) (License, error) {
	var l License
	err := s.with(ctx).Preload("Customer").First(&l, "id = ?", id).Error
	if isNotFound(err) {
		return l, NotFound("license_not_found", "license %q does not exist", id)
	}
	return l, err
}

// GetLicenseByDLID finds a license by its key.
func (s *Store) GetLicenseByDLID(ctx context.Context, dlid string) (License, error) {
	var l License
	err := s.with(ctx).Preload("Customer").First(&l, "dlid = ?", dlid).Error
	if isNotFound(err) {
		return l, NotFound("license_not_found", "no license has that key")
	}
	return l, err
}

// Mint gives a license its dates and DLID. It is idempotent on the license
// id: a license that already has a DLID is returned unchanged, and a missing
// row (a workflow started without the API) is created.
type Mint struct {
	LicenseID  string
	OrderID    string
	WorkflowID string
	Email      string
	Name       string
	TierKey    string
	Type       LicenseType
	MaxDomains int
	Channels   StringList
	StartsAt   time.Time
	ExpiresAt  *time.Time
	GraceUntil *time.Time
}

// MintLicense applies m; see Mint.
func (s *Store) MintLicense(ctx context.Context, m Mint) (License, error) {
	var out License
	err := s.transaction(ctx, func(tx *Store) error {
		l, err := tx.GetLicense(ctx, m.LicenseID)
		if errors.Is(err, ErrNotFound) {
			customer, err := tx.UpsertCustomer(ctx, m.Email, m.Name, "")
			if err != nil {
				return err
			}
			l = License{ID: m.LicenseID, CustomerID: customer.ID, TierKey: m.TierKey, Status: StatusPending,
				Type: m.Type, MaxDomains: m.MaxDomains, Channels: m.Channels, OrderID: m.OrderID, WorkflowID: m.WorkflowID}
			if err := tx.db.Omit("Customer").Create(&l).Error; err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if l.DLID != nil {
			out = l
			return nil
		}
		dlid, err := NewDLID()
		if err != nil {
			return err
		}
		starts := Instant(m.StartsAt)
		err = tx.db.Model(&License{}).Where("id = ? AND dlid IS NULL", l.ID).Updates(map[string]any{
			"dlid": dlid, "starts_at": starts, "expires_at": m.ExpiresAt, "grace_until": m.GraceUntil,
			"status": StatusActive, "max_domains": m.MaxDomains, "channels": m.Channels, "tier_key": m.TierKey,
		}).Error
		if err != nil {
			return err
		}
		out, err = tx.GetLicense(ctx, l.ID)
		return err
	})
	// A duplicate key here is a concurrent mint of the same license (or a
	// 128-bit DLID collision); either way the activity's retry resolves it.
	if err == nil {
		s.licenseChanged(ctx, out.ID)
	}
	return out, err
}

// Projection is a license's state as its workflow sees it at a revision.
type Projection struct {
	LicenseID  string
	Revision   int64
	Status     LicenseStatus
	TierKey    string
	StartsAt   *time.Time
	ExpiresAt  *time.Time
	GraceUntil *time.Time
	MaxDomains int
	Channels   StringList
	// Events are the ledger lines of this revision's change.
	Events []LicenseEvent
}

// ProjectLicense stores a workflow's view of a license unless a newer
// revision is already stored (projections can arrive out of order on retry),
// and appends the change to the license's ledger, in one transaction.
func (s *Store) ProjectLicense(ctx context.Context, p Projection) error {
	var changed bool
	err := s.with(ctx).Transaction(func(tx *gorm.DB) error {
		if err := appendLedger(tx, p.Events); err != nil {
			return err
		}
		res := tx.Model(&License{}).Where("id = ? AND revision < ?", p.LicenseID, p.Revision).
			Select("revision", "status", "tier_key", "starts_at", "expires_at", "grace_until", "max_domains", "channels").
			Updates(map[string]any{
				"revision": p.Revision, "status": p.Status, "tier_key": p.TierKey, "starts_at": p.StartsAt,
				"expires_at": p.ExpiresAt, "grace_until": p.GraceUntil, "max_domains": p.MaxDomains, "channels": p.Channels,
			})
		changed = res.RowsAffected > 0
		return res.Error
	})
	if err == nil && changed {
		s.licenseChanged(ctx, p.LicenseID)
	}
	return err
}

// LicenseFilter narrows a license list; zero fields do not filter.
type LicenseFilter struct {
	Email          string
	Status         LicenseStatus
	Tier           string
	ExpiringWithin time.Duration
	Now            time.Time
	Limit          int
	Cursor         string
}

// LicensePage is one page of a license list; NextCursor is empty on the last page.
type LicensePage struct {
	Licenses   []License
	NextCursor string
}

// ListLicenses returns licenses newest first, a page at a time.
func (s *Store) ListLicenses(ctx context.Context, f LicenseFilter) (LicensePage, error) {
	q := s.with(ctx).Preload("Customer").Order("created_at DESC").Order("id DESC")
	if f.Email != "" {
		q = q.Where("customer_id IN (?)", s.with(ctx).Model(&Customer{}).Select("id").Where("email = ?", strings.ToLower(f.Email)))
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
			return LicensePage{}, err
		}
		q = q.Where("created_at < ? OR (created_at = ? AND id < ?)", at, at, id)
	}
	var rows []License
	if err := q.Limit(f.Limit + 1).Find(&rows).Error; err != nil {
		return LicensePage{}, err
	}
	page := LicensePage{Licenses: rows}
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
	bad := Invalid("invalid_cursor", "cursor", "cursor is not one this API returned; start again without it")
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
