package models

import "time"

// SigningKey is an Ed25519 key pair that signs validation answers and
// offline license tokens. Exactly one is active; retired keys stay so that
// answers and tokens they signed still verify.
type SigningKey struct {
	ID         string    `gorm:"primaryKey;size:32" json:"kid"`
	PublicKey  []byte    `gorm:"not null" json:"-"`
	PrivateKey []byte    `gorm:"not null" json:"-"`
	Active     bool      `gorm:"not null;index" json:"active"`
	CreatedAt  time.Time `json:"created_at"`
}
