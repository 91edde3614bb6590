package devserver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"strings"

	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/common/persistence"
	"go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	postgresplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	"go.temporal.io/server/common/resolver"
	serverschema "go.temporal.io/server/schema"
)

// postgresMaintenanceDatabase is where CREATE DATABASE is issued from.
const postgresMaintenanceDatabase = "postgres"

// preparePostgres creates the database named in rawURL and its visibility
// twin when missing, sets up the server's schema in each (what
// `temporal-sql-tool create-database` and `setup-schema` do, from the schema
// files compiled into the server), and returns their settings.
func preparePostgres(rawURL string) (main, visibility *config.SQL, err error) {
	main, err = postgresConfig(rawURL)
	if err != nil {
		return nil, nil, err
	}
	v := *main
	v.DatabaseName = main.DatabaseName + "_visibility"
	visibility = &v
	if err := createPostgresDatabases(main, main.DatabaseName, visibility.DatabaseName); err != nil {
		return nil, nil, err
	}
	if err := setupPostgresSchema(main, sqlplugin.DbKindMain, "postgresql/v12/temporal/schema.sql"); err != nil {
		return nil, nil, err
	}
	if err := setupPostgresSchema(visibility, sqlplugin.DbKindVisibility, "postgresql/v12/visibility/schema.sql"); err != nil {
		return nil, nil, err
	}
	return main, visibility, nil
}

// postgresConfig turns postgres://user[:password]@host:port/database?attrs
// into the server's SQL settings (attributes such as sslmode pass through).
func postgresConfig(rawURL string) (*config.SQL, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return nil, fmt.Errorf("devserver: PostgreSQL URL must look like postgres://user@host:5432/temporal?sslmode=disable")
	}
	database := strings.TrimPrefix(u.Path, "/")
	if database == "" || database == postgresMaintenanceDatabase {
		return nil, fmt.Errorf("devserver: name a database of Temporal's own in the PostgreSQL URL (postgres://…/temporal), not %q", database)
	}
	host := u.Host
	if u.Port() == "" {
		host += ":5432"
	}
	password, _ := u.User.Password()
	attrs := map[string]string{}
	for k, vs := range u.Query() {
		attrs[k] = vs[len(vs)-1]
	}
	return &config.SQL{
		PluginName: postgresplugin.PluginName, ConnectAddr: host, ConnectProtocol: "tcp",
		User: u.User.Username(), Password: password, DatabaseName: database, ConnectAttributes: attrs,
		// Each of the four services keeps its own pools (main and
		// visibility): 4 x (5 + 5) stays well below PostgreSQL's default
		// max_connections of 100, which the application shares.
		MaxConns: 5, MaxIdleConns: 5,
	}, nil
}

// createPostgresDatabases creates each database that does not exist yet.
func createPostgresDatabases(cfg *config.SQL, names ...string) error {
	maintenance := *cfg
	maintenance.DatabaseName = postgresMaintenanceDatabase
	maintenance.MaxConns, maintenance.MaxIdleConns = 1, 1
	db, err := sql.NewSQLAdminDB(sqlplugin.DbKindUnknown, &maintenance, resolver.NewNoopResolver(), log.NewNoopLogger(), metrics.NoopMetricsHandler)
	if err != nil {
		return fmt.Errorf("devserver: connect to PostgreSQL at %s: %w", cfg.ConnectAddr, err)
	}
	defer func() { _ = db.Close() }()
	for _, name := range names {
		if err := db.CreateDatabase(name); err != nil { // an existing database is no error
			return fmt.Errorf("devserver: create PostgreSQL database %s: %w", name, err)
		}
	}
	return nil
}

// setupPostgresSchema creates the tables of schemaFile in an empty database
// and records the schema version the server expects; a database that has
// a version already is only checked against it.
func setupPostgresSchema(cfg *config.SQL, kind sqlplugin.DbKind, schemaFile string) error {
	db, err := sql.NewSQLAdminDB(kind, cfg, resolver.NewNoopResolver(), log.NewNoopLogger(), metrics.NoopMetricsHandler)
	if err != nil {
		return fmt.Errorf("devserver: connect to PostgreSQL database %s: %w", cfg.DatabaseName, err)
	}
	defer func() { _ = db.Close() }()
	if current, err := db.ReadSchemaVersion(cfg.DatabaseName); err == nil && current != "" {
		if err := db.VerifyVersion(); err != nil {
			return fmt.Errorf("devserver: PostgreSQL database %s has Temporal schema %s, this server needs %s; "+
				"upgrade it with temporal-sql-tool update-schema or drop it: %w", cfg.DatabaseName, current, db.ExpectedVersion(), err)
		}
		return nil
	}
	raw, err := fs.ReadFile(serverschema.Assets(), schemaFile)
	if err != nil {
		return fmt.Errorf("devserver: read Temporal schema %s: %w", schemaFile, err)
	}
	statements, err := persistence.LoadAndSplitQueryFromReaders([]io.Reader{bytes.NewReader(raw)})
	if err != nil {
		return fmt.Errorf("devserver: parse Temporal schema %s: %w", schemaFile, err)
	}
	if err := db.CreateSchemaVersionTables(); err != nil {
		return fmt.Errorf("devserver: create schema version tables in %s: %w", cfg.DatabaseName, err)
	}
	for _, stmt := range statements {
		if err := db.Exec(stmt); err != nil {
			return fmt.Errorf("devserver: set up Temporal schema in %s: %w", cfg.DatabaseName, err)
		}
	}
	version := db.ExpectedVersion()
	if err := errors.Join(
		db.UpdateSchemaVersion(cfg.DatabaseName, version, version),
		db.WriteSchemaUpdateLog("0", version, "", "initial version"),
	); err != nil {
		return fmt.Errorf("devserver: record Temporal schema version in %s: %w", cfg.DatabaseName, err)
	}
	return nil
}
