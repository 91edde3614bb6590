package models

import "time"

// TrialClaim records that a customer has had a tier's trial: one trial per
// customer and tier, so a trial cannot be renewed by starting another. Its
// key is the pair, which makes two concurrent claims collide in the
// database.
type TrialClaim struct {
	CustomerID string    `gorm:"primaryKey;size:64"`
	TierKey    string    `gorm:"primaryKey;size:64"`
	OrderID    string    `gorm:"size:128;not null"`
	CreatedAt  time.Time `gorm:"not null"`
}

// TrialEnds is when a trial of the tier started at now ends.
func (t Tier) TrialEnds(now time.Time) time.Time {
	return Instant(now).Add(time.Duration(t.TrialDays) * 24 * time.Hour)
}

// TrialEndingNotice is how long before a trial's end the customer is told
// it is ending.
const TrialEndingNotice = 3 * 24 * time.Hour
