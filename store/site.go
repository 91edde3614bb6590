package store

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/licenseflow/licenseflow/models"
)

// LookupSiteLicense finds the license of a DLID with its entitlements and
// active domains. A key that matches nothing is ErrNotFound.
//
// Installed sites validate about once a day, so nearly every validation
// misses the site cache and lands here: it is one indexed statement
// (siteLicenseQuery) scanned without reflection, not three gorm reads.
func (s *Store) LookupSiteLicense(ctx context.Context, dlid string) (models.SiteLicense, error) {
	out := models.SiteLicense{LastSeen: map[string]time.Time{}}
	rows, err := s.reading(ctx).Raw(siteLicenseQuery, dlid, models.MasterKeyDigest(dlid), models.SourceMaster, models.TypeMaster, models.ActivationActive).Rows()
	if err != nil {
		return out, err
	}
	defer rows.Close()
	found := false
	for rows.Next() {
		var (
			kind int
			l    models.License
		)
		if err := rows.Scan(&kind, &l.ID, &l.CustomerID, &l.TierKey, &l.Name, &l.Status, &l.Type, &l.StartsAt, &l.ExpiresAt,
			&l.GraceUntil, &l.MaxDomains, &l.Channels, &l.OrderID, &l.WorkflowID, &l.StripeCustomerID, &l.StripeSubscriptionID,
			&l.AutoRenew, &l.Revision, &l.CreatedAt, &l.UpdatedAt); err != nil {
			return out, fmt.Errorf("read license of a key: %w", err)
		}
		switch kind {
		case siteRowLicense:
			found, out.License = true, l
			out.License.DLID = &dlid
		case siteRowEntitlement:
			e := models.Entitlement{ID: uint(l.Revision), LicenseID: l.CustomerID, Repo: l.ID, ProductCode: l.TierKey, Source: models.EntitlementSource(l.Name)}
			out.Entitlements = append(out.Entitlements, e)
		case siteRowActivation:
			out.ActiveDomains = append(out.ActiveDomains, l.ID)
			if l.AutoRenew {
				out.StagingDomains = append(out.StagingDomains, l.ID)
			}
			out.LastSeen[l.ID] = l.UpdatedAt
		}
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("read license of a key: %w", err)
	}
	if !found {
		return models.SiteLicense{}, models.NotFound("license_not_found", "no license has that key")
	}
	// Sorted here rather than by the statement: a handful of rows each.
	slices.SortFunc(out.Entitlements, func(a, b models.Entitlement) int { return strings.Compare(a.Repo, b.Repo) })
	for _, e := range out.Entitlements {
		out.Entitled = append(out.Entitled, e.Repo, e.ProductCode)
	}
	slices.Sort(out.ActiveDomains)
	slices.Sort(out.StagingDomains)
	return out, nil
}

// The rows of siteLicenseQuery, in their order.
const (
	siteRowLicense = iota
	siteRowEntitlement
	siteRowActivation
)

// siteLicenseQuery reads a license (by DLID), its entitlements and its
// active domains in one statement: one round trip, each part an index
// lookup. The master license is found by its key's digest instead (a
// partial index holding its one row) and is entitled to every product in
// the catalog, read at once: a product added after it is included. Every
// row has the license's columns; entitlement and activation rows carry
// their values in columns of the same type, so both databases give each
// column one type:
//
//	entitlement: id=repo, customer_id=license_id, tier_key=product_code, name=source, revision=id
//	activation:  id=domain, auto_renew=staging, updated_at=last_seen
const siteLicenseQuery = `
WITH l AS (SELECT * FROM licenses WHERE dlid = ? UNION ALL SELECT * FROM licenses WHERE key_digest = ?)
SELECT 0 AS kind, id, customer_id, tier_key, name, status, type, starts_at, expires_at, grace_until, max_domains, channels,
       order_id, workflow_id, stripe_customer_id, stripe_subscription_id, auto_renew, revision, created_at, updated_at
  FROM l
UNION ALL
SELECT 1, e.repo, e.license_id, e.product_code, e.source, l.status, l.type, NULL, NULL, NULL, 0, l.channels,
       '', '', '', '', l.auto_renew, e.id, l.created_at, l.updated_at
  FROM l JOIN entitlements e ON e.license_id = l.id
UNION ALL
SELECT 1, p.repo, l.id, p.code, ?, l.status, l.type, NULL, NULL, NULL, 0, l.channels,
       '', '', '', '', l.auto_renew, 0, l.created_at, l.updated_at
  FROM l JOIN products p ON l.type = ?
UNION ALL
SELECT 2, a.domain, a.license_id, '', '', l.status, l.type, NULL, NULL, NULL, 0, l.channels,
       '', '', '', '', a.staging, 0, a.first_seen, a.last_seen
  FROM l JOIN activations a ON a.license_id = l.id AND a.status = ?`

