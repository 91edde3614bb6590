// Package testsupport starts the real things licenseflow's tests run
// against: fresh SQLite and PostgreSQL databases and an SMTP server. Tests
// in every package reuse it; nothing in production imports it.
package testsupport

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/licenseflow/licenseflow/database"
	"github.com/licenseflow/licenseflow/sealing"
	"github.com/licenseflow/licenseflow/store"
)

// PostgresURLEnv names the PostgreSQL server tests use; RequirePostgresEnv=1
// (set in CI) turns "PostgreSQL unreachable" from a skip into a failure.
const (
	PostgresURLEnv     = "LICENSEFLOW_TEST_POSTGRES"
	RequirePostgresEnv = "LICENSEFLOW_REQUIRE_POSTGRES"
	defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
)

// SQLite returns a migrated store on a fresh SQLite file.
func SQLite(t testing.TB) *store.Store {
	t.Helper()
	return SQLiteAt(t, filepath.Join(t.TempDir(), "licenseflow.db"))
}

// SQLiteAt returns a migrated store on the SQLite file at path.
func SQLiteAt(t testing.TB, path string) *store.Store {
	t.Helper()
	db, err := database.Open(path, database.Options{})
	if err != nil {
		t.Fatalf("open SQLite: %v", err)
	}
	store := store.New(db)
	reads, err := database.OpenReader(path)
	if err != nil {
		t.Fatalf("open SQLite for reading: %v", err)
	}
	store.ReadFrom(reads) // as production opens it
	t.Cleanup(func() {
		for _, h := range []*gorm.DB{db, reads} {
			if sqlDB, err := h.DB(); err == nil {
				_ = sqlDB.Close()
			}
		}
	})
	if err := store.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate SQLite: %v", err)
	}
	return store
}

// PostgresURL returns a URL for a fresh, empty schema on the test
// PostgreSQL server (dropped when the test ends), or skips the test when the
// server is unreachable and not required.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin, base := postgresAdmin(t)
	schema := "lf_test_" + randomSuffix()
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() { _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE").Error })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresURLEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// PostgresDatabaseURL returns a URL naming a fresh database on the test
// PostgreSQL server, not created yet, for programs that create their own
// databases (the embedded Temporal server on PostgreSQL). Every database
// whose name begins with that name is dropped when the test ends. Skips
// like PostgresURL.
func PostgresDatabaseURL(t testing.TB) string {
	t.Helper()
	admin, base := postgresAdmin(t)
	name := "lf_test_" + randomSuffix()
	t.Cleanup(func() {
		var names []string
		if err := admin.Raw("SELECT datname FROM pg_database WHERE datname LIKE ?", name+"%").Scan(&names).Error; err != nil {
			t.Errorf("list databases to drop: %v", err)
		}
		for _, n := range names {
			if err := admin.Exec(`DROP DATABASE IF EXISTS "` + n + `" WITH (FORCE)`).Error; err != nil {
				t.Errorf("drop database %s: %v", n, err)
			}
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresURLEnv, err)
	}
	u.Path = "/" + name
	return u.String()
}

// postgresAdmin connects to the test PostgreSQL server (closed when the
// test ends) and returns the connection and its URL, or skips the test
// when the server is unreachable and not required.
func postgresAdmin(t testing.TB) (*gorm.DB, string) {
	t.Helper()
	base := os.Getenv(PostgresURLEnv)
	if base == "" {
		base = defaultPostgresURL
	}
	admin, err := database.Open(base, database.Options{MaxOpenConns: 2})
	if err == nil {
		err = store.New(admin).Ping(context.Background())
	}
	if err != nil {
		if os.Getenv(RequirePostgresEnv) == "1" {
			t.Fatalf("PostgreSQL at %s is required (%s=1) but unreachable: %v", database.Redact(base), RequirePostgresEnv, err)
		}
		t.Skipf("PostgreSQL at %s unreachable (%v); set %s to run these tests", database.Redact(base), err, PostgresURLEnv)
	}
	t.Cleanup(func() {
		if sqlDB, err := admin.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	return admin, base
}

// Postgres returns a migrated store on a fresh PostgreSQL schema.
func Postgres(t testing.TB) *store.Store {
	t.Helper()
	return postgresStore(t, PostgresURL(t), 10)
}

// postgresStore opens a migrated store on a PostgreSQL URL with at most
// maxConns connections, closed when the test ends.
func postgresStore(t testing.TB, url string, maxConns int) *store.Store {
	t.Helper()
	db, err := database.Open(url, database.Options{MaxOpenConns: maxConns})
	if err != nil {
		t.Fatalf("open PostgreSQL: %v", err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	store := store.New(db)
	if err := store.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate PostgreSQL: %v", err)
	}
	return store
}

// Backend names a database a test runs on.
type Backend struct {
	Name string
	Open func(testing.TB) *store.Store
}

// Backends are the databases every store-facing test runs on.
var Backends = []Backend{{"sqlite", SQLite}, {"postgres", Postgres}}

// EachBackend runs fn as a subtest on every backend.
func EachBackend(t *testing.T, fn func(t *testing.T, store *store.Store)) {
	for _, b := range Backends {
		t.Run(b.Name, func(t *testing.T) { fn(t, b.Open(t)) })
	}
}

func randomSuffix() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// SecretKeys returns a fresh keyring for sealing stored secrets, as
// LICENSEFLOW_SECRET_KEYS gives production.
func SecretKeys(t testing.TB) *sealing.Keyring {
	t.Helper()
	spec, err := sealing.NewKeySpec(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := sealing.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}
