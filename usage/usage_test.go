package usage_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/usage"
)

func TestASiteAskingManyTimesASecondIsOneRowCountingEveryHit(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		second := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
		r := usage.NewRecorder(st, nil, time.Hour)
		validation := models.UsageEvent{LicenseID: "lic_busy", Kind: models.UsageValidate, Domain: "shop.example.com", IP: "192.0.2.1", Result: "VALID"}
		for i := range 5 {
			e := validation
			e.At = second.Add(time.Duration(i) * 100 * time.Millisecond)
			r.Record(e)
		}
		nextSecond := validation
		nextSecond.At = second.Add(time.Second)
		r.Record(nextSecond)
		heartbeat := validation
		heartbeat.Kind, heartbeat.At = models.UsageHeartbeat, second
		r.Record(heartbeat)
		r.Close()

		var rows int64
		require.NoError(t, st.DB().Model(&models.UsageEvent{}).Where("license_id = ?", "lic_busy").Count(&rows).Error)
		assert.EqualValues(t, 3, rows)
		u, err := st.UsageSince(ctx, "lic_busy", second.Add(-time.Hour))
		require.NoError(t, err)
		assert.Equal(t, map[models.UsageKind]int{models.UsageValidate: 6, models.UsageHeartbeat: 1}, u.Totals)
		require.Len(t, u.Days, 1)
		assert.Equal(t, 6, u.Days[0].Counts[models.UsageValidate])
	})
}