// activeDomains lists a license's active domains, and those of them that
// are staging copies, in one query.
func (s *Store) activeDomains(db *gorm.DB, licenseID string) (active, staging []string, err error) {
	rows, err := activeActivations(db, licenseID)
	active, staging = domainsOf(rows)
	return active, staging, err
}

// activeActivations reads a license's active domains, by domain.
func activeActivations(db *gorm.DB, licenseID string) ([]models.Activation, error) {
	var rows []models.Activation
	err := db.Select("domain", "staging", "last_seen").Where("license_id = ? AND status = ?", licenseID, models.ActivationActive).
		Order("domain").Find(&rows).Error
	return rows, err
}

// domainsOf names active activations' domains, and those that are staging copies.
func domainsOf(rows []models.Activation) (active, staging []string) {
	for _, r := range rows {
		active = append(active, r.Domain)
		if r.Staging {
			staging = append(staging, r.Domain)
		}
	}
	return active, staging
}

// ListActivations lists a license's activations, active first.
func (s *Store) ListActivations(ctx context.Context, licenseID string) ([]models.Activation, error) {
	var out []models.Activation
	return out, s.with(ctx).Where("license_id = ?", licenseID).Order("status, domain").Find(&out).Error
}

// CountActiveDomains counts a license's active domains that take a slot
// (staging copies take none).
func (s *Store) CountActiveDomains(ctx context.Context, licenseID string) (int, error) {
	var n int64
	err := s.with(ctx).Model(&models.Activation{}).Where("license_id = ? AND status = ? AND staging = ?", licenseID, models.ActivationActive, false).Count(&n).Error
	return int(n), err
}

// Activate makes domain an active domain of the license, unless every slot
// is taken (Conflict TOO_MANY_DOMAINS). It holds the license row locked on
// PostgreSQL (SQLite serializes writers), so concurrent activations never
// exceed max_domains. Activating an active domain only refreshes last_seen.
// It returns the license's active domains.
func (s *Store) Activate(ctx context.Context, licenseID, domain string, now time.Time) (models.Activation, []string, error) {
	return s.activate(ctx, licenseID, domain, false, now)
}

// ActivateStaging makes a staging or local copy of a site an active domain
// of the license without taking a slot (see models.StagingRule).
func (s *Store) ActivateStaging(ctx context.Context, licenseID, domain string, now time.Time) (models.Activation, []string, error) {
	return s.activate(ctx, licenseID, domain, true, now)
}

