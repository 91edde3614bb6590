// Package devserver runs a complete Temporal server and its Web UI inside
// the licenseflow process, persisted to a SQLite file (or, to measure what
// a real cluster's database costs, to PostgreSQL), for `licenseflow dev`,
// the integration tests and the benchmarks. Production talks to a real Temporal cluster
// and never imports this package (it is what makes a binary ~200 MB).
package devserver

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Options configure the embedded server.
type Options struct {
	// DatabaseFile is the SQLite file holding all Temporal state; created
	// with its schema on first start. Empty means in memory (tests).
	DatabaseFile string
	// PostgresURL, when set, persists to PostgreSQL instead of SQLite:
	// postgres://user[:password]@host:port/database?sslmode=disable. The
	// database and its visibility twin (database + "_visibility") are
	// created with the server's schema when missing. DatabaseFile is
	// ignored then.
	PostgresURL string
	// Namespace is created on start (with the search attributes below).
	Namespace string
	// IP to listen on; 127.0.0.1 unless set.
	IP string
	// FrontendPort is the gRPC port clients dial; 0 picks a free one.
	FrontendPort int
	// UIPort serves the Web UI; 0 picks a free one, -1 disables the UI.
	UIPort int
	// SearchAttributes are registered on Namespace when it is created.
	SearchAttributes map[string]enumspb.IndexedValueType
	// LogLevel of the server's own logs: debug, info, warn or error (default).
	LogLevel string
	// ArchiveDir turns on Temporal's filestore archival: the histories and
	// visibility records of closed runs are copied under it, and stay
	// readable (the Web UI's Archive) after retention deletes them. Empty
	// disables archival. A namespace created here archives from the start;
	// an existing one opts in with ArchiveURIs.
	ArchiveDir string
	// HistoryCacheSize is how many workflows' states the server keeps in
	// memory between their tasks (default DefaultHistoryCacheSize).
	HistoryCacheSize int
	// Retention of closed runs for a namespace created here (0: Temporal's
	// default, one day); change an existing namespace's through the API.
	Retention time.Duration
	// CodecEndpoint is licenseflow's codec endpoint (…/codec) the Web UI
	// asks, with the operator's cookies, to decrypt the payloads it shows;
	// empty shows them as stored.
	CodecEndpoint string
}

// Server is a running embedded Temporal server.
type Server struct {
	server   temporal.Server
	ui       *uiserver.Server
	frontend string
	uiAddr   string
	archive  string
}

// clusterName names the single local cluster.
const clusterName = "active"

