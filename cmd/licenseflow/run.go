package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/licenseflow/licenseflow/activities"
	"github.com/licenseflow/licenseflow/app"
	"github.com/licenseflow/licenseflow/cmd/licenseflow/config"
	"github.com/licenseflow/licenseflow/database"
	"github.com/licenseflow/licenseflow/email"
	"github.com/licenseflow/licenseflow/invoicepdf"
	"github.com/licenseflow/licenseflow/lifecycle"
	"github.com/licenseflow/licenseflow/metrics"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payloadcodec"
	"github.com/licenseflow/licenseflow/payments"
	"github.com/licenseflow/licenseflow/payments/paypal"
	"github.com/licenseflow/licenseflow/sealing"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/usage"
	"github.com/licenseflow/licenseflow/webhooks"
	"github.com/licenseflow/licenseflow/worker"
	"github.com/licenseflow/licenseflow/workflows"
)

// openStore connects to the database and checks it answers; migrate
// brings its schema up to date.
func openStore(ctx context.Context, cfg config.Config) (*store.Store, error) {
	db, err := database.Open(cfg.DatabaseURL, database.Options{})
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	st := store.New(db)
	reads, err := database.OpenReader(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	st.ReadFrom(reads)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := st.Ping(pctx); err != nil {
		return nil, fmt.Errorf("DATABASE_URL: the database %s does not answer: %w", database.Redact(cfg.DatabaseURL), err)
	}
	return st, nil
}

// migrate applies the schema changes (one process at a time on PostgreSQL)
// and seeds the example catalog into an empty database.
func migrate(ctx context.Context, cfg config.Config, st *store.Store, log *slog.Logger) error {
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	log.Info("database ready", "url", database.Redact(cfg.DatabaseURL))
	return nil
}

// dialTemporal connects to the Temporal frontend, with TLS / API key when
// configured; the SDK reports its metrics to m.
func dialTemporal(cfg config.Temporal, keys *sealing.Keyring, m *metrics.Metrics, log *slog.Logger) (client.Client, error) {
	opts := client.Options{
		HostPort: cfg.Address, Namespace: cfg.Namespace,
		Logger:         sdklog.NewStructuredLogger(log.With("component", "temporal-sdk")),
		MetricsHandler: m.TemporalHandler(),
	}
	payloadcodec.Install(&opts, keys)
	if cfg.TLS() {
		tlsCfg := &tls.Config{ServerName: cfg.ServerName, MinVersion: tls.VersionTLS12}
		if cfg.TLSCert != "" {
			cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
			if err != nil {
				return nil, fmt.Errorf("load Temporal client certificate: %w", err)
			}
			tlsCfg.Certificates = []tls.Certificate{cert}
		}
		if cfg.TLSCA != "" {
			pem, err := os.ReadFile(cfg.TLSCA)
			if err != nil {
				return nil, fmt.Errorf("read TEMPORAL_TLS_CA: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, errors.New("TEMPORAL_TLS_CA holds no PEM certificate")
			}
			tlsCfg.RootCAs = pool
		}
		opts.ConnectionOptions.TLS = tlsCfg
	}
	if cfg.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.APIKey)
	}
	c, err := client.Dial(opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s (namespace %s): %w", cfg.Address, cfg.Namespace, err)
	}
	return c, nil
}

// prepareNamespace registers the search attributes and applies the
// retention and archival settings. Lacking the permission to do so is a
// warning (an operator may set them up); search attributes that are still
// missing afterwards stop the process, since every purchase would fail.
func prepareNamespace(ctx context.Context, c client.Client, namespace string, settings worker.NamespaceSettings, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := worker.EnsureSearchAttributes(ctx, c, namespace); err != nil {
		log.Warn("search attributes not registered", "error", err)
	}
	if err := worker.ConfigureNamespace(ctx, c, namespace, settings); err != nil {
		log.Warn("namespace retention/archival not set", "error", err)
	}
	return lifecycle.CheckSearchAttributes(ctx, c, namespace)
}