func (s *Store) activate(ctx context.Context, licenseID, domain string, staging bool, now time.Time) (models.Activation, []string, error) {
	var (
		act    models.Activation
		active []string
		due    []string
	)
	now = models.Instant(now)
	err := s.transaction(ctx, func(tx *Store) error {
		var l models.License
		if err := tx.db.Clauses(clause.Locking{Strength: "UPDATE"}).First(&l, "id = ?", licenseID).Error; err != nil {
			return err
		}
		err := tx.db.First(&act, "license_id = ? AND domain = ?", licenseID, domain).Error
		found := err == nil
		if err != nil && !isNotFound(err) {
			return err
		}
		var stagingDomains []string
		if active, stagingDomains, err = tx.activeDomains(tx.db, licenseID); err != nil {
			return err
		}
		if found && act.Status == models.ActivationActive {
			act.LastSeen = now
			return tx.db.Model(&act).Update("last_seen", now).Error
		}
		if inUse := len(active) - len(stagingDomains); !staging && inUse >= l.MaxDomains {
			return models.Conflict(models.CodeTooManyDomains, "all %d domain slots of this license are in use (%d active); deactivate one first", l.MaxDomains, inUse)
		}
		// Staging copies take no slot but are capped too (as many as the
		// license has slots), so no staging name is a way around max_domains.
		if staging && len(stagingDomains) >= l.MaxDomains {
			return models.Conflict(models.CodeTooManyDomains, "all %d staging slots of this license are in use; deactivate a staging copy first", l.MaxDomains)
		}
		active = append(active, domain)
		sort.Strings(active)
		if found {
			act.Status, act.Staging, act.LastSeen, act.DeactivatedAt = models.ActivationActive, staging, now, nil
			err = tx.db.Model(&act).Updates(map[string]any{"status": models.ActivationActive, "staging": staging, "last_seen": now, "deactivated_at": nil}).Error
		} else {
			act = models.Activation{LicenseID: licenseID, Domain: domain, Status: models.ActivationActive, Staging: staging, FirstSeen: now, LastSeen: now}
			err = tx.db.Create(&act).Error
		}
		if err != nil {
			return err
		}
		due, err = domainEvents(tx.db, models.EventLicenseDomainActivated, now, "", act)
		return err
	})
	if err == nil {
		s.licenseChanged(ctx, licenseID)
		s.webhooksDue(due)
	}
	return act, active, err
}

// domainEvents reports activations or deactivations to the webhook outbox.
func domainEvents(tx *gorm.DB, t models.WebhookEventType, at time.Time, reason string, acts ...models.Activation) ([]string, error) {
	events := make([]models.WebhookEvent, len(acts))
	for i, a := range acts {
		var err error
		if events[i], err = licenseEvent(tx, a.LicenseID, t, at, models.WebhookData{Domain: a.Domain, Reason: reason}); err != nil {
			return nil, err
		}
	}
	return writeWebhookEvents(tx, events)
}

// Deactivate frees a domain's slot. Deactivating a domain that is not
// active is NotFound. Like Activate it locks the license row first (the
// same order of locks, so the two never deadlock).
func (s *Store) Deactivate(ctx context.Context, licenseID, domain string, now time.Time) error {
	at := models.Instant(now)
	var due []string
	err := s.transaction(ctx, func(tx *Store) error {
		var l models.License
		if err := tx.db.Clauses(clause.Locking{Strength: "UPDATE"}).First(&l, "id = ?", licenseID).Error; err != nil {
			return err
		}
		res := tx.db.Model(&models.Activation{}).Where("license_id = ? AND domain = ? AND status = ?", licenseID, domain, models.ActivationActive).
			Updates(map[string]any{"status": models.ActivationDeactivated, "deactivated_at": &at})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return models.NotFound(models.CodeDomainNotActivated, "%s is not an active domain of this license", domain)
		}
		var err error
		due, err = domainEvents(tx.db, models.EventLicenseDomainDeactivated, at, "", models.Activation{LicenseID: licenseID, Domain: domain})
		return err
	})
	if err != nil {
		return err
	}
	s.licenseChanged(ctx, licenseID)
	s.webhooksDue(due)
	return nil
}

// Heartbeat records that an active domain is still in use.
func (s *Store) Heartbeat(ctx context.Context, licenseID, domain string, now time.Time) error {
	res := s.with(ctx).Model(&models.Activation{}).Where("license_id = ? AND domain = ? AND status = ?", licenseID, domain, models.ActivationActive).
		Update("last_seen", models.Instant(now))
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return models.NotFound(models.CodeDomainNotActivated, "%s is not an active domain of this license; activate it first", domain)
	}
	return nil
}

// heartbeatsPerTransaction bounds the updates RecordHeartbeats makes in
// one transaction, so a large batch does not hold SQLite's writer for long.
const heartbeatsPerTransaction = 500

