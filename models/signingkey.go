package models

import (
	"crypto/ed25519"
	"time"
)

// SigningKey is an Ed25519 key pair that signs validation answers and
// offline license tokens. Exactly one is active. A key replaced by a newer
// one signs nothing more: its private half is deleted and its public half
// stays published for an overlap, so what it signed still verifies until
// it runs out. A retired key is published no more and verifies nothing.
type SigningKey struct {
	ID        string `gorm:"primaryKey;size:32" json:"kid"`
	PublicKey []byte `gorm:"not null" json:"-"`
	// SealedPrivateKey is the private half sealed under
	// LICENSEFLOW_SECRET_KEYS, so a copy of the database cannot sign;
	// PrivateKeyDeleted once the key signs no more.
	SealedPrivateKey []byte `gorm:"column:private_key;not null" json:"-"`
	// PrivateKey is the opened private half, in memory only.
	PrivateKey ed25519.PrivateKey `gorm:"-" json:"-"`
	Active     bool               `gorm:"not null;index" json:"active"`
	CreatedAt  time.Time          `json:"created_at"`
	// ReplacedAt is when a newer key took over signing.
	ReplacedAt *time.Time `json:"replaced_at,omitempty"`
	// RetiredAt is when an operator retired the key.
	RetiredAt *time.Time `json:"retired_at,omitempty"`
}

// PrivateKeyDeleted is stored in place of the private half of a key that
// signs no more. It is not empty: the SQLite driver fails to read a row
// holding an empty blob.
var PrivateKeyDeleted = []byte("deleted")