// webhookSettings turns the configuration into the webhook settings every
// role shares; dev mode trusts every target (a CRM on localhost).
func webhookSettings(cfg config.Config, keys *sealing.Keyring, r roles) (app.Webhooks, error) {
	secrets := webhooks.NewSecretBox(keys)
	targets := webhooks.AnyTarget()
	if !r.trustEveryWebhookTarget {
		var err error
		if targets, err = webhooks.TrustTargets(cfg.Webhooks.TrustedTargets); err != nil {
			return app.Webhooks{}, fmt.Errorf("LICENSEFLOW_WEBHOOK_TRUSTED_TARGETS: %w", err)
		}
	}
	return app.Webhooks{Targets: targets, Secrets: secrets,
		Policy: workflows.WebhookPolicy{RetryFor: cfg.Webhooks.RetryFor, Timeout: cfg.Webhooks.Timeout}}, nil
}

func newActivities(cfg config.Config, store *store.Store, hooks app.Webhooks, m *metrics.Metrics, log *slog.Logger) (*activities.Activities, error) {
	opts := app.ActivityOptions{
		From: cfg.SMTP.From, PublicURL: cfg.PublicURL, Logger: log, Webhooks: hooks, Metrics: m,
		Seller: seller(cfg), Tax: cfg.Vendor.Tax,
	}
	if cfg.SMTP.Host != "" {
		sender, err := email.NewSMTPSender(email.SMTPConfig{
			Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Username: cfg.SMTP.Username, Password: cfg.SMTP.Password,
			From: cfg.SMTP.From, TLS: email.TLSMode(cfg.SMTP.TLS),
		})
		if err != nil {
			return nil, err
		}
		opts.Sender = sender
		log.Info("email via SMTP", "host", cfg.SMTP.Host, "port", cfg.SMTP.Port)
	} else {
		log.Info("SMTP_HOST not set: emails are kept in the outbox (GET /api/v1/emails)")
	}
	return app.NewActivities(store, opts)
}

// bootstrapAdminToken makes sure an operator can call the API: the token
// from LICENSEFLOW_ADMIN_TOKEN, or a generated one printed once when no
// admin token exists.
func bootstrapAdminToken(ctx context.Context, cfg config.Config, store *store.Store, log *slog.Logger) error {
	admin := models.StringList{string(models.ScopeAdmin)}
	if cfg.AdminToken != "" {
		_, err := store.ReplaceToken(ctx, "bootstrap-admin", cfg.AdminToken, admin, time.Now())
		return err
	}
	n, err := store.CountAdminTokens(ctx)
	if err != nil || n > 0 {
		return err
	}
	secret, _, err := store.CreateToken(ctx, "bootstrap-admin", admin)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stdout, "\n  Admin API token (shown once, keep it):\n\n    %s\n\n  export LICENSEFLOW_TOKEN=%s\n\n", secret, secret)
	log.Info("generated the bootstrap admin token (printed above)")
	return nil
}

// bootstrapMasterLicense creates the master license at first start (seed
// 001) and prints its key once, as the admin token is printed: the key is
// stored as a digest only and is never logged.
func bootstrapMasterLicense(ctx context.Context, store *store.Store, log *slog.Logger) error {
	key, err := store.EnsureMasterLicense(ctx, time.Now())
	if err != nil || key == "" {
		return err
	}
	fmt.Fprintf(os.Stdout, "\n  Master license key (shown once, keep it; it opens every product on every channel):\n\n    %s\n\n", key)
	log.Info("created the master license (its key is printed above)", "license", models.MasterLicenseID, "dlid", models.MaskDLID(key))
	return nil
}

