//go:build !nodev

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"

	"github.com/licenseflow/licenseflow/cmd/licenseflow/config"
	"github.com/licenseflow/licenseflow/devserver"
	"github.com/licenseflow/licenseflow/worker"
	"github.com/licenseflow/licenseflow/workflows"
)

// runDev runs everything in one process: an embedded Temporal server (state
// in <data dir>/temporal.db) with its Web UI, the worker and the API on
// SQLite. Stopping and starting it again carries on where it left off.
func runDev(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	_, portText, err := net.SplitHostPort(cfg.Temporal.Address)
	if err != nil {
		return fmt.Errorf("TEMPORAL_ADDRESS=%q: %w", cfg.Temporal.Address, err)
	}
	port, _ := strconv.Atoi(portText)
	dbFile := filepath.Join(cfg.DataDir, "temporal.db")
	ns := worker.NamespaceSettings{Retention: cfg.Temporal.HistoryRetention}
	if ns.Retention == 0 {
		ns.Retention = config.DevHistoryRetention
	}
	srv, err := devserver.Start(devserver.Options{
		DatabaseFile: dbFile, Namespace: cfg.Temporal.Namespace, FrontendPort: port, UIPort: cfg.Temporal.UIPort,
		SearchAttributes: workflows.SearchAttributes(), LogLevel: cfg.Temporal.LogLevel,
		ArchiveDir: filepath.Join(cfg.DataDir, "archive"), Retention: ns.Retention,
		HistoryCacheSize: cfg.Worker.WorkflowCache, // one process: the server's cache as the worker's
		CodecEndpoint:    cfg.PublicURL + "/codec",
	})
	if err != nil {
		return err
	}
	defer srv.Stop()
	cfg.Temporal.Address = srv.FrontendAddress()
	// A namespace from an earlier start gets today's settings too.
	ns.HistoryArchiveURI, ns.VisibilityArchiveURI = srv.ArchiveURIs()
	log.Info("embedded Temporal server running", "frontend", srv.FrontendAddress(), "web_ui", "http://"+srv.UIAddress(), "state", dbFile)
	return runRoles(ctx, cfg, log, roles{
		api: true, worker: true, namespace: ns, trustEveryWebhookTarget: true,
		keysFile: filepath.Join(cfg.DataDir, "secret-keys"),
	})
}
