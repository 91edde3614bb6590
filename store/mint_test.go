package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
)

func TestMintWithEntitlementsIsIdempotentOnLicenseID(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		_, l := purchase(t, store, "crm-mint-1", "mint@example.com", "pos")
		m := models.Mint{LicenseID: l.ID, TierKey: "pos", MaxDomains: 3, StartsAt: time.Now()}
		first, tier, ents, err := store.MintWithEntitlements(ctx, m)
		require.NoError(t, err)
		assert.True(t, models.ValidDLID(first.Key()))
		assert.Equal(t, models.StatusActive, first.Status)
		assert.Equal(t, "pos", tier.Key)
		assert.Len(t, ents, len(tier.Products))

		again, _, entsAgain, err := store.MintWithEntitlements(ctx, m)
		require.NoError(t, err)
		assert.Equal(t, first.Key(), again.Key(), "a retry returns the same key")
		assert.Equal(t, repos(ents), repos(entsAgain), "and the same entitlements")
	})
}

func TestMintWithEntitlementsOfAnUnknownTierMintsNothing(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		_, l := purchase(t, store, "crm-mint-2", "mint@example.com", "pos")
		_, _, _, err := store.MintWithEntitlements(ctx, models.Mint{LicenseID: l.ID, TierKey: "gold", MaxDomains: 3, StartsAt: time.Now()})
		p, ok := models.AsProblem(err)
		require.True(t, ok, "%v", err)
		assert.Equal(t, "tier_not_found", p.Code)

		stored, err := store.GetLicense(ctx, l.ID)
		require.NoError(t, err)
		assert.Nil(t, stored.DLID, "the key is minted with its entitlements or not at all")
		ents, err := store.GetEntitlements(ctx, l.ID)
		require.NoError(t, err)
		assert.Empty(t, ents)
	})
}
