package app

import (
	"log/slog"

	"github.com/licenseflow/licenseflow/activities"
	"github.com/licenseflow/licenseflow/email"
	"github.com/licenseflow/licenseflow/invoicepdf"
	"github.com/licenseflow/licenseflow/metrics"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
)

// ActivityOptions are what the worker's activities need besides the store.
type ActivityOptions struct {
	// Sender delivers email; nil keeps messages in the outbox (status held).
	Sender email.Sender
	// From is the sender address of every email.
	From string
	// Seller is printed on invoices.
	Seller invoicepdf.Seller
	// Tax is the catalog's tax policy.
	Tax models.TaxPolicy
	// PublicURL is where customers reach licenseflow (links in emails).
	PublicURL string
	// Webhooks says where deliveries may go and opens their secrets.
	Webhooks Webhooks
	Logger   *slog.Logger
	// Metrics counts emails; nil counts nothing.
	Metrics *metrics.Metrics
}

// NewActivities builds the worker's activities on st.
func NewActivities(st *store.Store, o ActivityOptions) (*activities.Activities, error) {
	renderer, err := email.NewRenderer()
	if err != nil {
		return nil, err
	}
	return &activities.Activities{Store: st, Renderer: renderer, Sender: o.Sender, From: o.From, Seller: o.Seller, Tax: o.Tax,
		PublicURL: o.PublicURL, WebhookClient: o.Webhooks.Targets.Client(), WebhookSecrets: o.Webhooks.Secrets,
		Logger: o.Logger, Metrics: o.Metrics}, nil
}
