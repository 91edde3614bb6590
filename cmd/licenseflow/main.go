// Command licenseflow runs the license lifecycle engine.
//
//	licenseflow dev      everything in one process: embedded Temporal + Web UI, worker, API, SQLite
//	licenseflow api      the HTTP API (production)
//	licenseflow worker   the Temporal worker (production)
//	licenseflow migrate  apply database schema changes and seed the example catalog
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/licenseflow/licenseflow/cmd/licenseflow/config"
)

const helpText = `licenseflow: license lifecycle engine

Usage: licenseflow <command>

Commands:
  dev       run everything in one process (embedded Temporal server and Web UI, worker, API, SQLite)
  api       run the HTTP API against DATABASE_URL and TEMPORAL_ADDRESS
  worker    run the Temporal worker against DATABASE_URL and TEMPORAL_ADDRESS
  migrate   apply database schema changes and seed the example catalog

Configuration comes from environment variables; see docs/configuration.md.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, helpText)
		os.Exit(2)
	}
	var run func(context.Context, config.Config, *slog.Logger) error
	role := config.Role(os.Args[1])
	switch role {
	case config.RoleDev:
		run = runDev
	case config.RoleAPI:
		run = runAPI
	case config.RoleWorker:
		run = runWorker
	case config.RoleMigrate:
		run = runMigrate
	case "help", "-h", "--help":
		fmt.Print(helpText)
		return
	default:
		fmt.Fprintf(os.Stderr, "licenseflow: unknown command %q\n\n%s", os.Args[1], helpText)
		os.Exit(2)
	}
	cfg, err := config.Load(os.Getenv, role)
	if err != nil {
		fmt.Fprintf(os.Stderr, "licenseflow %s: configuration:\n%v\n", role, err)
		os.Exit(2)
	}
	log := newLogger(cfg)
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, cfg, log); err != nil {
		log.Error("licenseflow stopped", "command", os.Args[1], "error", err)
		os.Exit(1)
	}
}

func newLogger(cfg config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