func newRouter(cfg config.Config, store *store.Store, keys *sealing.Keyring, c client.Client, recorder *usage.Recorder, lastSeen *usage.LastSeen, cacheTTL time.Duration, hooks app.Webhooks, m *metrics.Metrics, log *slog.Logger) (http.Handler, error) {
	gin.SetMode(gin.ReleaseMode)
	deps := app.Deps{
		Webhooks: hooks,
		Store:    store, Logger: log,
		Lifecycle: lifecycle.New(c, lifecycle.Options{
			Namespace: cfg.Temporal.Namespace, WebUIURL: cfg.Temporal.UIURL, ReleaseEmailsPerMinute: cfg.Site.ReleaseEmailsPerMinute,
			Policy: workflows.Policy{GracePeriod: cfg.GracePeriod, Retention: cfg.Retention},
		}),
		PublicURL: cfg.PublicURL, WebhookSecrets: cfg.Stripe.WebhookSecrets, StripeLivemode: cfg.Stripe.Livemode, Usage: recorder,
		LastSeen: lastSeen, DomainSilence: cfg.Site.DomainSilence, TokenValidity: cfg.Site.TokenValidity,
		ReleasesDir: cfg.Site.ReleasesDir, SiteCacheTTL: cacheTTL, AdminEmails: cfg.AdminEmails, SupportEmails: cfg.SupportEmails, TrustedProxies: cfg.Site.TrustedProxies,
		Staging: cfg.Site.Staging, Metrics: m, ServeMetrics: cfg.Metrics.Addr == "", MetricsToken: cfg.Metrics.Token,
		SecretKeys: keys, CodecOrigins: webUIOrigins(cfg.Temporal.UIURL), Seller: seller(cfg),
	}
	if cfg.Stripe.SecretKey != "" {
		checkout, err := payments.NewCheckout(payments.Config{SecretKey: cfg.Stripe.SecretKey, APIURL: cfg.Stripe.APIURL})
		if err != nil {
			return nil, err
		}
		deps.Payments = checkout
	}
	if len(cfg.Stripe.WebhookSecrets) == 0 {
		log.Info("STRIPE_WEBHOOK_SECRETS not set: POST /api/v1/webhooks/stripe answers 503")
	}
	if cfg.PayPal.WebhookID != "" {
		deps.PayPal = paypal.NewVerifier(cfg.PayPal.WebhookID)
	}
	if cfg.PayPal.ClientID != "" || cfg.PayPal.ClientSecret != "" {
		client, err := paypal.NewClient(paypal.ClientConfig{BaseURL: cfg.PayPal.APIURL, ClientID: cfg.PayPal.ClientID, ClientSecret: cfg.PayPal.ClientSecret})
		if err != nil {
			return nil, err
		}
		deps.PayPalOrders = client
	}
	deps.PaddleSecrets = cfg.Paddle.WebhookSecrets
	return app.NewRouter(deps), nil
}

// webUIOrigins is the origin of the Temporal Web UI (TEMPORAL_UI_URL),
// the one browser origin that calls the codec endpoint with an operator's
// cookies.
func webUIOrigins(uiURL string) []string {
	u, err := url.Parse(uiURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil
	}
	return []string{u.Scheme + "://" + u.Host}
}

// serveHTTP serves until ctx ends, then drains in-flight requests.
func serveHTTP(ctx context.Context, what, addr string, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info(what+" listening", "addr", addr)
	select {
	case err := <-errc:
		return fmt.Errorf("HTTP server on %s: %w", addr, err)
	case <-ctx.Done():
	}
	log.Info(what+" shutting down: finishing the requests under way", "addr", addr)
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdown)
	log.Info(what+" stopped", "addr", addr, "error", err)
	return err
}

// roles are what one process runs: the API, the worker, or both (dev mode),
// and how it sets up the namespace.
type roles struct {
	api, worker bool
	namespace   worker.NamespaceSettings
	// trustEveryWebhookTarget lets webhook endpoints point anywhere (dev mode).
	trustEveryWebhookTarget bool
	// keysFile holds a generated keyring when LICENSEFLOW_SECRET_KEYS is
	// unset (dev mode); empty makes the variable required.
	keysFile string
}

