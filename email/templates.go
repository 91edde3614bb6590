package email

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/licenseflow/licenseflow/models"
)

//go:embed templates/*
var templateFiles embed.FS

// Template names, one per kind of message a license can receive.
const (
	TemplateDelivery   = "delivery"
	TemplateInvoice    = "invoice"
	TemplateReminder30 = "reminder-30d"
	TemplateReminder7  = "reminder-7d"
	TemplateExpired    = "expired"
	TemplateRenewed    = "renewed"
	// TemplateTrialEnding and TemplateTrialEnded are a trial's reminder and
	// its end.
	TemplateTrialEnding = "trial-ending"
	TemplateTrialEnded  = "trial-ended"
	// TemplatePaymentFailed is the dunning email.
	TemplatePaymentFailed = "payment-failed"
	// TemplateNewRelease announces a release to entitled customers.
	TemplateNewRelease = "new-release"
	// TemplateMagicLink signs a customer or operator in (SignInData).
	TemplateMagicLink = models.SignInTemplate
)

// Templates lists every template the renderer must know.
var Templates = []string{TemplateDelivery, TemplateInvoice, TemplateReminder30, TemplateReminder7, TemplateExpired, TemplateRenewed, TemplateTrialEnding, TemplateTrialEnded, TemplatePaymentFailed, TemplateNewRelease, TemplateMagicLink}

// LicenseData is what every license email can show.
type LicenseData struct {
	Vendor        string
	CustomerName  string
	CustomerEmail string
	LicenseID     string
	// DLID is the full key; only the delivery email shows it.
	DLID          string
	DLIDMasked    string
	TierKey       string
	TierName      string
	Products      []ProductLine
	MaxDomains    int
	Channels      []string
	ExpiresAt     *time.Time
	GraceUntil    *time.Time
	InvoiceNumber string
	InvoiceTotal  string
	// InvoiceIssuer is the merchant of record that issued the invoice and
	// sent its PDF ("Paddle"), "" for the vendor's own.
	InvoiceIssuer string
	AmountDue     string
	PaymentURL    string
	Release       *ReleaseLine
	PublicURL     string
	RenewURL      string
	PortalURL     string
	// Trial marks a free trial not yet paid for: the delivery email says
	// so and when it ends.
	Trial bool
}

// ProductLine is one entitled product in an email.
type ProductLine struct {
	Code string
	Repo string
	Name string
}

// SignInData fills the magic-link email.
type SignInData struct {
	Vendor  string
	Link    string
	Minutes int
	Admin   bool
}

// ReleaseLine is the release a new-release email announces.
type ReleaseLine struct {
	Product string
	Version string
	Channel string
	Notes   string
}

// Lifetime reports a license without expiry.
func (d LicenseData) Lifetime() bool { return d.ExpiresAt == nil }

// Renderer renders the embedded templates.
type Renderer struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

var funcs = map[string]any{
	"date": func(t *time.Time) string {
		if t == nil {
			return "never"
		}
		return t.UTC().Format("2 January 2006")
	},
	"join": strings.Join,
}

// NewRenderer parses the embedded templates and checks each one is complete.
func NewRenderer() (*Renderer, error) {
	text, err := texttemplate.New("text").Funcs(funcs).ParseFS(templateFiles, "templates/*.txt")
	if err != nil {
		return nil, fmt.Errorf("parse text templates: %w", err)
	}
	html, err := htmltemplate.New("html").Funcs(funcs).ParseFS(templateFiles, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse html templates: %w", err)
	}
	for _, name := range Templates {
		for _, part := range []string{name + ".subject", name + ".text"} {
			if text.Lookup(part) == nil {
				return nil, fmt.Errorf("template %q is missing", part)
			}
		}
		if html.Lookup(name+".html") == nil {
			return nil, fmt.Errorf("template %q is missing", name+".html")
		}
	}
	return &Renderer{text: text, html: html}, nil
}

// Render produces a message's subject, plain text and HTML bodies; data is
// a LicenseData, or a SignInData for the magic link.
func (r *Renderer) Render(name string, data any) (subject, text, html string, err error) {
	var b bytes.Buffer
	if err = r.text.ExecuteTemplate(&b, name+".subject", data); err != nil {
		return "", "", "", fmt.Errorf("render %s subject: %w", name, err)
	}
	subject = strings.Join(strings.Fields(b.String()), " ")
	b.Reset()
	if err = r.text.ExecuteTemplate(&b, name+".text", data); err != nil {
		return "", "", "", fmt.Errorf("render %s text: %w", name, err)
	}
	text = strings.TrimSpace(b.String()) + "\n"
	b.Reset()
	if err = r.html.ExecuteTemplate(&b, name+".html", data); err != nil {
		return "", "", "", fmt.Errorf("render %s html: %w", name, err)
	}
	return subject, text, b.String(), nil
}
