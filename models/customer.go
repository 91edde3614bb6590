package models

import (
	"net/mail"
	"strings"
	"time"
)

// Customer is whoever buys licenses; the email is unique, case-insensitively.
type Customer struct {
	ID      string `gorm:"primaryKey;size:64" json:"id"`
	Email   string `gorm:"size:320;not null;uniqueIndex" json:"email"`
	Name    string `gorm:"size:200;not null" json:"name"`
	Company string `gorm:"size:200;not null" json:"company"`
	// Country (ISO 3166 alpha-2) and VATID decide the tax on invoices: a
	// VAT ID makes the customer a business.
	Country   string    `gorm:"size:2;not null;default:''" json:"country,omitempty"`
	VATID     string    `gorm:"size:40;not null;default:''" json:"vat_id,omitempty"`
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
	// The length is checked first: the address becomes a search attribute
	// and an email header, and parsing a megabyte of it is pointless.
	if len(raw) > MaxEmailLength {
		return "", Invalid("invalid_email", field, "%s must be at most %d characters (RFC 5321); it has %d", field, MaxEmailLength, len(raw))
	}
	if err := CheckLine(field, raw, MaxEmailLength); err != nil {
		return "", Invalid("invalid_email", field, "%s %s is not a valid email address: it contains control characters", field, quoted(raw))
	}
	addr, err := mail.ParseAddress(raw)
	at := strings.LastIndexByte(raw, '@')
	if err != nil || addr.Address != raw || at < 0 || !strings.Contains(raw[at+1:], ".") {
		return "", Invalid("invalid_email", field, "%s %s is not a valid email address such as customer@example.com", field, quoted(raw))
	}
	if at > MaxEmailLocalLength {
		return "", Invalid("invalid_email", field, "the part of %s before the @ must be at most %d characters (RFC 5321)", field, MaxEmailLocalLength)
	}
	return strings.ToLower(addr.Address), nil
}
