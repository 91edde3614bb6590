// Package activities holds every side effect of a license's lifecycle: the
// database writes, DLID minting, emails and invoices. Each activity is
// idempotent, keyed by something stable (license id, order id, the email's
// idempotency key), so Temporal may retry it freely.
package activities

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/licenseflow/licenseflow/email"
	"github.com/licenseflow/licenseflow/invoicepdf"
	"github.com/licenseflow/licenseflow/metrics"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/webhooks"
)

// Activities carries the dependencies of every activity.
type Activities struct {
	Store    *store.Store
	Renderer *email.Renderer
	// Sender delivers email; nil keeps messages in the outbox (status held),
	// readable through the API, which is the development default.
	Sender email.Sender
	// From is the sender address, used for Message-IDs.
	From   string
	Seller invoicepdf.Seller
	// Tax is the catalog's tax policy (seller country, net or gross prices,
	// rates); the zero policy puts no tax on invoices.
	Tax models.TaxPolicy
	// PublicURL is where customers reach licenseflow (links in emails).
	PublicURL string
	// WebhookClient posts webhook deliveries (webhooks.Targets.Client: no
	// private networks, no redirects) and WebhookSecrets opens the signing
	// secrets.
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
