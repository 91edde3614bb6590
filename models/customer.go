package models

import (
	"net/mail"
	"strings"
	"time"
)

// Customer is whoever buys licenses; the email is unique, case-insensitively.
type Customer struct {
	ID        string    `gorm:"primaryKey;size:64" json:"id"`
	Email     string    `gorm:"size:320;not null;uniqueIndex" json:"email"`
	Name      string    `gorm:"size:200;not null" json:"name"`
	Company   string    `gorm:"size:200;not null" json:"company"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// NormalizeEmail validates an address and returns its canonical, lower-case
// form (without display name).
func NormalizeEmail(raw, field string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", Invalid("missing_email", field, "%s is required", field)
	}
	addr, err := mail.ParseAddress(raw)
	if err != nil || addr.Address != raw || !strings.Contains(addr.Address[strings.LastIndexByte(addr.Address, '@')+1:], ".") {
		return "", Invalid("invalid_email", field, "%s %q is not a valid email address such as customer@example.com", field, raw)
	}
	return strings.ToLower(addr.Address), nil
}