// RecordHeartbeats writes a batch of heartbeats: each active domain's
// last_seen moves forward to its heartbeat, never back (batches from
// several API instances may arrive out of order). Domains no longer
// active are left alone.
func (s *Store) RecordHeartbeats(ctx context.Context, beats []models.Heartbeat) error {
	for chunk := range slices.Chunk(beats, heartbeatsPerTransaction) {
		err := s.transaction(ctx, func(tx *Store) error {
			// One statement, prepared once for the chunk: parsed again for
			// every domain, it cost SQLite more than the update itself.
			db := tx.db.Session(&gorm.Session{PrepareStmt: true})
			for _, b := range chunk {
				at := models.Instant(b.At)
				err := db.Model(&models.Activation{}).
					Where("license_id = ? AND domain = ? AND status = ? AND last_seen < ?", b.LicenseID, b.Domain, models.ActivationActive, at).
					Update("last_seen", at).Error
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("record %d heartbeats: %w", len(beats), err)
		}
	}
	return nil
}

// ReleaseSilentDomains deactivates domains not seen since before; it
// returns how many it freed. The licenses concerned are locked first, in
// id order, as Activate and Deactivate lock them.
func (s *Store) ReleaseSilentDomains(ctx context.Context, before, now time.Time) (int, error) {
	at, cutoff := models.Instant(now), models.Instant(before)
	var (
		released []models.Activation
		due      []string
	)
	err := s.transaction(ctx, func(tx *Store) error {
		silent := func() *gorm.DB {
			return tx.db.Model(&models.Activation{}).Where("status = ? AND last_seen < ?", models.ActivationActive, cutoff)
		}
		var licenseIDs []string
		if err := silent().Distinct("license_id").Order("license_id").Pluck("license_id", &licenseIDs).Error; err != nil || len(licenseIDs) == 0 {
			return err
		}
		var locked []string
		if err := tx.db.Clauses(clause.Locking{Strength: "UPDATE"}).Model(&models.License{}).Where("id IN ?", licenseIDs).
			Order("id").Pluck("id", &locked).Error; err != nil {
			return err
		}
		if err := silent().Order("license_id, domain").Find(&released).Error; err != nil || len(released) == 0 {
			return err
		}
		ids := make([]uint, len(released))
		for i, a := range released {
			ids[i] = a.ID
		}
		if err := tx.db.Model(&models.Activation{}).Where("id IN ?", ids).
			Updates(map[string]any{"status": models.ActivationDeactivated, "deactivated_at": &at}).Error; err != nil {
			return err
		}
		var err error
		due, err = domainEvents(tx.db, models.EventLicenseDomainDeactivated, at,
			fmt.Sprintf("no heartbeat or validation since %s", cutoff.Format(time.RFC3339)), released...)
		return err
	})
	if err == nil && len(released) > 0 {
		s.licenseChanged(ctx, AllLicenses)
		s.webhooksDue(due)
	}
	return len(released), err
}

// RecordUsage stores usage events in one batch (an event without Hits is one hit).
func (s *Store) RecordUsage(ctx context.Context, events []models.UsageEvent) error {
	if len(events) == 0 {
		return nil
	}
	for i := range events {
		events[i].Hits = max(events[i].Hits, 1)
	}
	return s.with(ctx).CreateInBatches(events, 500).Error
}

// UsageSince counts a license's usage events by kind and UTC day (bucketed
// here, so PostgreSQL and SQLite agree) and when each domain was last seen.
func (s *Store) UsageSince(ctx context.Context, licenseID string, since time.Time) (models.Usage, error) {
	var events []models.UsageEvent
	if err := s.with(ctx).Select("kind", "domain", "at", "hits").Where("license_id = ? AND at >= ?", licenseID, models.Instant(since)).
		Order("at").Find(&events).Error; err != nil {
		return models.Usage{}, err
	}
	u := models.Usage{Totals: map[models.UsageKind]int{}, Days: []models.UsageDay{}, Domains: []models.DomainSeen{}}
	lastSeen := map[string]time.Time{}
	for _, e := range events {
		day := e.At.UTC().Format("2006-01-02")
		if n := len(u.Days); n == 0 || u.Days[n-1].Day != day {
			u.Days = append(u.Days, models.UsageDay{Day: day, Counts: map[models.UsageKind]int{}})
		}
		u.Days[len(u.Days)-1].Counts[e.Kind] += e.Hits
		u.Totals[e.Kind] += e.Hits
		if e.Domain != "" && e.At.After(lastSeen[e.Domain]) {
			lastSeen[e.Domain] = e.At
		}
	}
	for d, at := range lastSeen {
		u.Domains = append(u.Domains, models.DomainSeen{Domain: d, LastSeen: at})
	}
	sort.Slice(u.Domains, func(i, j int) bool { return u.Domains[i].Domain < u.Domains[j].Domain })
	return u, nil
}

// CreateRelease records a published release; the same version twice is a Conflict.
func (s *Store) CreateRelease(ctx context.Context, r models.Release) (models.Release, error) {
	var due []string
	err := s.transaction(ctx, func(tx *Store) error {
		if err := tx.db.Create(&r).Error; err != nil {
			return err
		}
		var err error
		due, err = writeWebhookEvents(tx.db, []models.WebhookEvent{{
			Type: models.EventReleasePublished, OccurredAt: r.PublishedAt, Source: fmt.Sprintf("release:%s:%s", r.ProductCode, r.Version),
			Data: models.JSONValue[models.WebhookData]{V: models.WebhookData{Release: &models.WebhookRelease{
				Product: r.ProductCode, Version: r.Version, Channel: r.Channel, Notes: r.Notes, SHA256: r.SHA256, PublishedAt: r.PublishedAt,
			}}},
		}})
		return err
	})
	if isDuplicate(err) {
		return r, models.Conflict("release_exists", "%s %s is already published; publish a new version", r.ProductCode, r.Version)
	}
	if err == nil {
		s.webhooksDue(due)
	}
	return r, err
}

// ListReleases lists a product's releases, newest version first.
func (s *Store) ListReleases(ctx context.Context, productCode string) ([]models.Release, error) {
	var out []models.Release
	if err := s.with(ctx).Where("product_code = ?", productCode).Find(&out).Error; err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return models.CompareVersions(out[i].Version, out[j].Version) > 0 })
	return out, nil
}