// Start creates the database if needed and starts the server (and UI).
func Start(opts Options) (*Server, error) {
	if opts.Namespace == "" {
		return nil, errors.New("devserver: a namespace is required")
	}
	if opts.IP == "" {
		opts.IP = "127.0.0.1"
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "error"
	}
	ports, err := freePorts(opts.IP, 5, opts.FrontendPort)
	if err != nil {
		return nil, err
	}
	if opts.FrontendPort == 0 {
		opts.FrontendPort = ports[0]
	}
	if opts.UIPort == 0 {
		opts.UIPort = ports[1]
	}
	frontend := net.JoinHostPort(opts.IP, strconv.Itoa(opts.FrontendPort))

	if opts.ArchiveDir != "" {
		if opts.ArchiveDir, err = filepath.Abs(opts.ArchiveDir); err != nil {
			return nil, fmt.Errorf("devserver: archive directory: %w", err)
		}
	}
	persistence, err := preparePersistence(opts)
	if err != nil {
		return nil, err
	}
	cfg := serverConfig(opts, persistence, frontend, ports[2:])
	hosts := map[primitives.ServiceName]static.Hosts{}
	for name, svc := range cfg.Services {
		hosts[primitives.ServiceName(name)] = static.SingleLocalHost(net.JoinHostPort(opts.IP, strconv.Itoa(svc.RPC.GRPCPort)))
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(cfg),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(log.NewZapLogger(log.BuildZapLogger(log.Config{Level: opts.LogLevel, Format: "console"}))),
		temporal.WithDynamicConfigClient(dynamicconfig.StaticClient{
			// Search attributes added at runtime are visible at once.
			dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key():      true,
			dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
			// A development server may keep closed runs for minutes (tests
			// of archival); real clusters keep their one-day floor.
			dynamicconfig.NamespaceMinRetentionLocal.Key():  time.Second,
			dynamicconfig.NamespaceMinRetentionGlobal.Key(): time.Second,
			// Archive a closed run at once and delete it when its retention
			// ends, not minutes later (clusters spread these out under load).
			dynamicconfig.ArchivalProcessorArchiveDelay.Key(): time.Duration(0),
			dynamicconfig.RetentionTimerJitterDuration.Key():  time.Second,
			// The server keeps the mutable state of up to 128,000 workflows
			// in memory by default (about 70 KB each): one process holding
			// every license would grow with their number.
			dynamicconfig.HistoryCacheHostLevelMaxSize.Key(): historyCacheSize(opts),
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("devserver: build Temporal server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("devserver: start Temporal server: %w", err)
	}
	s := &Server{server: srv, frontend: frontend, archive: opts.ArchiveDir}
	if opts.UIPort > 0 {
		s.uiAddr = net.JoinHostPort(opts.IP, strconv.Itoa(opts.UIPort))
		s.ui = uiserver.NewServer(uioptions.WithConfigProvider(&uiconfig.Config{
			Host: opts.IP, Port: opts.UIPort, TemporalGRPCAddress: frontend, EnableUI: true,
			DefaultNamespace: opts.Namespace, CORS: uiconfig.CORS{CookieInsecure: true},
			HideLogs: true, DisableNewsFetch: true,
			Codec: uiconfig.Codec{Endpoint: opts.CodecEndpoint, IncludeCredentials: opts.CodecEndpoint != ""},
		}))
		uiErr := make(chan error, 1)
		go func() { uiErr <- s.ui.Start() }()
		if err := waitListening(s.uiAddr, uiErr, 10*time.Second); err != nil {
			srv.Stop()
			return nil, fmt.Errorf("devserver: Web UI on %s: %w", s.uiAddr, err)
		}
	}
	return s, nil
}

// FrontendAddress is the host:port clients dial.
func (s *Server) FrontendAddress() string { return s.frontend }

// UIAddress is the Web UI's host:port, or "" without a UI.
func (s *Server) UIAddress() string { return s.uiAddr }

// ArchiveURIs are the filestore URIs a namespace archives its closed runs'
// histories and visibility records to; empty without Options.ArchiveDir.
func (s *Server) ArchiveURIs() (history, visibility string) {
	if s.archive == "" {
		return "", ""
	}
	return archiveURIs(s.archive)
}

func archiveURIs(dir string) (history, visibility string) {
	uri := func(sub string) string {
		return (&url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(dir, sub))}).String()
	}
	return uri("history"), uri("visibility")
}

// Stop shuts the UI and the server down.
func (s *Server) Stop() {
	if s.ui != nil {
		s.ui.Stop()
	}
	s.server.Stop()
}

// preparePersistence creates the databases and their schema on first use
// and the namespace if it is missing; all no-ops on databases that already
// have them. SQLite keeps visibility in the same file; PostgreSQL in a
// database of its own, as Temporal's schema tools set it up.
func preparePersistence(opts Options) (config.Persistence, error) {
	p := config.Persistence{DefaultStore: "main", VisibilityStore: "main", NumHistoryShards: 1}
	var main, visibility *config.SQL
	var err error
	if opts.PostgresURL != "" {
		main, visibility, err = preparePostgres(opts.PostgresURL)
		p.VisibilityStore = "visibility"
	} else {
		main, err = prepareSQLite(opts) // one store: SQLite's single connection serves both
	}
	if err != nil {
		return config.Persistence{}, err
	}
	if err := createNamespace(main, opts); err != nil {
		return config.Persistence{}, err
	}
	p.DataStores = map[string]config.DataStore{"main": {SQL: main}}
	if visibility != nil {
		p.DataStores["visibility"] = config.DataStore{SQL: visibility}
	}
	return p, nil
}

// prepareSQLite creates the SQLite file with its schema on first use.
func prepareSQLite(opts Options) (*config.SQL, error) {
	cfg := &config.SQL{
		PluginName: sqliteplugin.PluginName,
		// One connection: several would contend for SQLite's single writer
		// lock and sleep in its busy handler (3x slower, measured with
		// BenchmarkPurchaseToDelivery).
		ConnectAttributes: map[string]string{"journal_mode": "wal", "synchronous": "1", "busy_timeout": "10000"},
		MaxConns:          1,
		MaxIdleConns:      1,
	}
	if opts.DatabaseFile == "" {
		cfg.ConnectAttributes = map[string]string{"mode": "memory", "cache": "shared"}
		cfg.DatabaseName = fmt.Sprintf("licenseflow-%d", time.Now().UnixNano())
		cfg.MaxConns, cfg.MaxIdleConns = 1, 1 // the server's SQLite plugin creates the schema itself
		return cfg, nil
	}
	cfg.ConnectAttributes["mode"] = "rwc"
	cfg.DatabaseName = opts.DatabaseFile
	if _, err := os.Stat(opts.DatabaseFile); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(opts.DatabaseFile), 0o755); err != nil {
			return nil, fmt.Errorf("devserver: create data directory: %w", err)
		}
		if err := sqliteschema.SetupSchema(cfg); err != nil {
			return nil, fmt.Errorf("devserver: set up schema in %s: %w", opts.DatabaseFile, err)
		}
	}
	return cfg, nil
}

