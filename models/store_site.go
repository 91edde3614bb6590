package models

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"sort"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// SiteLicense is what a site-facing request needs to know about a key: the
// license, its entitlements and its active domains, read in one go.
type SiteLicense struct {
	License       License
	Entitled      []string // repos and product codes
	Entitlements  []Entitlement
	ActiveDomains []string
}

// LookupSiteLicense finds the license of a DLID with its entitlements and
// active domains. A key that matches nothing is ErrNotFound.
func (s *Store) LookupSiteLicense(ctx context.Context, dlid string) (SiteLicense, error) {
	var out SiteLicense
	err := s.with(ctx).First(&out.License, "dlid = ?", dlid).Error
	if isNotFound(err) {
		return out, NotFound("license_not_found", "no license has that key")
	}
	if err != nil {
		return out, err
	}
	if out.Entitlements, err = s.GetEntitlements(ctx, out.License.ID); err != nil {
		return out, err
	}
	for _, e := range out.Entitlements {
		out.Entitled = append(out.Entitled, e.Repo, e.ProductCode)
	}
	out.ActiveDomains, err = s.activeDomains(s.with(ctx), out.License.ID)
	return out, err
}

func (s *Store) activeDomains(db *gorm.DB, licenseID string) ([]string, error) {
	var domains []string
	err := db.Model(&Activation{}).Where("license_id = ? AND status = ?", licenseID, ActivationActive).
		Order("domain").Pluck("domain", &domains).Error
	return domains, err
}

// ListActivations lists a license's activations, active first.
func (s *Store) ListActivations(ctx context.Context, licenseID string) ([]Activation, error) {
	var out []Activation
	return out, s.with(ctx).Where("license_id = ?", licenseID).Order("status, domain").Find(&out).Error
}

// CountActiveDomains counts a license's active domains.
func (s *Store) CountActiveDomains(ctx context.Context, licenseID string) (int, error) {
	var n int64
	err := s.with(ctx).Model(&Activation{}).Where("license_id = ? AND status = ?", licenseID, ActivationActive).Count(&n).Error
	return int(n), err
}

// Activate makes domain an active domain of the license, unless every slot
// is taken (Conflict TOO_MANY_DOMAINS). It holds the license row locked on
// PostgreSQL (SQLite serializes writers), so concurrent activations never
// exceed max_domains. Activating an active domain only refreshes last_seen.
func (s *Store) Activate(ctx context.Context, licenseID, domain string, now time.Time) (Activation, []string, error) {
	var (
		act    Activation
		active []string
	)
	now = Instant(now)
	err := s.transaction(ctx, func(tx *Store) error {
		var l License
		if err := tx.db.Clauses(clause.Locking{Strength: "UPDATE"}).First(&l, "id = ?", licenseID).Error; err != nil {
			return err
		}
		err := tx.db.First(&act, "license_id = ? AND domain = ?", licenseID, domain).Error
		found := err == nil
		if err != nil && !isNotFound(err) {
			return err
		}
		if active, err = tx.activeDomains(tx.db, licenseID); err != nil {
			return err
		}
		if found && act.Status == ActivationActive {
			act.LastSeen = now
			return tx.db.Model(&act).Update("last_seen", now).Error
		}
		if len(active) >= l.MaxDomains {
			return Conflict(CodeTooManyDomains, "all %d domain slots of this license are in use (%d active); deactivate one first", l.MaxDomains, len(active))
		}
		active = append(active, domain)
		sort.Strings(active)
		if found {
			act.Status, act.LastSeen, act.DeactivatedAt = ActivationActive, now, nil
			return tx.db.Model(&act).Updates(map[string]any{"status": ActivationActive, "last_seen": now, "deactivated_at": nil}).Error
		}
		act = Activation{LicenseID: licenseID, Domain: domain, Status: ActivationActive, FirstSeen: now, LastSeen: now}
		return tx.db.Create(&act).Error
	})
	if err == nil {
		s.licenseChanged(ctx, licenseID)
	}
	return act, active, err
}

// Deactivate frees a domain's slot. Deactivating a domain that is not
// active is NotFound.
func (s *Store) Deactivate(ctx context.Context, licenseID, domain string, now time.Time) error {
	at := Instant(now)
	res := s.with(ctx).Model(&Activation{}).Where("license_id = ? AND domain = ? AND status = ?", licenseID, domain, ActivationActive).
		Updates(map[string]any{"status": ActivationDeactivated, "deactivated_at": &at})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return NotFound(CodeDomainNotActivated, "%s is not an active domain of this license", domain)
	}
	s.licenseChanged(ctx, licenseID)
	return nil
}

// Heartbeat records that an active domain is still in use.
func (s *Store) Heartbeat(ctx context.Context, licenseID, domain string, now time.Time) error {
	res := s.with(ctx).Model(&Activation{}).Where("license_id = ? AND domain = ? AND status = ?", licenseID, domain, ActivationActive).
		Update("last_seen", Instant(now))
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return NotFound(CodeDomainNotActivated, "%s is not an active domain of this license; activate it first", domain)
	}
	return nil
}

// ReleaseSilentDomains deactivates domains not seen since before; it
// returns how many it freed.
func (s *Store) ReleaseSilentDomains(ctx context.Context, before, now time.Time) (int, error) {
	at := Instant(now)
	res := s.with(ctx).Model(&Activation{}).Where("status = ? AND last_seen < ?", ActivationActive, Instant(before)).
		Updates(map[string]any{"status": ActivationDeactivated, "deactivated_at": &at})
	if res.Error == nil && res.RowsAffected > 0 {
		s.licenseChanged(ctx, AllLicenses)
	}
	return int(res.RowsAffected), res.Error
}