// GetRelease finds one release.
func (s *Store) GetRelease(ctx context.Context, productCode, version string) (models.Release, error) {
	var r models.Release
	err := s.with(ctx).First(&r, "product_code = ? AND version = ?", productCode, version).Error
	if isNotFound(err) {
		return r, models.NotFound("release_not_found", "%s has no version %s", productCode, version)
	}
	return r, err
}

// NotifiableLicenses pages through licenses that are active (or expiring),
// entitled to repo and, when channel is not empty, on that update channel
// (a beta release is news only to licenses that receive beta releases),
// ordered by id, after the given id. A page shorter than limit is the last.
func (s *Store) NotifiableLicenses(ctx context.Context, repo, channel, afterID string, limit int) ([]models.License, error) {
	var out []models.License
	for len(out) < limit {
		var page []models.License
		err := s.with(ctx).Where("id > ? AND status IN ? AND id IN (?)", afterID, []models.LicenseStatus{models.StatusActive, models.StatusExpiring},
			s.with(ctx).Model(&models.Entitlement{}).Select("license_id").Where("repo = ?", repo)).
			Order("id").Limit(limit).Find(&page).Error
		if err != nil {
			return nil, err
		}
		for _, l := range page {
			if (channel == "" || l.Channels.Contains(channel)) && len(out) < limit {
				out = append(out, l)
			}
		}
		if len(page) < limit {
			break
		}
		afterID = page[len(page)-1].ID
	}
	return out, nil
}

// ActiveSigningKey returns the key that signs now, its private half still
// sealed; a models.ErrNotFound problem before the first one is added.
func (s *Store) ActiveSigningKey(ctx context.Context) (models.SigningKey, error) {
	var k models.SigningKey
	err := s.with(ctx).Order("created_at DESC").First(&k, "active = ?", true).Error
	if isNotFound(err) {
		return k, models.NotFound("no_signing_key", "no signing key has been made yet")
	}
	return k, err
}

