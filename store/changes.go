package store

import (
	"context"
	"sync"
)

// AllLicenses is the change notice meaning "any license may have changed".
const AllLicenses = "*"

// ChangeChannel is the PostgreSQL NOTIFY channel that tells every process
// (API instances caching licenses) which license changed.
const ChangeChannel = "licenseflow_license_changed"

// changeFeed fans license-change notices out to in-process subscribers.
type changeFeed struct {
	mu   sync.RWMutex
	subs []func(licenseID string)
}

// OnLicenseChange subscribes fn to every change of what a site is told
// about a license (status, expiry, tier, entitlements, domains). It is
// called after the change is committed.
func (s *Store) OnLicenseChange(fn func(licenseID string)) {
	s.changes.mu.Lock()
	defer s.changes.mu.Unlock()
	s.changes.subs = append(s.changes.subs, fn)
}

// DeliverChange hands a notice received from another process to this
// process's subscribers.
func (s *Store) DeliverChange(licenseID string) {
	s.changes.mu.RLock()
	defer s.changes.mu.RUnlock()
	for _, fn := range s.changes.subs {
		fn(licenseID)
	}
}

// licenseChanged announces a committed change: to this process at once and,
// on PostgreSQL, to every other process through NOTIFY. A lost notice
// (a crash right after the commit) is bounded by the caches' time to live.
func (s *Store) licenseChanged(ctx context.Context, licenseID string) {
	if s.db.Dialector.Name() == "postgres" {
		_ = s.with(ctx).Exec("SELECT pg_notify(?, ?)", ChangeChannel, licenseID).Error
	}
	s.DeliverChange(licenseID)
}