// RecordUsage stores usage events in one batch.
func (s *Store) RecordUsage(ctx context.Context, events []UsageEvent) error {
	if len(events) == 0 {
		return nil
	}
	return s.with(ctx).CreateInBatches(events, 500).Error
}

// UsageDay counts one day's hits by kind.
type UsageDay struct {
	Day    string            `json:"day"`
	Counts map[UsageKind]int `json:"counts"`
}

// DomainSeen is when a domain last showed up.
type DomainSeen struct {
	Domain   string    `json:"domain"`
	LastSeen time.Time `json:"last_seen"`
}

// Usage summarizes a license's usage since a moment.
type Usage struct {
	Totals  map[UsageKind]int `json:"totals"`
	Days    []UsageDay        `json:"days"`
	Domains []DomainSeen      `json:"domains"`
}

// UsageSince counts a license's usage events by kind and UTC day (bucketed
// here, so PostgreSQL and SQLite agree) and when each domain was last seen.
func (s *Store) UsageSince(ctx context.Context, licenseID string, since time.Time) (Usage, error) {
	var events []UsageEvent
	if err := s.with(ctx).Select("kind", "domain", "at").Where("license_id = ? AND at >= ?", licenseID, Instant(since)).
		Order("at").Find(&events).Error; err != nil {
		return Usage{}, err
	}
	u := Usage{Totals: map[UsageKind]int{}, Days: []UsageDay{}, Domains: []DomainSeen{}}
	lastSeen := map[string]time.Time{}
	for _, e := range events {
		day := e.At.UTC().Format("2006-01-02")
		if n := len(u.Days); n == 0 || u.Days[n-1].Day != day {
			u.Days = append(u.Days, UsageDay{Day: day, Counts: map[UsageKind]int{}})
		}
		u.Days[len(u.Days)-1].Counts[e.Kind]++
		u.Totals[e.Kind]++
		if e.Domain != "" && e.At.After(lastSeen[e.Domain]) {
			lastSeen[e.Domain] = e.At
		}
	}
	for d, at := range lastSeen {
		u.Domains = append(u.Domains, DomainSeen{Domain: d, LastSeen: at})
	}
	sort.Slice(u.Domains, func(i, j int) bool { return u.Domains[i].Domain < u.Domains[j].Domain })
	return u, nil
}

// CreateRelease records a published release; the same version twice is a Conflict.
func (s *Store) CreateRelease(ctx context.Context, r Release) (Release, error) {
	err := s.with(ctx).Create(&r).Error
	if isDuplicate(err) {
		return r, Conflict("release_exists", "%s %s is already published; publish a new version", r.ProductCode, r.Version)
	}
	return r, err
}

// ListReleases lists a product's releases, newest version first.
func (s *Store) ListReleases(ctx context.Context, productCode string) ([]Release, error) {
	var out []Release
	if err := s.with(ctx).Where("product_code = ?", productCode).Find(&out).Error; err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return CompareVersions(out[i].Version, out[j].Version) > 0 })
	return out, nil
}

// GetRelease finds one release.
func (s *Store) GetRelease(ctx context.Context, productCode, version string) (Release, error) {
	var r Release
	err := s.with(ctx).First(&r, "product_code = ? AND version = ?", productCode, version).Error
	if isNotFound(err) {
		return r, NotFound("release_not_found", "%s has no version %s", productCode, version)
	}
	return r, err
}

// NotifiableLicenses pages through licenses that are active (or expiring)
// and entitled to repo, ordered by id, after the given id.
func (s *Store) NotifiableLicenses(ctx context.Context, repo, afterID string, limit int) ([]License, error) {
	var out []License
	err := s.with(ctx).Where("id > ? AND status IN ? AND id IN (?)", afterID, []LicenseStatus{StatusActive, StatusExpiring},
		s.with(ctx).Model(&Entitlement{}).Select("license_id").Where("repo = ?", repo)).
		Order("id").Limit(limit).Find(&out).Error
	return out, err
}

// ActiveSigningKey returns the key that signs now, creating the first one.
func (s *Store) ActiveSigningKey(ctx context.Context) (SigningKey, error) {
	var k SigningKey
	err := s.with(ctx).Order("created_at DESC").First(&k, "active = ?", true).Error
	if isNotFound(err) {
		return s.RotateSigningKey(ctx)
	}
	return k, err
}

// RotateSigningKey makes a new active key; the old ones stay for verification.
func (s *Store) RotateSigningKey(ctx context.Context) (SigningKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return SigningKey{}, err
	}
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return SigningKey{}, err
	}
	k := SigningKey{ID: hex.EncodeToString(id[:]), PublicKey: pub, PrivateKey: priv, Active: true}
	err = s.transaction(ctx, func(tx *Store) error {
		if err := tx.db.Model(&SigningKey{}).Where("active = ?", true).Update("active", false).Error; err != nil {
			return err
		}
		return tx.db.Create(&k).Error
	})
	return k, err
}

// SigningKeys lists every key, newest first.
func (s *Store) SigningKeys(ctx context.Context) ([]SigningKey, error) {
	var out []SigningKey
	return out, s.with(ctx).Order("created_at DESC").Find(&out).Error
}
