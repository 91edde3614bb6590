package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
)

// A beta release is news only to licenses on the beta channel; paging
// still returns full pages until the last, whatever the mix of channels.
func TestNotifiableLicensesFollowTheReleasesChannel(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		beta := map[string]bool{}
		for i := range 9 {
			tier := "pos" // stable only
			if i%3 == 0 {
				tier = "suite" // stable and beta
			}
			_, l := purchase(t, st, fmt.Sprintf("chan-%d", i), fmt.Sprintf("c%d@example.com", i), tier)
			tr, err := st.GetTier(ctx, tier)
			require.NoError(t, err)
			_, err = st.MintLicense(ctx, models.Mint{LicenseID: l.ID, TierKey: tier, MaxDomains: 3, Channels: tr.Channels, StartsAt: time.Now()})
			require.NoError(t, err)
			_, _, err = st.SetEntitlements(ctx, l.ID, tier)
			require.NoError(t, err)
			if tier == "suite" {
				beta[l.ID] = true
			}
		}
		page := func(channel, after string, limit int) []string {
			ls, err := st.NotifiableLicenses(ctx, "MokoSuitePOS", channel, after, limit)
			require.NoError(t, err)
			ids := make([]string, len(ls))
			for i, l := range ls {
				ids[i] = l.ID
			}
			return ids
		}
		var got []string
		for after := ""; ; {
			ids := page("beta", after, 2)
			got = append(got, ids...)
			if len(ids) < 2 {
				break
			}
			after = ids[len(ids)-1]
		}
		assert.Len(t, got, 3)
		for _, id := range got {
			assert.True(t, beta[id], "%s is on the beta channel", id)
		}
		assert.Len(t, page("stable", "", 100), 9, "every license is on stable")
		assert.Len(t, page("", "", 100), 9, "no channel (runs started before channels): everyone, as before")
		assert.Empty(t, page("nightly", "", 100))
	})
}

// Answers stored by earlier versions with a new token's plaintext are
// blanked at the next start: a retry is told the secret was shown once.
func TestMigrateForgetsStoredTokenSecrets(t *testing.T) {
	st := testsupport.SQLite(t)
	now := time.Now()
	for key, body := range map[string]string{
		"1 POST /api/v1/tokens k1":             `{"token":"lft_abcdefghijklmnop","detail":{"id":3}}`,
		"1 POST /api/v1/licensing/licenses k2": `{"id":"lic_1"}`,
	} {
		_, claimed, err := st.ClaimIdempotencyKey(ctx, key, "hash", now)
		require.NoError(t, err)
		require.True(t, claimed)
		require.NoError(t, st.CompleteIdempotencyKey(ctx, key, 201, body))
	}
	require.NoError(t, st.Migrate(ctx))
	token, err := st.GetIdempotencyRecord(ctx, "1 POST /api/v1/tokens k1")
	require.NoError(t, err)
	assert.Equal(t, 409, token.StatusCode)
	assert.NotContains(t, token.ResponseBody, "lft_")
	assert.Contains(t, token.ResponseBody, models.SecretShownOnceCode)
	other, err := st.GetIdempotencyRecord(ctx, "1 POST /api/v1/licensing/licenses k2")
	require.NoError(t, err)
	assert.Equal(t, `{"id":"lic_1"}`, other.ResponseBody, "other answers stay")
}
