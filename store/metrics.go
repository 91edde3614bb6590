package store

import (
	"context"
	"sort"
	"time"

	"github.com/licenseflow/licenseflow/models"
)

// SalesMetrics gives the months from `from` to `to` (inclusive, oldest
// first) and revenue by tier over that span. Months are bucketed here,
// not in SQL, so PostgreSQL and SQLite agree.
func (s *Store) SalesMetrics(ctx context.Context, from, to, now time.Time) ([]models.MonthMetrics, []models.TierRevenue, error) {
	start := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0)
	var months []models.MonthMetrics
	index := map[string]int{}
	for m := start; m.Before(end); m = m.AddDate(0, 1, 0) {
		index[m.Format("2006-01")] = len(months)
		months = append(months, models.MonthMetrics{Month: m.Format("2006-01"), Revenue: map[string]int64{}})
	}
	bucket := func(t time.Time) (*models.MonthMetrics, bool) {
		i, ok := index[t.UTC().Format("2006-01")]
		if !ok {
			return nil, false
		}
		return &months[i], true
	}

	var orders []models.Order
	// A trial is not a sale; the renewal that converts it is counted.
	if err := s.with(ctx).Where("status IN ? AND kind <> ? AND paid_at >= ? AND paid_at < ?", []models.OrderStatus{models.OrderPaid, models.OrderRefunded}, models.OrderTrial, start, end).
		Find(&orders).Error; err != nil {
		return nil, nil, err
	}
	byTier := map[[2]string]*models.TierRevenue{}
	for _, o := range orders {
		m, ok := bucket(*o.PaidAt)
		if !ok {
			continue
		}
		switch o.Kind {
		case models.OrderRenewal:
			m.Renewed++
		case models.OrderAddon:
			m.AddOns++
		default:
			m.New++
		}
		if o.Status != models.OrderPaid {
			continue // refunded: counted as a sale, not as revenue
		}
		m.Revenue[o.Currency] += o.AmountCents
		if o.Kind == models.OrderAddon {
			continue // the month's revenue, not its tier's: an add-on sells a product
		}
		k := [2]string{o.TierKey, o.Currency}
		if byTier[k] == nil {
			byTier[k] = &models.TierRevenue{Tier: o.TierKey, Currency: o.Currency}
		}
		byTier[k].Orders++
		byTier[k].Amount += o.AmountCents
	}

	var lapsed []models.License
	if err := s.with(ctx).Where("(status = ? AND grace_until >= ? AND grace_until < ? AND grace_until <= ?) OR (status = ? AND updated_at >= ? AND updated_at < ?)",
		models.StatusExpired, start, end, now, models.StatusRevoked, start, end).Where("type <> ?", models.TypeMaster).Find(&lapsed).Error; err != nil {
		return nil, nil, err
	}
	for _, l := range lapsed {
		at := l.UpdatedAt
		if l.Status == models.StatusExpired {
			at = *l.GraceUntil
		}
		if m, ok := bucket(at); ok {
			m.Churned++
		}
	}

	tiers := make([]models.TierRevenue, 0, len(byTier))
	for _, t := range byTier {
		tiers = append(tiers, *t)
	}
	sort.Slice(tiers, func(i, j int) bool {
		if tiers[i].Amount != tiers[j].Amount {
			return tiers[i].Amount > tiers[j].Amount
		}
		return tiers[i].Tier < tiers[j].Tier
	})
	return months, tiers, nil
}

// LicensesByStatus counts licenses per status in one grouped query (the
// licenses-by-status gauge of /metrics); the master license is no sale and
// is not counted.
func (s *Store) LicensesByStatus(ctx context.Context) (map[models.LicenseStatus]int, error) {
	var rows []struct {
		Status models.LicenseStatus
		N      int
	}
	if err := s.with(ctx).Model(&models.License{}).Select("status, count(*) AS n").Where("type <> ?", models.TypeMaster).
		Group("status").Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[models.LicenseStatus]int, len(rows))
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}
