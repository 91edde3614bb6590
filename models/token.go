package models

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// Scope is one permission an API token can carry.
type Scope string

const (
	ScopeOrdersWrite   Scope = "orders:write"
	ScopeLicensesRead  Scope = "licenses:read"
	ScopeLicensesWrite Scope = "licenses:write"
	// ScopeLicensesSupport makes the support changes to a license
	// (suspend, reinstate, renew, renewal links, domains) but neither
	// creates nor revokes one, nor changes its tier, size or name.
	ScopeLicensesSupport Scope = "licenses:support"
	ScopeCatalogWrite    Scope = "catalog:write"
	ScopeReleasesWrite   Scope = "releases:write"
	ScopeAdmin           Scope = "admin"
)

// Scopes lists every scope, for validating token requests.
var Scopes = []Scope{ScopeOrdersWrite, ScopeLicensesRead, ScopeLicensesWrite, ScopeLicensesSupport, ScopeCatalogWrite, ScopeReleasesWrite, ScopeAdmin}

// APIToken authenticates a machine caller (the CRM, an operator script).
// Only a SHA-256 hash of the secret is stored.
type APIToken struct {
	ID         uint       `gorm:"primaryKey" json:"id"`
	Name       string     `gorm:"size:200;not null" json:"name"`
	Prefix     string     `gorm:"size:16;not null" json:"prefix"`
	SecretHash string     `gorm:"size:64;not null;uniqueIndex" json:"-"`
	Scopes     StringList `gorm:"not null" json:"scopes"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	CreatedAt  time.Time  `json:"created_at"`
}

// Allows reports whether the token carries scope (admin carries every scope).
func (t APIToken) Allows(scope Scope) bool {
	return t.Scopes.Contains(string(ScopeAdmin)) || t.Scopes.Contains(string(scope))
}

// TokenPrefix starts every licenseflow token, so leaked ones are easy to grep.
const TokenPrefix = "lft_"

// NewTokenSecret returns a fresh random token secret.
func NewTokenSecret() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return TokenPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])), nil
}

// HashTokenSecret is how secrets are stored and looked up.
func HashTokenSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// ParseScopes validates requested scope names.
func ParseScopes(names []string) (StringList, error) {
	out := normalizedSet(names)
	if len(out) == 0 {
		return nil, Invalid("missing_scopes", "scopes", "give at least one scope: %s", scopeNames())
	}
	for _, s := range out {
		if !slices.Contains(Scopes, Scope(s)) {
			return nil, Invalid("invalid_scope", "scopes", "scope %s does not exist; known scopes: %s", quoted(s), scopeNames())
		}
	}
	return out, nil
}

func scopeNames() string {
	names := make([]string, len(Scopes))
	for i, s := range Scopes {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}