// secretKeys returns the keyring that seals stored secrets: the one
// configured, or in dev mode the one generated into keysFile at the first
// start (kept with the data it seals).
func secretKeys(cfg config.Config, r roles, log *slog.Logger) (*sealing.Keyring, error) {
	spec := cfg.SecretKeys
	if spec == "" && r.keysFile == "" {
		return nil, errors.New("LICENSEFLOW_SECRET_KEYS is required: it seals the secrets licenseflow stores; generate one with `echo k1:$(openssl rand -base64 32)`")
	}
	if spec == "" {
		raw, err := os.ReadFile(r.keysFile)
		switch {
		case errors.Is(err, os.ErrNotExist):
			if spec, err = sealing.NewKeySpec(time.Now()); err != nil {
				return nil, err
			}
			if err := os.MkdirAll(filepath.Dir(r.keysFile), 0o700); err != nil {
				return nil, err
			}
			if err := os.WriteFile(r.keysFile, []byte(spec+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("keep the generated secret keys: %w", err)
			}
			log.Info("generated the key-encryption keys (LICENSEFLOW_SECRET_KEYS unset)", "file", r.keysFile)
		case err != nil:
			return nil, fmt.Errorf("read the secret keys: %w", err)
		default:
			spec = strings.TrimSpace(string(raw))
		}
	}
	keys, err := sealing.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("LICENSEFLOW_SECRET_KEYS: %w", err)
	}
	return keys, nil
}

// runRoles wires a process: database, Temporal client, then the worker
// and/or the API, until ctx ends.
func runRoles(ctx context.Context, cfg config.Config, log *slog.Logger, r roles) error {
	// Everything is checked before anything is changed: the keys, the
	// database and the namespace answer, then the schema and the
	// namespace's settings are brought up to date.
	keys, err := secretKeys(cfg, r, log)
	if err != nil {
		return err
	}
	hooks, err := webhookSettings(cfg, keys, r)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	m := metrics.New()
	c, err := dialTemporal(cfg.Temporal, keys, m, log)
	if err != nil {
		return err
	}
	defer c.Close()
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	err = lifecycle.CheckNamespace(cctx, c, cfg.Temporal.Namespace)
	cancel()
	if err != nil {
		return err
	}
	if err := migrate(ctx, cfg, store, log); err != nil {
		return err
	}
	if r.api {
		if err := bootstrapAdminToken(ctx, cfg, store, log); err != nil {
			return err
		}
		if err := bootstrapMasterLicense(ctx, store, log); err != nil {
			return err
		}
	}
	if err := prepareNamespace(ctx, c, cfg.Temporal.Namespace, r.namespace, log); err != nil {
		return err
	}
	serveMetrics(ctx, cfg.Metrics, m, r, log)
	waker := app.WakeWebhookDispatchers(store, c, hooks.Policy, log)
	defer waker.Close()
	if r.worker {
		acts, err := newActivities(cfg, store, hooks, m, log)
		if err != nil {
			return err
		}
		worker.SetWorkflowCache(cfg.Worker.WorkflowCache)
		w := worker.New(c, acts, worker.Options{DrainTimeout: cfg.Worker.DrainTimeout})
		if err := w.Start(); err != nil {
			return fmt.Errorf("start worker: %w", err)
		}
		defer func() {
			log.Info("worker draining: no new tasks; waiting for those under way", "timeout", cfg.Worker.DrainTimeout)
			w.Stop()
			log.Info("worker stopped")
		}()
		log.Info("worker polling", "task_queue", workflows.TaskQueue)
		sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		if err := worker.EnsureSilentDomainsSchedule(sctx, c, cfg.Site.DomainSilence); err != nil {
			log.Warn("silent-domain schedule not set up; silent domains will not be released", "error", err)
		}
		if err := worker.DeleteRetiredSchedules(sctx, c); err != nil {
			log.Warn("retired schedules not deleted; they start workflows this worker no longer runs", "error", err)
		}
		cancel()
		defer app.WatchOverdueWebhooks(store, c, hooks.Policy, app.OverdueWebhooks{}, log).Close()
		defer app.WatchKeySharing(store, lifecycle.New(c, lifecycle.Options{Namespace: cfg.Temporal.Namespace}), app.KeySharing{}, log).Close()
	}
	if !r.api {
		health := app.HealthHandler(store, lifecycle.New(c, lifecycle.Options{Namespace: cfg.Temporal.Namespace}), log)
		return serveHTTP(ctx, "worker health", cfg.Worker.HealthAddr, health, log)
	}
	recorder := usage.NewRecorder(store, log, time.Second)
	defer recorder.Close() // after the HTTP server drained: every queued hit is written
	lastSeen := usage.NewLastSeen(store, log, usage.LastSeenOptions{Interval: cfg.Site.HeartbeatFlush})
	defer lastSeen.Close() // likewise every pending heartbeat
	router, err := newRouter(cfg, store, keys, c, recorder, lastSeen, siteCacheTTL(ctx, cfg, store, r, log), hooks, m, log)
	if err != nil {
		return err
	}
	return serveHTTP(ctx, "API", cfg.HTTPAddr, router, log)
}

