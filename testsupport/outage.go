package testsupport

import (
	"context"
	"net/url"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/licenseflow/licenseflow/store"
)

// IsolatedPostgres is a database of its own on the test PostgreSQL server,
// so a test can take it away (a database outage) without touching the
// connections of the tests running beside it on the same server.
type IsolatedPostgres struct {
	Name  string
	URL   string
	admin *gorm.DB
}

// NewIsolatedPostgres creates an empty database, dropped when the test
// ends, or skips the test like PostgresURL.
func NewIsolatedPostgres(t testing.TB) *IsolatedPostgres {
	t.Helper()
	admin, base := postgresAdmin(t)
	d := &IsolatedPostgres{Name: "lf_test_" + randomSuffix(), admin: admin}
	if err := admin.Exec("CREATE DATABASE " + d.Name).Error; err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		// FORCE ends what is left of this database's own connections.
		_ = admin.Exec("ALTER DATABASE " + d.Name + " ALLOW_CONNECTIONS true").Error
		if err := admin.Exec("DROP DATABASE IF EXISTS " + d.Name + " WITH (FORCE)").Error; err != nil {
			t.Errorf("drop database %s: %v", d.Name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresURLEnv, err)
	}
	u.Path = "/" + d.Name
	d.URL = u.String()
	return d
}

// Store returns a migrated store on the database with at most maxConns
// connections, closed when the test ends.
func (d *IsolatedPostgres) Store(t testing.TB, maxConns int) *store.Store {
	t.Helper()
	return postgresStore(t, d.URL, maxConns)
}

// CutOff starts an outage of this database only: new connections are
// refused and every open one is terminated, as when the server goes away.
// It returns how many connections it terminated.
func (d *IsolatedPostgres) CutOff(t testing.TB) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.admin.WithContext(ctx).Exec("ALTER DATABASE " + d.Name + " ALLOW_CONNECTIONS false").Error; err != nil {
		t.Fatalf("refuse connections to %s: %v", d.Name, err)
	}
	var terminated int
	err := d.admin.WithContext(ctx).Raw("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "+
		"WHERE datname = ? AND pid <> pg_backend_pid()) AS killed", d.Name).Scan(&terminated).Error
	if err != nil {
		t.Fatalf("terminate the connections to %s: %v", d.Name, err)
	}
	return terminated
}

// Restore ends the outage: the database accepts connections again.
func (d *IsolatedPostgres) Restore(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.admin.WithContext(ctx).Exec("ALTER DATABASE " + d.Name + " ALLOW_CONNECTIONS true").Error; err != nil {
		t.Fatalf("allow connections to %s again: %v", d.Name, err)
	}
}
