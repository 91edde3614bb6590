package siteapi

import (
	"context"
	"errors"
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
	dlidOf    map[string]string    // license id -> DLID
	evictions uint64               // bumped by every invalidation
	reading   map[string]*siteRead // DLID -> the database read under way
}

// siteRead is one database read of a key that the requests asking for it
// meanwhile share, so an expired hot key costs one read, not one per
// request in flight.
type siteRead struct {
	done       chan struct{}
	generation uint64 // of the evictions when the read started
	site       models.SiteLicense
	err        error
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
	c := &Cache{store: store, ttl: ttl, byDLID: map[string]cachedSite{}, dlidOf: map[string]string{}, reading: map[string]*siteRead{}}
	store.OnLicenseChange(c.Invalidate)
	return c
}

// Lookup is LookupSiteLicense, served from memory when possible. Callers
// share the cached slices and map: they may replace them (as activation
// does), never change them in place.
func (c *Cache) Lookup(ctx context.Context, dlid string) (models.SiteLicense, error) {
	c.mu.Lock()
	if entry, ok := c.byDLID[dlid]; ok && time.Now().Before(entry.expires) {
		c.mu.Unlock()
		return entry.site, nil
	}
	// Join a read started since the last change, or start one.
	if r, ok := c.reading[dlid]; ok && r.generation == c.evictions {
		c.mu.Unlock()
		select {
		case <-r.done:
			return r.site, r.err
		case <-ctx.Done():
			return models.SiteLicense{}, ctx.Err()
		}
	}
	r := &siteRead{done: make(chan struct{}), generation: c.evictions}
	c.reading[dlid] = r
	c.mu.Unlock()
	c.read(ctx, dlid, r)
	return r.site, r.err
}

// errReadPanicked is what requests sharing a read see should it panic.
var errReadPanicked = errors.New("reading the license failed")

// read runs r, caches what it found unless a change was noticed meanwhile
// (it may not be in what was read), and lets the waiting requests go.
func (c *Cache) read(ctx context.Context, dlid string, r *siteRead) {
	r.err = errReadPanicked
	defer func() {
		c.mu.Lock()
		if c.reading[dlid] == r {
			delete(c.reading, dlid)
		}
		if r.err == nil && c.evictions == r.generation {
			if len(c.byDLID) >= maxCachedSites { // a crude bound; hot keys come back at once
				clear(c.byDLID)
				clear(c.dlidOf)
			}
			c.byDLID[dlid] = cachedSite{site: r.site, expires: time.Now().Add(c.ttl)}
			c.dlidOf[r.site.License.ID] = dlid
		}
		c.mu.Unlock()
		close(r.done)
	}()
	// Others may wait for this read: it must not end with this request.
	r.site, r.err = c.store.LookupSiteLicense(context.WithoutCancel(ctx), dlid)
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
