// Package database opens licenseflow's application database: PostgreSQL in
// production, an embedded SQLite file by default. It is the only place that
// knows about SQL drivers; everything else talks to gorm through store.Store.
package database

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/ncruces/go-sqlite3/gormlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	// The SQLite engine compiled to WebAssembly: pure Go, no cgo, and no
	// clash with the modernc.org/sqlite driver the embedded Temporal server
	// registers under the name "sqlite".
	_ "github.com/ncruces/go-sqlite3/embed"
)

// Options tune the connection pool.
type Options struct {
	MaxOpenConns int
	// LogSQL prints every statement (debugging only).
	LogSQL bool
}

// Open connects to url: postgres://… or postgresql://… for PostgreSQL,
// sqlite:path, file:path or a bare path for SQLite.
func Open(rawURL string, opts Options) (*gorm.DB, error) {
	cfg := gormConfig()
	if opts.LogSQL {
		cfg.Logger = logger.Default.LogMode(logger.Info)
	}
	var (
		db  *gorm.DB
		err error
	)
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		db, err = gorm.Open(postgres.Open(rawURL), cfg)
		if err == nil && opts.MaxOpenConns == 0 {
			opts.MaxOpenConns = 20
		}
	default:
		var dsn string
		if dsn, err = sqliteDSN(rawURL); err == nil {
			db, err = gorm.Open(gormlite.Open(dsn), cfg)
		}
		if err == nil && opts.MaxOpenConns == 0 {
			// SQLite has one writer at a time; with several connections,
			// writers queue in SQLite's sleeping busy handler, which measured
			// about 3x slower under concurrent load than one connection.
			opts.MaxOpenConns = 1
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", Redact(rawURL), err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(opts.MaxOpenConns)
	sqlDB.SetMaxIdleConns(opts.MaxOpenConns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

// IsPostgres reports whether url names a PostgreSQL database.
func IsPostgres(rawURL string) bool {
	return strings.HasPrefix(rawURL, "postgres://") || strings.HasPrefix(rawURL, "postgresql://")
}

// gormConfig is how licenseflow opens every handle: unique violations as
// gorm.ErrDuplicatedKey, no statement log, times in UTC.
func gormConfig() *gorm.Config {
	return &gorm.Config{TranslateError: true, Logger: logger.Discard, NowFunc: func() time.Time { return time.Now().UTC() }}
}

// readerConnections is the size of a SQLite reader pool: enough for every
// core to read while the writer writes.
var readerConnections = max(4, runtime.NumCPU())

// OpenReader opens the pool that serves sites' key lookups beside the
// handle Open returns, or nil when that handle serves them as well
// (PostgreSQL, whose pool already reads while others write). On SQLite,
// Open's single connection is the one writer; a key lookup queued behind a
// batch of last-seen writes, or behind the checkpoint a commit runs, waited
// hundreds of milliseconds. The reader pool holds query-only connections
// to the same file: in WAL mode they read the last commit while the writer
// writes or checkpoints.
func OpenReader(rawURL string) (*gorm.DB, error) {
	if IsPostgres(rawURL) {
		return nil, nil
	}
	dsn, err := sqliteDSN(rawURL)
	if err != nil {
		return nil, err
	}
	// Prepared once per connection: SQLite would otherwise parse and plan
	// the lookup's statement again for every key.
	cfg := gormConfig()
	cfg.PrepareStmt = true
	db, err := gorm.Open(gormlite.Open(dsn+"&_pragma=query_only(1)"), cfg)
	if err != nil {
		return nil, fmt.Errorf("open database %s for reading: %w", Redact(rawURL), err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(readerConnections)
	sqlDB.SetMaxIdleConns(readerConnections)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

// sqliteDSN builds the driver's file: URI with the settings licenseflow
// relies on:
//   - WAL and a busy timeout, so readers never block the writer;
//   - immediate transactions, so two writers queue instead of failing with
//     SQLITE_BUSY halfway through (invoice numbering depends on this);
//   - a fixed-width UTC time format, so times compare correctly as text.
func sqliteDSN(rawURL string) (string, error) {
	path := strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite://"), "sqlite:")
	path = strings.TrimPrefix(path, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == "" {
		return "", fmt.Errorf("no SQLite file path in %q", rawURL)
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("create directory for %s: %w", path, err)
		}
	}
	q := url.Values{}
	q.Set("_txlock", "immediate")
	q.Set("_timefmt", "2006-01-02 15:04:05.000")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(wal)")
	q.Add("_pragma", "synchronous(normal)")
	q.Add("_pragma", "foreign_keys(on)")
	return "file:" + path + "?" + q.Encode(), nil
}

// Redact hides a password in a database URL, for logs and errors.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return rawURL
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
