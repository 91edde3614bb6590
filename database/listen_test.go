package database_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/database"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/siteapi"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
)

// Two processes share a PostgreSQL database: one caches what sites are told
// about a license, the other activates a domain. The NOTIFY it sends evicts
// the first one's cache, so the new domain shows at once.
func TestChangeNoticesReachOtherProcessesCaches(t *testing.T) {
	url := testsupport.PostgresURL(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	open := func() *store.Store {
		db, err := database.Open(url, database.Options{MaxOpenConns: 4})
		require.NoError(t, err)
		t.Cleanup(func() {
			if sqlDB, err := db.DB(); err == nil {
				_ = sqlDB.Close()
			}
		})
		return store.New(db)
	}
	api, worker := open(), open()
	require.NoError(t, api.Migrate(ctx))

	tier, err := api.GetTier(ctx, "pos")
	require.NoError(t, err)
	_, l, _, err := api.RecordPurchase(ctx, models.Purchase{OrderID: "notify-1", Email: "n@example.com", Tier: tier,
		MaxDomains: 3, Months: 12, PaidAt: time.Now()})
	require.NoError(t, err)
	exp := models.Instant(time.Now().AddDate(1, 0, 0))
	l, err = worker.MintLicense(ctx, models.Mint{LicenseID: l.ID, TierKey: "pos", MaxDomains: 3, StartsAt: time.Now(), ExpiresAt: &exp})
	require.NoError(t, err)

	connected := make(chan struct{}, 1)
	go database.Listen(ctx, url, store.ChangeChannel, api.DeliverChange, func() {
		api.DeliverChange(store.AllLicenses)
		connected <- struct{}{}
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	<-connected

	cache := siteapi.NewCache(api, time.Hour)
	before, err := cache.Lookup(ctx, l.Key())
	require.NoError(t, err)
	require.Empty(t, before.ActiveDomains)

	_, _, err = worker.Activate(ctx, l.ID, "elsewhere.example.com", time.Now())
	require.NoError(t, err)
	deadline := time.Now().Add(2 * time.Second)
	for {
		got, err := cache.Lookup(ctx, l.Key())
		require.NoError(t, err)
		if len(got.ActiveDomains) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the other process's change never reached the cache")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