// createNamespace registers opts.Namespace with its search attributes,
// retention and archival straight in the database, before the server
// starts, unless it exists. The server's helper for this lives in its
// SQLite schema package but works through the generic SQL plugin
// interface, so PostgreSQL takes it as well.
func createNamespace(cfg *config.SQL, opts Options) error {
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, opts.Namespace, false, opts.SearchAttributes)
	if err != nil {
		return fmt.Errorf("devserver: namespace %s: %w", opts.Namespace, err)
	}
	if opts.Retention > 0 {
		ns.Detail.Config.Retention = durationpb.New(opts.Retention)
	}
	if opts.ArchiveDir != "" {
		c := ns.Detail.Config
		c.HistoryArchivalState, c.VisibilityArchivalState = enumspb.ARCHIVAL_STATE_ENABLED, enumspb.ARCHIVAL_STATE_ENABLED
		c.HistoryArchivalUri, c.VisibilityArchivalUri = archiveURIs(opts.ArchiveDir)
	}
	if err := sqliteschema.CreateNamespaces(cfg, ns); err != nil {
		return fmt.Errorf("devserver: create namespace %s: %w", opts.Namespace, err)
	}
	return nil
}

func serverConfig(opts Options, persistence config.Persistence, frontend string, ports []int) *config.Config {
	cfg := &config.Config{}
	cfg.Global.Membership = config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: opts.IP}
	cfg.Persistence = persistence
	cfg.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10, MasterClusterName: clusterName, CurrentClusterName: clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {Enabled: true, InitialFailoverVersion: 1, RPCAddress: frontend},
		},
	}
	cfg.DCRedirectionPolicy = config.DCRedirectionPolicy{Policy: "noop"}
	service := func(port int) config.Service {
		return config.Service{RPC: config.RPC{GRPCPort: port, BindOnIP: opts.IP}}
	}
	cfg.Services = map[string]config.Service{
		"frontend": service(opts.FrontendPort),
		"history":  service(ports[0]),
		"matching": service(ports[1]),
		"worker":   service(ports[2]),
	}
	cfg.Archival = config.Archival{History: config.HistoryArchival{State: "disabled"}, Visibility: config.VisibilityArchival{State: "disabled"}}
	cfg.NamespaceDefaults = config.NamespaceDefaults{Archival: config.ArchivalNamespaceDefaults{
		History: config.HistoryArchivalNamespaceDefaults{State: "disabled"}, Visibility: config.VisibilityArchivalNamespaceDefaults{State: "disabled"},
	}}
	if opts.ArchiveDir != "" {
		files := &config.FilestoreArchiver{FileMode: "0640", DirMode: "0750"}
		cfg.Archival = config.Archival{
			History:    config.HistoryArchival{State: "enabled", EnableRead: true, Provider: &config.HistoryArchiverProvider{Filestore: files}},
			Visibility: config.VisibilityArchival{State: "enabled", EnableRead: true, Provider: &config.VisibilityArchiverProvider{Filestore: files}},
		}
		history, visibility := archiveURIs(opts.ArchiveDir)
		cfg.NamespaceDefaults.Archival = config.ArchivalNamespaceDefaults{
			History:    config.HistoryArchivalNamespaceDefaults{State: "enabled", URI: history},
			Visibility: config.VisibilityArchivalNamespaceDefaults{State: "enabled", URI: visibility},
		}
	}
	cfg.PublicClient = config.PublicClient{HostPort: frontend}
	return cfg
}

// freePorts asks the kernel for n distinct free ports other than taken
// (a port chosen by the caller, which may be free right now: a restart on
// the same frontend port).
func freePorts(ip string, n, taken int) ([]int, error) {
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	var ports []int
	for len(ports) < n {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return nil, fmt.Errorf("devserver: find a free port: %w", err)
		}
		listeners = append(listeners, l) // held open until all are found: distinct ports
		if port := l.Addr().(*net.TCPAddr).Port; port != taken {
			ports = append(ports, port)
		}
	}
	return ports, nil
}

func waitListening(addr string, failed <-chan error, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-failed:
			return err
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			_ = c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("not listening after " + timeout.String())
}

// DefaultHistoryCacheSize bounds the server's in-memory workflow states
// when Options.HistoryCacheSize is 0.
const DefaultHistoryCacheSize = 2000

func historyCacheSize(opts Options) int {
	if opts.HistoryCacheSize > 0 {
		return opts.HistoryCacheSize
	}
	return DefaultHistoryCacheSize
}
