package models

// MonthMetrics are one calendar month (UTC) of license sales:
//   - New: first-purchase orders paid in the month;
//   - Renewed: renewal orders paid in the month;
//   - Churned: licenses whose grace period ended in the month without a
//     renewal (they are still expired), plus licenses revoked in the month;
//   - Revenue: paid orders' amounts by currency.
type MonthMetrics struct {
	Month   string `json:"month"` // 2026-03
	New     int    `json:"new"`
	Renewed int    `json:"renewed"`
	// AddOns counts add-on orders (products bought on top of a tier).
	AddOns  int              `json:"addons"`
	Churned int              `json:"churned"`
	Revenue map[string]int64 `json:"revenue"`
}

// TierRevenue is what one tier brought in, per currency.
type TierRevenue struct {
	Tier     string `json:"tier"`
	Orders   int    `json:"orders"`
	Amount   int64  `json:"amount_cents"`
	Currency string `json:"currency"`
}