// AddSigningKey makes k the active key. The key it replaces signs no more:
// its private half is deleted, its public half stays published (see
// PublishedSigningKeys).
func (s *Store) AddSigningKey(ctx context.Context, k models.SigningKey, now time.Time) error {
	return s.transaction(ctx, func(tx *Store) error { return tx.addSigningKey(k, now) })
}

// addSigningKey is AddSigningKey inside the caller's transaction.
func (s *Store) addSigningKey(k models.SigningKey, now time.Time) error {
	err := s.db.Model(&models.SigningKey{}).Where("active = ?", true).
		Updates(map[string]any{"active": false, "replaced_at": now, "private_key": models.PrivateKeyDeleted}).Error
	if err != nil {
		return err
	}
	k.Active, k.ReplacedAt, k.RetiredAt = true, nil, nil
	return s.db.Create(&k).Error
}

// RetireSigningKey retires the key id: it is published no more, so nothing
// it signed verifies, and its private half is deleted. Retiring the active
// key makes replacement the active key in the same transaction; retiring
// a retired key changes nothing. An unknown id is a models.ErrNotFound
// problem.
func (s *Store) RetireSigningKey(ctx context.Context, id string, replacement models.SigningKey, now time.Time) (models.SigningKey, error) {
	var k models.SigningKey
	err := s.transaction(ctx, func(tx *Store) error {
		err := tx.db.Clauses(clause.Locking{Strength: "UPDATE"}).First(&k, "id = ?", id).Error
		if isNotFound(err) {
			return models.NotFound("signing_key_not_found", "no signing key has the id %q; GET /api/v1/keys/public lists the published ones", id)
		}
		if err != nil || k.RetiredAt != nil {
			return err
		}
		if k.Active {
			if err := tx.addSigningKey(replacement, now); err != nil {
				return err
			}
		}
		k.Active, k.SealedPrivateKey, k.RetiredAt = false, models.PrivateKeyDeleted, &now
		if k.ReplacedAt == nil {
			k.ReplacedAt = &now
		}
		return tx.db.Model(&models.SigningKey{}).Where("id = ?", id).Updates(map[string]any{
			"active": false, "private_key": k.SealedPrivateKey, "retired_at": now, "replaced_at": *k.ReplacedAt}).Error
	})
	return k, err
}

// PublishedSigningKeys lists the keys whose signatures verify, the active
// verify: the active one and those replaced after since, not retired.
func (s *Store) PublishedSigningKeys(ctx context.Context, since time.Time) ([]models.SigningKey, error) {
	var out []models.SigningKey
	return out, s.with(ctx).Where("retired_at IS NULL AND (active = ? OR replaced_at > ?)", true, since).
		Order("active DESC, replaced_at DESC, created_at DESC, id").Find(&out).Error
}

// SealSigningKey stores the private half of the active key id sealed
// again (see siteapi's signer).
func (s *Store) SealSigningKey(ctx context.Context, id string, sealed []byte) error {
	return s.with(ctx).Model(&models.SigningKey{}).Where("id = ? AND active = ?", id, true).Update("private_key", sealed).Error
}

// SetDomains makes domains (normalized, see models.NormalizeDomainList) the
// license's active production domains in one transaction: the others are
// deactivated, the missing ones activated (a staging copy of one becomes a
// production domain); staging copies of other names stay. More domains than
// the license has slots is a Conflict and changes nothing.
func (s *Store) SetDomains(ctx context.Context, licenseID string, domains []string, now time.Time) error {
	var due []string
	err := s.transaction(ctx, func(tx *Store) error {
		var err error
		due, err = tx.setDomains(licenseID, domains, now)
		return err
	})
	if err != nil {
		return err
	}
	s.licenseChanged(ctx, licenseID)
	s.webhooksDue(due)
	return nil
}

