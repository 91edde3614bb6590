package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"github.com/licenseflow/licenseflow/models"
)

func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateMagicLink stores a new sign-in link for email and returns its token.
func (s *Store) CreateMagicLink(ctx context.Context, email string, aud models.Audience, now time.Time) (string, error) {
	token := randomToken()
	if err := s.sweepSignIns(ctx, now); err != nil {
		return "", err
	}
	err := s.with(ctx).Create(&models.MagicLink{TokenHash: tokenHash(token), Email: strings.ToLower(email), Audience: aud,
		ExpiresAt: now.Add(models.MagicLinkTTL), CreatedAt: now}).Error
	return token, err
}

// CountRecentMagicLinks counts links sent to an email since a moment (rate limit).
func (s *Store) CountRecentMagicLinks(ctx context.Context, email string, since time.Time) (int, error) {
	var n int64
	err := s.with(ctx).Model(&models.MagicLink{}).Where("email = ? AND created_at >= ?", strings.ToLower(email), since).Count(&n).Error
	return int(n), err
}

// ConsumeMagicLink uses a link once: it must exist, be unused, unexpired
// and for the audience. The conditional update makes two clicks at once
// sign in once.
func (s *Store) ConsumeMagicLink(ctx context.Context, token string, aud models.Audience, now time.Time) (string, error) {
	h := tokenHash(token)
	res := s.with(ctx).Model(&models.MagicLink{}).
		Where("token_hash = ? AND audience = ? AND used_at IS NULL AND expires_at > ?", h, aud, now).
		Update("used_at", now)
	if res.Error != nil {
		return "", res.Error
	}
	if res.RowsAffected == 0 {
		return "", models.Invalid("link_expired", "token", "this sign-in link is expired or was already used; ask for a new one")
	}
	var l models.MagicLink
	return l.Email, s.with(ctx).First(&l, "token_hash = ?", h).Error
}

// sweepSignIns deletes what can no longer sign anyone in: expired
// sessions, and links that expired (a link used within its lifetime is
// kept until then, because the sign-in limit counts it). Sign-in emails
// kept in the outbox without SMTP (where the outbox is the mailbox) lose
// their bodies once their link could no longer be used.
func (s *Store) sweepSignIns(ctx context.Context, now time.Time) error {
	if err := s.with(ctx).Where("expires_at <= ?", now).Delete(&models.Session{}).Error; err != nil {
		return err
	}
	if err := s.with(ctx).Where("expires_at <= ?", now).Delete(&models.MagicLink{}).Error; err != nil {
		return err
	}
	return s.with(ctx).Model(&models.EmailMessage{}).
		Where("template = ? AND created_at <= ? AND text_body <> ?", models.SignInTemplate, now.Add(-models.MagicLinkTTL), models.DroppedBody).
		Updates(map[string]any{"text_body": models.DroppedBody, "html_body": ""}).Error
}

// CreateSession signs a browser in with a credential and returns the
// cookie value. The credential's previous session in that area ends: one
// live session per sign-in, so a stolen older cookie dies with the next
// sign-in.
func (s *Store) CreateSession(ctx context.Context, aud models.Audience, cred models.Credential, customerID string, now time.Time) (string, models.Session, error) {
	id := randomToken()
	sess := models.Session{IDHash: tokenHash(id), Audience: aud, Email: strings.ToLower(cred.Email), CustomerID: customerID, Role: cred.Role,
		CSRFToken: randomToken(), ExpiresAt: now.Add(models.SessionTTL), CreatedAt: now}
	if cred.APITokenID != 0 {
		sess.APITokenID = &cred.APITokenID
	}
	err := s.transaction(ctx, func(tx *Store) error {
		if err := tx.sweepSignIns(ctx, now); err != nil {
			return err
		}
		previous := tx.with(ctx).Where("audience = ? AND email = ? AND api_token_id IS NULL", aud, sess.Email)
		if sess.APITokenID != nil {
			previous = tx.with(ctx).Where("audience = ? AND api_token_id = ?", aud, *sess.APITokenID)
		}
		if err := previous.Delete(&models.Session{}).Error; err != nil {
			return err
		}
		return tx.with(ctx).Create(&sess).Error
	})
	return id, sess, err
}

// GetSession finds a live session by cookie value. A session opened with
// an API token lives only while the token does (checked in the same query,
// so revoking a token signs its browsers out at once).
func (s *Store) GetSession(ctx context.Context, id string, now time.Time) (models.Session, error) {
	var sess models.Session
	err := s.with(ctx).First(&sess, "id_hash = ? AND expires_at > ? AND (api_token_id IS NULL OR api_token_id IN (?))",
		tokenHash(id), now, s.with(ctx).Model(&models.APIToken{}).Select("id").Where("revoked_at IS NULL")).Error
	if isNotFound(err) {
		return sess, models.NotFound("no_session", "sign in again")
	}
	return sess, err
}

// SetSessionRole records an operator's role as it now is (moved between
// LICENSEFLOW_ADMIN_EMAILS and LICENSEFLOW_SUPPORT_EMAILS since sign-in).
func (s *Store) SetSessionRole(ctx context.Context, id string, role models.Role) error {
	return s.with(ctx).Model(&models.Session{}).Where("id_hash = ?", tokenHash(id)).Update("role", role).Error
}

// DeleteSession signs a browser out.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return s.with(ctx).Where("id_hash = ?", tokenHash(id)).Delete(&models.Session{}).Error
}

// FindCustomer finds a customer by email.
func (s *Store) FindCustomer(ctx context.Context, email string) (models.Customer, error) {
	var c models.Customer
	err := s.with(ctx).First(&c, "email = ?", strings.ToLower(strings.TrimSpace(email))).Error
	if isNotFound(err) {
		return c, models.NotFound("customer_not_found", "no customer has that email")
	}
	return c, err
}

// GetCustomer finds a customer by id.
func (s *Store) GetCustomer(ctx context.Context, id string) (models.Customer, error) {
	var c models.Customer
	err := s.with(ctx).First(&c, "id = ?", id).Error
	if isNotFound(err) {
		return c, models.NotFound("customer_not_found", "customer %q does not exist", id)
	}
	return c, err
}

// SearchCustomers finds customers whose email, name or company contains q.
func (s *Store) SearchCustomers(ctx context.Context, q string, limit int) ([]models.Customer, error) {
	like := "%" + strings.ToLower(strings.TrimSpace(q)) + "%"
	var out []models.Customer
	return out, s.with(ctx).Where("LOWER(email) LIKE ? OR LOWER(name) LIKE ? OR LOWER(company) LIKE ?", like, like, like).
		Order("email").Limit(limit).Find(&out).Error
}

// CustomerLicenses lists a customer's licenses, newest first.
func (s *Store) CustomerLicenses(ctx context.Context, customerID string) ([]models.License, error) {
	var out []models.License
	return out, s.with(ctx).Preload("Customer").Where("customer_id = ?", customerID).Order("created_at DESC").Find(&out).Error
}

// CustomerOrders lists a customer's orders, newest first.
func (s *Store) CustomerOrders(ctx context.Context, customerID string) ([]models.Order, error) {
	var out []models.Order
	return out, s.with(ctx).Where("customer_id = ?", customerID).Order("created_at DESC").Find(&out).Error
}

// CustomerInvoices lists a customer's invoices (without PDFs), newest first.
func (s *Store) CustomerInvoices(ctx context.Context, customerID string) ([]models.Invoice, error) {
	var out []models.Invoice
	return out, s.with(ctx).Omit("PDF").Where("customer_id = ?", customerID).Order("issued_at DESC, id DESC").Find(&out).Error
}
