package siteapi

import (
	"context"
	"sync"
	"time"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
)

// Cache keeps what sites are told about a license in memory, so a
// validation does not read three tables. It is invalidated by the store's
// change notices (in-process writes at once; other processes' writes via
// PostgreSQL NOTIFY), and every entry also expires after ttl, which bounds
// staleness should a notice ever be lost.
type Cache struct {
	store cacheStore
	ttl   time.Duration

	mu        sync.Mutex
	byDLID    map[string]cachedSite
	dlidOf    map[string]string // license id -> DLID
	evictions uint64            // bumped by every invalidation
}

// cacheStore is what the cache reads and listens to.
type cacheStore interface {
	LookupSiteLicense(ctx context.Context, dlid string) (models.SiteLicense, error)
	OnLicenseChange(fn func(licenseID string))
}

const maxCachedSites = 200000

type cachedSite struct {
	site    models.SiteLicense
	expires time.Time
}

// NewCache returns a cache over store, subscribed to its change notices.
func NewCache(store cacheStore, ttl time.Duration) *Cache {
	c := &Cache{store: store, ttl: ttl, byDLID: map[string]cachedSite{}, dlidOf: map[string]string{}}
	store.OnLicenseChange(c.Invalidate)
	return c
}

// Lookup is LookupSiteLicense, served from memory when possible. Callers
// share the cached slices and map: they may replace them (as activation
// does), never change them in place.
func (c *Cache) Lookup(ctx context.Context, dlid string) (models.SiteLicense, error) {
	c.mu.Lock()
	entry, ok := c.byDLID[dlid]
	generation := c.evictions
	c.mu.Unlock()
	if ok && time.Now().Before(entry.expires) {
		return entry.site, nil
	}
	site, err := c.store.LookupSiteLicense(ctx, dlid)
	if err != nil {
		return site, err
	}
	c.mu.Lock()
	// A change noticed while we were reading may not be in what we read:
	// then do not cache it.
	if c.evictions == generation {
		if len(c.byDLID) >= maxCachedSites { // a crude bound; hot keys come back at once
			clear(c.byDLID)
			clear(c.dlidOf)
		}
		c.byDLID[dlid] = cachedSite{site: site, expires: time.Now().Add(c.ttl)}
		c.dlidOf[site.License.ID] = dlid
	}
	c.mu.Unlock()
	return site, nil
}

// Invalidate forgets a license (store.AllLicenses: every license).
func (c *Cache) Invalidate(licenseID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evictions++
	if licenseID == store.AllLicenses {
		clear(c.byDLID)
		clear(c.dlidOf)
		return
	}
	if dlid, ok := c.dlidOf[licenseID]; ok {
		delete(c.byDLID, dlid)
		delete(c.dlidOf, licenseID)
	}
}
