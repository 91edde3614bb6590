package store

import (
	"context"
	"strings"
	"time"

	"github.com/licenseflow/licenseflow/models"
)

// CreateToken makes a new API token and returns its secret, which is shown
// once and never stored.
func (s *Store) CreateToken(ctx context.Context, name string, scopes models.StringList) (string, models.APIToken, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", models.APIToken{}, models.Invalid("missing_name", "name", "give the token a name that says who uses it, e.g. crm")
	}
	secret, err := models.NewTokenSecret()
	if err != nil {
		return "", models.APIToken{}, err
	}
	t, err := s.EnsureToken(ctx, name, secret, scopes)
	return secret, t, err
}

// EnsureToken stores a token with a known secret (the bootstrap admin token)
// unless it is already stored.
func (s *Store) EnsureToken(ctx context.Context, name, secret string, scopes models.StringList) (models.APIToken, error) {
	t := models.APIToken{Name: name, Prefix: displayPrefix(secret), SecretHash: models.HashTokenSecret(secret), Scopes: scopes}
	if err := insertIgnoringDuplicates(s.with(ctx), &t); err != nil {
		return t, err
	}
	return t, s.with(ctx).First(&t, "secret_hash = ?", t.SecretHash).Error
}

// displayPrefix is the start of a secret kept to tell tokens apart in
// lists: 8 characters of a generated token (of 43), never more than a
// quarter of a chosen one, so the stored prefix does not halve the guessing.
func displayPrefix(secret string) string {
	return secret[:min(len(secret)/4, 8)]
}

// ReplaceToken makes secret the one live token called name: it is stored
// unless it already is, and every other live token of that name is
// revoked. Changing LICENSEFLOW_ADMIN_TOKEN thus retires the old bootstrap
// token (and the sessions it opened) at the next start.
func (s *Store) ReplaceToken(ctx context.Context, name, secret string, scopes models.StringList, now time.Time) (models.APIToken, error) {
	t, err := s.EnsureToken(ctx, name, secret, scopes)
	if err != nil {
		return t, err
	}
	return t, s.with(ctx).Model(&models.APIToken{}).Where("name = ? AND id <> ? AND revoked_at IS NULL", name, t.ID).
		Update("revoked_at", models.Instant(now)).Error
}

// CountAdminTokens counts live tokens with the admin scope.
func (s *Store) CountAdminTokens(ctx context.Context) (int, error) {
	var tokens []models.APIToken
	if err := s.with(ctx).Where("revoked_at IS NULL").Find(&tokens).Error; err != nil {
		return 0, err
	}
	n := 0
	for _, t := range tokens {
		if t.Scopes.Contains(string(models.ScopeAdmin)) {
			n++
		}
	}
	return n, nil
}

// AuthenticateToken finds the live token for a secret. last_used_at is
// refreshed at most once a minute, so authentication is not a write per request.
func (s *Store) AuthenticateToken(ctx context.Context, secret string, now time.Time) (models.APIToken, error) {
	var t models.APIToken
	err := s.with(ctx).First(&t, "secret_hash = ? AND revoked_at IS NULL", models.HashTokenSecret(secret)).Error
	if isNotFound(err) {
		return t, models.NotFound("invalid_token", "the API token is unknown or revoked")
	}
	if err != nil {
		return t, err
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > time.Minute {
		at := models.Instant(now)
		t.LastUsedAt = &at
		_ = s.with(ctx).Model(&models.APIToken{}).Where("id = ?", t.ID).Update("last_used_at", at).Error
	}
	return t, nil
}

// ListTokens lists tokens (never their secrets).
func (s *Store) ListTokens(ctx context.Context) ([]models.APIToken, error) {
	var out []models.APIToken
	return out, s.with(ctx).Order("id").Find(&out).Error
}

// RevokeToken revokes a token for good.
func (s *Store) RevokeToken(ctx context.Context, id uint, now time.Time) error {
	res := s.with(ctx).Model(&models.APIToken{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", models.Instant(now))
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return models.NotFound("token_not_found", "token %d does not exist or is already revoked", id)
	}
	return nil
}

// GetLiveToken finds a token that is not revoked by id (the dashboard
// reads a token session's scopes on every request).
func (s *Store) GetLiveToken(ctx context.Context, id uint) (models.APIToken, error) {
	var t models.APIToken
	err := s.with(ctx).First(&t, "id = ? AND revoked_at IS NULL", id).Error
	if isNotFound(err) {
		return t, models.NotFound("token_not_found", "token %d does not exist or is revoked", id)
	}
	return t, err
}
