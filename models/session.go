package models

import "time"

// Audience separates customer sign-ins from operator sign-ins.
type Audience string

const (
	AudienceCustomer Audience = "customer"
	AudienceAdmin    Audience = "admin"
)

// MagicLink is a single-use sign-in link sent by email; only its hash is stored.
type MagicLink struct {
	TokenHash string     `gorm:"primaryKey;size:64"`
	Email     string     `gorm:"size:320;not null;index"`
	Audience  Audience   `gorm:"size:16;not null"`
	ExpiresAt time.Time  `gorm:"not null"`
	UsedAt    *time.Time `gorm:""`
	CreatedAt time.Time  `gorm:"index"`
}

// Session is a signed-in browser; only a hash of the cookie value is stored.
// It lives no longer than the credential that opened it: the magic link's
// address (Email) or the API token (APITokenID) is checked again on every
// request. An operator's Role is recorded at sign-in and brought up to
// date on every request (from the address lists or the token's scopes).
type Session struct {
	IDHash     string    `gorm:"primaryKey;size:64"`
	Audience   Audience  `gorm:"size:16;not null;index:idx_sessions_credential"`
	Email      string    `gorm:"size:320;not null;index:idx_sessions_credential"`
	APITokenID *uint     `gorm:"index"`
	CustomerID string    `gorm:"size:64;not null;index"`
	Role       Role      `gorm:"size:16;not null;default:''"`
	CSRFToken  string    `gorm:"size:64;not null"`
	ExpiresAt  time.Time `gorm:"not null;index"`
	CreatedAt  time.Time
}

// Credential is what a session is opened with: an operator's or
// customer's address (by magic link), or an admin API token.
type Credential struct {
	Email      string
	APITokenID uint // 0: signed in by magic link
	Role       Role // an operator's; empty for customers
}

// Lifetimes of sign-in artefacts.
const (
	MagicLinkTTL = 15 * time.Minute
	SessionTTL   = 12 * time.Hour
)
