package store_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
)

func TestMasterLicenseIsCreatedOnceUnderConcurrentStarts(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		const starts = 8
		keys := make([]string, starts)
		errs := make([]error, starts)
		var wg sync.WaitGroup
		for i := range starts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				keys[i], errs[i] = st.EnsureMasterLicense(ctx, time.Now())
			}()
		}
		wg.Wait()
		var shown []string
		for i := range starts {
			require.NoError(t, errs[i])
			if keys[i] != "" {
				shown = append(shown, keys[i])
			}
		}
		require.Len(t, shown, 1, "one start creates the master license and shows its key; the others show nothing")
		assert.True(t, models.ValidDLID(shown[0]))

		again, err := st.EnsureMasterLicense(ctx, time.Now())
		require.NoError(t, err)
		assert.Empty(t, again, "a later start shows no key")

		var n int64
		require.NoError(t, st.DB().Model(&models.License{}).Where("type = ?", models.TypeMaster).Count(&n).Error)
		assert.EqualValues(t, 1, n)

		sl, err := st.LookupSiteLicense(ctx, shown[0])
		require.NoError(t, err)
		assert.Equal(t, models.MasterLicenseID, sl.License.ID)
		assert.Nil(t, sl.License.ExpiresAt, "the master license never expires")
	})
}

func TestMasterLicenseIsEntitledToProductsCreatedAfterIt(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		key, err := st.EnsureMasterLicense(ctx, time.Now())
		require.NoError(t, err)
		_, err = st.CreateProduct(ctx, models.Product{Code: "later", Repo: "MokoSuiteLater", Name: "Later", Platform: models.PlatformJoomla, RequiresKey: true})
		require.NoError(t, err)

		products, err := st.ListProducts(ctx)
		require.NoError(t, err)
		sl, err := st.LookupSiteLicense(ctx, key)
		require.NoError(t, err)
		assert.Len(t, sl.Entitlements, len(products), "every product of the catalog")
		assert.Contains(t, sl.Entitled, "MokoSuiteLater")
		assert.Contains(t, sl.Entitled, "later")
		assert.True(t, models.GrantsChannel(sl.License.Channels, "nightly"), "on every channel")

		ents, err := st.GetEntitlements(ctx, models.MasterLicenseID)
		require.NoError(t, err)
		assert.Len(t, ents, len(products))
		has, err := st.HasEntitlement(ctx, models.MasterLicenseID, "MokoSuiteLater")
		require.NoError(t, err)
		assert.True(t, has)
	})
}

func TestNormalLicenseLookupReadsNoCatalog(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		_, err := st.EnsureMasterLicense(ctx, time.Now())
		require.NoError(t, err)
		_, l := purchase(t, st, "crm-master-normal", "normal@example.com", "pos")
		minted, tier, _, err := st.MintWithEntitlements(ctx, models.Mint{LicenseID: l.ID, TierKey: "pos", MaxDomains: 3, StartsAt: time.Now()})
		require.NoError(t, err)
		sl, err := st.LookupSiteLicense(ctx, minted.Key())
		require.NoError(t, err)
		assert.Len(t, sl.Entitlements, len(tier.Products), "a normal license keeps its own entitlements only")
	})
}

func TestRotateMasterKeyRetiresTheOldKeyAtOnce(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		old, err := st.EnsureMasterLicense(ctx, time.Now())
		require.NoError(t, err)
		var notices []string
		st.OnLicenseChange(func(id string) { notices = append(notices, id) })

		fresh, l, err := st.RotateMasterKey(ctx, models.MasterLicenseID, "token:ops", "laptop lost", time.Now())
		require.NoError(t, err)
		assert.True(t, models.ValidDLID(fresh))
		assert.NotEqual(t, old, fresh)
		assert.Equal(t, models.MasterLicenseID, l.ID)
		assert.Equal(t, []string{models.MasterLicenseID}, notices, "every site cache hears of the rotation")

		_, err = st.LookupSiteLicense(ctx, old)
		assert.ErrorIs(t, err, models.ErrNotFound, "the old key matches nothing")
		_, err = st.LookupSiteLicense(ctx, fresh)
		require.NoError(t, err)

		lines, err := st.LicenseLedger(ctx, models.LedgerFilter{LicenseID: models.MasterLicenseID})
		require.NoError(t, err)
		require.Len(t, lines, 2)
		rot := lines[0]
		assert.Equal(t, models.LedgerRotateKey, rot.Action)
		assert.Equal(t, "token:ops", rot.Actor)
		assert.Equal(t, models.MaskDLID(old), rot.Old)
		assert.Equal(t, models.MaskDLID(fresh), rot.New)
		assert.Equal(t, "laptop lost", rot.Note)
		assert.Equal(t, models.LedgerIssue, lines[1].Action)

		again, _, err := st.RotateMasterKey(ctx, models.MasterLicenseID, "", "", time.Now())
		require.NoError(t, err)
		lines, err = st.LicenseLedger(ctx, models.LedgerFilter{LicenseID: models.MasterLicenseID})
		require.NoError(t, err)
		assert.Equal(t, models.MaskDLID(fresh), lines[0].Old, "each rotation names the key it retired")
		assert.Equal(t, models.MaskDLID(again), lines[0].New)
	})
}

func TestOnlyTheMasterKeyRotates(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		_, err := st.EnsureMasterLicense(ctx, time.Now())
		require.NoError(t, err)
		_, l := purchase(t, st, "crm-master-rotate", "normal@example.com", "pos")
		minted, _, _, err := st.MintWithEntitlements(ctx, models.Mint{LicenseID: l.ID, TierKey: "pos", MaxDomains: 3, StartsAt: time.Now()})
		require.NoError(t, err)

		_, _, err = st.RotateMasterKey(ctx, l.ID, "token:ops", "", time.Now())
		p, ok := models.AsProblem(err)
		require.True(t, ok, "%v", err)
		assert.Equal(t, "not_master_license", p.Code)
		after, err := st.GetLicense(ctx, l.ID)
		require.NoError(t, err)
		assert.Equal(t, minted.Key(), after.Key(), "a normal license keeps its DLID for life")
		assert.Nil(t, after.KeyDigest)
		assert.Equal(t, models.TypeCommercial, after.Type, "and does not become the master license")
	})
}

func TestMasterKeyIsNowhereInClearInTheDatabase(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		first, err := st.EnsureMasterLicense(ctx, time.Now())
		require.NoError(t, err)
		second, _, err := st.RotateMasterKey(ctx, models.MasterLicenseID, "token:ops", "", time.Now())
		require.NoError(t, err)
		dump := testsupport.DatabaseText(t, st)
		for _, key := range []string{first, second} {
			assert.False(t, strings.Contains(dump, key), "the key %s is stored in clear", models.MaskDLID(key))
		}
		assert.Contains(t, dump, models.MaskDLID(second), "the dump holds the ledger (the search reads what it should)")
	})
}
