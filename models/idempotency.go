package models

import "time"

// IdempotencyRecord remembers the answer to a creating request sent with an
// Idempotency-Key, so a retry gets the same answer instead of a duplicate.
type IdempotencyRecord struct {
	Key          string    `gorm:"primaryKey;size:300"`
	RequestHash  string    `gorm:"size:64;not null"`
	Done         bool      `gorm:"not null"`
	StatusCode   int       `gorm:"not null"`
	ResponseBody string    `gorm:"type:text;not null"`
	CreatedAt    time.Time `gorm:"index"`
}

// IdempotencyTTL is how long an Idempotency-Key is remembered.
const IdempotencyTTL = 24 * time.Hour
