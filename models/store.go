package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// Store persists the domain with gorm; it works the same on PostgreSQL and
// SQLite (the *gorm.DB must be opened with TranslateError so unique
// violations surface as gorm.ErrDuplicatedKey).
type Store struct {
	db      *gorm.DB
	changes *changeFeed
}

// NewStore wraps an open database.
func NewStore(db *gorm.DB) *Store { return &Store{db: db, changes: &changeFeed{}} }

// DB exposes the handle for health checks and tests.
func (s *Store) DB() *gorm.DB { return s.db }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// tables lists every table the store owns, in creation order.
func tables() []any {
	return []any{
		&Product{}, &Tier{}, &Customer{}, &Order{}, &License{}, &Entitlement{},
		&InvoiceSequence{}, &Invoice{}, &EmailMessage{}, &APIToken{}, &IdempotencyRecord{},
		&StripeEvent{}, &Activation{}, &UsageEvent{}, &Release{}, &SigningKey{}, &MagicLink{}, &Session{},
		&LicenseEvent{},
	}
}

// Migrate brings the schema up to date and seeds the example catalog into an
// empty database. It is safe to run on every start and from several
// processes at once.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.db.WithContext(ctx).AutoMigrate(tables()...); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	return s.SeedCatalog(ctx)
}

func (s *Store) with(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

// transaction runs fn with a Store bound to one transaction.
func (s *Store) transaction(ctx context.Context, fn func(tx *Store) error) error {
	return s.with(ctx).Transaction(func(tx *gorm.DB) error { return fn(&Store{db: tx, changes: s.changes}) })
}

func isDuplicate(err error) bool { return errors.Is(err, gorm.ErrDuplicatedKey) }

func gormExpr(sql string) any { return gorm.Expr(sql) }

func isNotFound(err error) bool { return errors.Is(err, gorm.ErrRecordNotFound) }

// newID returns prefix + 20 random hex characters.
func newID(prefix string) string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return prefix + hex.EncodeToString(b[:])
}

// NewOrderID returns an id for an order that came without one.
func NewOrderID() string { return newID("ord_") }

// LicenseIDForOrder derives a license id from the order that creates it, so a
// paid order can never mint two licenses.
func LicenseIDForOrder(orderID string) string {
	sum := sha256.Sum256([]byte("order:" + orderID))
	return "lic_" + hex.EncodeToString(sum[:10])
}