// setDomains is SetDomains inside the caller's transaction.
func (s *Store) setDomains(licenseID string, domains []string, now time.Time) ([]string, error) {
	at := models.Instant(now)
	var l models.License
	if err := s.db.Clauses(clause.Locking{Strength: "UPDATE"}).First(&l, "id = ?", licenseID).Error; err != nil {
		return nil, err
	}
	if len(domains) > l.MaxDomains {
		return nil, models.Conflict(models.CodeTooManyDomains, "%d domains given but the license has %d slots", len(domains), l.MaxDomains)
	}
	rows, err := activeActivations(s.db, licenseID)
	if err != nil {
		return nil, err
	}
	var removed, added []models.Activation
	for _, r := range rows {
		if !r.Staging && !slices.Contains(domains, r.Domain) {
			removed = append(removed, models.Activation{LicenseID: licenseID, Domain: r.Domain})
		}
	}
	for _, d := range domains {
		if !slices.ContainsFunc(rows, func(r models.Activation) bool { return r.Domain == d && !r.Staging }) {
			added = append(added, models.Activation{LicenseID: licenseID, Domain: d})
		}
	}
	if len(removed) > 0 {
		names := make([]string, len(removed))
		for i, r := range removed {
			names[i] = r.Domain
		}
		if err := s.db.Model(&models.Activation{}).Where("license_id = ? AND domain IN ? AND status = ?", licenseID, names, models.ActivationActive).
			Updates(map[string]any{"status": models.ActivationDeactivated, "deactivated_at": &at}).Error; err != nil {
			return nil, err
		}
	}
	for _, a := range added {
		var existing models.Activation
		err := s.db.First(&existing, "license_id = ? AND domain = ?", licenseID, a.Domain).Error
		switch {
		case err == nil:
			err = s.db.Model(&existing).Updates(map[string]any{"status": models.ActivationActive, "staging": false, "last_seen": at, "deactivated_at": nil}).Error
		case isNotFound(err):
			err = s.db.Create(&models.Activation{LicenseID: licenseID, Domain: a.Domain, Status: models.ActivationActive, FirstSeen: at, LastSeen: at}).Error
		}
		if err != nil {
			return nil, err
		}
	}
	gone, err := domainEvents(s.db, models.EventLicenseDomainDeactivated, at, "", removed...)
	if err != nil {
		return nil, err
	}
	come, err := domainEvents(s.db, models.EventLicenseDomainActivated, at, "", added...)
	return append(gone, come...), err
}

// KeySharingSuspects lists the licenses whose keys were used, in
// [from, to), beyond rule (models.KeySharingRule): counted over
// validations, feeds and downloads, revoked licenses left out.
func (s *Store) KeySharingSuspects(ctx context.Context, from, to time.Time, rule models.KeySharingRule) ([]models.KeyUsage, error) {
	refused := []string{models.CodeDomainNotActivated, models.CodeTooManyDomains}
	unactivated := "COUNT(DISTINCT CASE WHEN u.result IN ? AND u.domain <> '' THEN u.domain END)"
	var out []models.KeyUsage
	err := s.with(ctx).Table("usage_events AS u").Joins("JOIN licenses AS l ON l.id = u.license_id").
		Select("u.license_id AS license_id, l.max_domains AS max_domains, COUNT(DISTINCT u.ip) AS addresses, "+unactivated+" AS unactivated", refused).
		Where("u.at >= ? AND u.at < ? AND u.kind IN ? AND l.status <> ?", models.Instant(from), models.Instant(to), models.KeySharingUsage, models.StatusRevoked).
		Group("u.license_id, l.max_domains").
		Having("COUNT(DISTINCT u.ip) > ? * l.max_domains + ? OR "+unactivated+" > l.max_domains + ?",
			rule.AddressesPerDomain, rule.AddressAllowance, refused, rule.UnactivatedAllowance).
		Order("u.license_id").Scan(&out).Error
	if err != nil {
		return nil, err
	}
	for i := range out {
		err := s.with(ctx).Model(&models.UsageEvent{}).Distinct("domain").
			Where("license_id = ? AND at >= ? AND at < ? AND kind IN ? AND result IN ? AND domain <> ''",
				out[i].LicenseID, models.Instant(from), models.Instant(to), models.KeySharingUsage, refused).
			Order("domain").Limit(10).Pluck("domain", &out[i].UnactivatedDomains).Error
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