// serveMetrics serves /metrics on LICENSEFLOW_METRICS_ADDR until ctx ends.
// Without that address the API's router serves it, and a worker-only
// process serves none.
func serveMetrics(ctx context.Context, cfg config.Metrics, m *metrics.Metrics, r roles, log *slog.Logger) {
	if cfg.Addr == "" {
		if !r.api {
			log.Info("LICENSEFLOW_METRICS_ADDR not set: this worker serves no /metrics")
		}
		return
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler(cfg.Token))
	go func() { // ends with ctx
		if err := serveHTTP(ctx, "metrics", cfg.Addr, mux, log); err != nil {
			log.Error("metrics endpoint stopped", "error", err)
		}
	}()
}

// siteCacheTTL decides whether the API may cache licenses for sites: yes
// when every change reaches it, that is on PostgreSQL (it listens for the
// change notices other processes send) or when the worker writing the
// licenses runs in this same process.
func siteCacheTTL(ctx context.Context, cfg config.Config, st *store.Store, r roles, log *slog.Logger) time.Duration {
	const ttl = 30 * time.Second
	if database.IsPostgres(cfg.DatabaseURL) {
		go database.Listen(ctx, cfg.DatabaseURL, store.ChangeChannel, st.DeliverChange,
			func() { st.DeliverChange(store.AllLicenses) }, log)
		return ttl
	}
	if r.worker {
		return ttl
	}
	log.Info("SQLite shared with a separate worker process: site answers read the database every time")
	return 0
}

func runAPI(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	return runRoles(ctx, cfg, log, roles{api: true, namespace: worker.NamespaceSettings{Retention: cfg.Temporal.HistoryRetention}})
}

func runWorker(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	return runRoles(ctx, cfg, log, roles{worker: true, namespace: worker.NamespaceSettings{Retention: cfg.Temporal.HistoryRetention}})
}

func runMigrate(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	if err := migrate(ctx, cfg, store, log); err != nil {
		return err
	}
	log.Info("migrations applied")
	if err := bootstrapAdminToken(ctx, cfg, store, log); err != nil {
		return err
	}
	return bootstrapMasterLicense(ctx, store, log)
}

// seller is who invoices and credit notes name as the issuer.
func seller(cfg config.Config) invoicepdf.Seller {
	return invoicepdf.Seller{Name: cfg.Vendor.Name, Address: cfg.Vendor.Address, Country: cfg.Vendor.Country,
		VATID: cfg.Vendor.VATID, Email: cfg.Vendor.Email}
}
