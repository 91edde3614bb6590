// Package activities holds every side effect of a license's lifecycle: the
// database writes, DLID minting, emails and invoices. Each activity is
// idempotent, keyed by something stable (license id, order id, the email's
// idempotency key), so Temporal may retry it freely.
package activities

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/licenseflow/licenseflow/email"
	"github.com/licenseflow/licenseflow/invoicepdf"
	"github.com/licenseflow/licenseflow/metrics"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/webhooks"
)

// Store is the database writes and reads the activities make.
type Store interface {
	AddCustomEntitlement(ctx context.Context, licenseID, productCode string) (models.Entitlement, error)
	CountEmailAttempt(ctx context.Context, id uint) error
	CreateMagicLink(ctx context.Context, email string, aud models.Audience, now time.Time) (string, error)
	EnqueueEmail(ctx context.Context, m models.EmailMessage) (models.EmailMessage, error)
	GetEntitlements(ctx context.Context, licenseID string) ([]models.Entitlement, error)
	GetInvoice(ctx context.Context, number string) (models.Invoice, error)
	GetLicense(ctx context.Context, id string) (models.License, error)
	GetRelease(ctx context.Context, productCode, version string) (models.Release, error)
	GetTier(ctx context.Context, key string) (models.Tier, error)
	IssueInvoice(ctx context.Context, orderID string, issuedAt time.Time, render func(models.Invoice) ([]byte, error)) (inv models.Invoice, created bool, err error)
	ListProducts(ctx context.Context) ([]models.Product, error)
	MintWithEntitlements(ctx context.Context, m models.Mint) (models.License, models.Tier, []models.Entitlement, error)
	NotifiableLicenses(ctx context.Context, repo, channel, afterID string, limit int) ([]models.License, error)
	ProjectLicense(ctx context.Context, p models.Projection) error
	RecordEmailOutcome(ctx context.Context, id uint, o models.EmailOutcome) error
	ReleaseSilentDomains(ctx context.Context, before, now time.Time) (int, error)
	SetEntitlements(ctx context.Context, licenseID, tierKey string) (models.Tier, []models.Entitlement, error)
}

// Activities carries the dependencies of every activity.
type Activities struct {
	Store    Store
	Renderer *email.Renderer
	// Sender delivers email; nil keeps messages in the outbox (status held),
	// readable through the API, which is the development default.
	Sender email.Sender
	// From is the sender address, used for Message-IDs.
	From   string
	Seller invoicepdf.Seller
	// PublicURL is where customers reach licenseflow (links in emails).
	PublicURL string
	// Webhooks is the outbox and delivery log of outbound webhooks;
	// WebhookClient posts deliveries (webhooks.Targets.Client: no private
	// networks, no redirects) and WebhookSecrets opens the signing secrets.
	Webhooks       WebhookStore
	WebhookClient  *http.Client
	WebhookSecrets *webhooks.SecretBox
	Now            func() time.Time
	Logger         *slog.Logger
	// Metrics counts emails by template and status; nil counts nothing.
	Metrics *metrics.Metrics
}

func (a *Activities) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Activities) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}

func (a *Activities) publicURL() string { return strings.TrimRight(a.PublicURL, "/") }

// Error types of non-retryable activity failures, matched by workflows.
const (
	ErrTypeEmailRejected = "EmailRejected"
)

// permanent turns a domain Problem (bad input, missing record) into a
// non-retryable error carrying the problem's code as its type, so it fails
// fast and shows clearly in the Web UI; other errors stay retryable.
func permanent(err error) error {
	if p, ok := models.AsProblem(err); ok {
		return temporal.NewNonRetryableApplicationError(p.Message, p.Code, err)
	}
	return err
}
