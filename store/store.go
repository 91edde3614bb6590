// Package store is licenseflow's database: every gorm query, the schema
// migrations, sign-in sessions, sales metrics and the change notices that
// keep site caches fresh. It works the same on PostgreSQL and SQLite.
package store

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"gorm.io/gorm"

	"github.com/licenseflow/licenseflow/models"
)

// Store persists the domain with gorm; it works the same on PostgreSQL and
// SQLite (the *gorm.DB must be opened with TranslateError so unique
// violations surface as gorm.ErrDuplicatedKey).
type Store struct {
	db *gorm.DB
	// reads, when set, serves the reads of sites' keys (SiteLicense)
	// outside transactions: see database.OpenReader.
	reads   *gorm.DB
	changes *changeFeed
	// webhooks announces endpoints with new pending deliveries.
	webhooks *changeFeed
	// swept is when expired idempotency records were last swept (Unix seconds).
	swept *atomic.Int64
}

// New wraps an open database.
func New(db *gorm.DB) *Store {
	return &Store{db: db, changes: &changeFeed{}, webhooks: &changeFeed{}, swept: &atomic.Int64{}}
}

// ReadFrom has sites' key lookups read through reads (database.OpenReader),
// a pool that does not queue behind the writer; nil reads through the
// store's own handle.
func (s *Store) ReadFrom(reads *gorm.DB) { s.reads = reads }

// Reader is the handle sites' key lookups read through: the reader pool,
// or DB without one.
func (s *Store) Reader() *gorm.DB {
	if s.reads != nil {
		return s.reads
	}
	return s.db
}

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
		&models.Product{}, &models.Tier{}, &models.Customer{}, &models.Order{}, &models.License{}, &models.Entitlement{},
		&models.InvoiceSequence{}, &models.Invoice{}, &models.CreditNoteSequence{}, &models.CreditNote{}, &models.EmailMessage{}, &models.APIToken{}, &models.IdempotencyRecord{},
		&models.PaymentEvent{}, &models.Activation{}, &models.UsageEvent{}, &models.Release{}, &models.SigningKey{}, &models.MagicLink{}, &models.Session{},
		&models.LicenseEvent{}, &models.WebhookEndpoint{}, &models.WebhookEvent{}, &models.WebhookDelivery{}, &models.TrialClaim{}, &models.Checkout{}, &models.ProviderCustomer{},
	}
}

// Migrate brings the schema up to date and seeds the example catalog into an
// empty database. It is safe to run on every start and from several
// processes at once.
func (s *Store) Migrate(ctx context.Context) error {
	unlock, err := s.lockMigrations(ctx)
	if err != nil {
		return fmt.Errorf("wait for other processes' schema changes: %w", err)
	}
	defer unlock()
	if err := s.db.WithContext(ctx).AutoMigrate(tables()...); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	if err := s.forgetStoredSecrets(ctx); err != nil {
		return fmt.Errorf("forget stored token secrets: %w", err)
	}
	return s.SeedCatalog(ctx)
}

// migrationLock is the PostgreSQL advisory lock key of schema changes
// ("licenseflow migrate" in ASCII).
const migrationLock = 0x6c666d6967726174

// lockMigrations makes processes that start together on PostgreSQL change
// the schema one after the other: two at once race to create the same
// table and one fails. It holds a session advisory lock on a connection of
// its own until unlock. SQLite takes one writer at a time anyway.
func (s *Store) lockMigrations(ctx context.Context) (unlock func(), err error) {
	if s.db.Name() != "postgres" {
		return func() {}, nil
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		conn.Close()
		return nil, err
	}
	return func() {
		// Closing the connection would release the lock too; unlocking
		// first returns a clean connection to the pool.
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock)
		conn.Close()
	}, nil
}

func (s *Store) with(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

// reading is the handle of reads that need no transaction: the reader pool
// when there is one. A transaction's Store has none, so it reads its own
// writes.
func (s *Store) reading(ctx context.Context) *gorm.DB { return s.Reader().WithContext(ctx) }

// transaction runs fn with a Store bound to one transaction.
func (s *Store) transaction(ctx context.Context, fn func(tx *Store) error) error {
	return s.with(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(&Store{db: tx, changes: s.changes, webhooks: s.webhooks, swept: s.swept})
	})
}

func isDuplicate(err error) bool { return errors.Is(err, gorm.ErrDuplicatedKey) }

func gormExpr(sql string) any { return gorm.Expr(sql) }

func isNotFound(err error) bool { return errors.Is(err, gorm.ErrRecordNotFound) }
