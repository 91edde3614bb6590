package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/licenseflow/licenseflow/email"
	"github.com/licenseflow/licenseflow/models"
)

// EmailInput asks for one license email. Key is the outbox idempotency key
// (workflow id + step + expiry): one key, at most one message.
type EmailInput struct {
	Key           string
	LicenseID     string
	Template      string
	InvoiceNumber string
	// AmountDue and PaymentURL fill the payment-failed email.
	AmountDue  string
	PaymentURL string
	// ReleaseProduct and ReleaseVersion name the release of a new-release email.
	ReleaseProduct string
	ReleaseVersion string
}

// EmailResult reports the outbox message.
type EmailResult struct {
	MessageID uint
	Status    models.EmailStatus
}

// SendLicenseEmail renders a template for the license, records it in the
// outbox and, when SMTP is configured, sends it. A retry after a crash
// resends the stored message with the same Message-ID; a message already
// sent, held or refused is never sent again.
func (a *Activities) SendLicenseEmail(ctx context.Context, in EmailInput) (EmailResult, error) {
	defer keepAlive(ctx)()
	var msg models.EmailMessage
	err := ownWork(ctx, func(ctx context.Context) error {
		data, err := a.licenseData(ctx, in)
		if err == nil {
			msg, err = a.enqueue(ctx, in.Key, in.Template, data.CustomerEmail, in.LicenseID, in.InvoiceNumber, data)
		}
		return err
	})
	if err != nil {
		return EmailResult{}, err
	}
	return a.deliver(ctx, msg)
}

// SignInInput asks for a sign-in (magic link) email.
type SignInInput struct {
	Key   string
	To    string
	Admin bool
	// Link: see workflows.SignInRequest.
	Link string `json:",omitempty"`
}

// SendSignInEmail makes a magic link and sends it through the same outbox
// and SMTP path as every other email. The link is made here, not in the
// workflow, so it is in no history; once sent, the outbox keeps that it
// was sent but not the body with the link. A retry after the message was
// stored sends the stored link (the one it made is never sent and dies
// unused).
func (a *Activities) SendSignInEmail(ctx context.Context, in SignInInput) (EmailResult, error) {
	defer keepAlive(ctx)()
	var msg models.EmailMessage
	err := ownWork(ctx, func(ctx context.Context) error {
		link, err := a.signInLink(ctx, in)
		if err == nil {
			data := email.SignInData{Vendor: a.Seller.Name, Link: link, Minutes: int(models.MagicLinkTTL.Minutes()), Admin: in.Admin}
			msg, err = a.enqueue(ctx, in.Key, email.TemplateMagicLink, in.To, "", "", data)
		}
		return err
	})
	if err != nil {
		return EmailResult{}, err
	}
	return a.deliver(ctx, msg)
}

// signInLink makes a single-use sign-in link for the request's address
// and audience.
func (a *Activities) signInLink(ctx context.Context, in SignInInput) (string, error) {
	if in.Link != "" {
		return in.Link, nil
	}
	aud, path := models.AudienceCustomer, "/portal/auth"
	if in.Admin {
		aud, path = models.AudienceAdmin, "/admin/auth"
	}
	token, err := a.Store.CreateMagicLink(ctx, in.To, aud, a.now())
	if err != nil {
		return "", err
	}
	return a.publicURL() + path + "?token=" + token, nil
}

// deliver hands a stored outbox message to SMTP once. A failure of the
// SMTP server is retried with the step's backoff; one of our database,
// soon.
func (a *Activities) deliver(ctx context.Context, msg models.EmailMessage) (EmailResult, error) {
	result := EmailResult{MessageID: msg.ID, Status: msg.Status}
	if msg.Status != models.EmailQueued {
		return result, nil
	}
	// What the SMTP server answered is recorded even when the attempt is
	// being cancelled (a worker draining, a timeout): an accepted message
	// that is not recorded as sent would be sent again by the next attempt.
	// Only a crash between the answer and this write can still send it
	// twice, with the same Message-ID.
	record := func(o models.EmailOutcome) error {
		// A sent or refused sign-in email's body holds a live link that
		// nobody needs any more: the outbox keeps only that it was sent.
		o.DropBody = msg.Template == email.TemplateMagicLink && o.Status != models.EmailQueued && o.Status != models.EmailHeld
		return ownWork(context.WithoutCancel(ctx), func(ctx context.Context) error { return a.Store.RecordEmailOutcome(ctx, msg.ID, o) })
	}
	if a.Sender == nil {
		result.Status = models.EmailHeld
		a.Metrics.Email(msg.Template, models.EmailHeld)
		return result, record(models.EmailOutcome{Status: models.EmailHeld, At: a.now()})
	}
	var out email.Message
	err := ownWork(ctx, func(ctx context.Context) error {
		var err error
		if out, err = a.message(ctx, msg); err == nil {
			err = a.Store.CountEmailAttempt(ctx, msg.ID)
		}
		return err
	})
	if err != nil {
		return result, err
	}
	sendErr := a.Sender.Send(ctx, out)
	defer func() { a.Metrics.Email(msg.Template, result.Status) }()
	switch {
	case sendErr == nil:
		result.Status = models.EmailSent
		return result, record(models.EmailOutcome{Status: models.EmailSent, ProviderMessageID: out.ID, At: a.now()})
	case errors.Is(sendErr, email.ErrRejected):
		result.Status = models.EmailFailed
		if err := record(models.EmailOutcome{Status: models.EmailFailed, Error: sendErr.Error(), At: a.now()}); err != nil {
			return result, err
		}
		return result, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s email to %s was refused: %v", msg.Template, msg.To, sendErr), ErrTypeEmailRejected, sendErr)
	default:
		result.Status = models.EmailQueued // to be retried
		_ = record(models.EmailOutcome{Status: models.EmailQueued, Error: sendErr.Error(), At: a.now()})
		return result, fmt.Errorf("send %s email to %s: %w", msg.Template, msg.To, sendErr)
	}
}

// enqueue renders a message and stores it unless its key is already stored.
func (a *Activities) enqueue(ctx context.Context, key, template, to, licenseID, invoice string, data any) (models.EmailMessage, error) {
	subject, text, html, err := a.Renderer.Render(template, data)
	if err != nil {
		return models.EmailMessage{}, temporal.NewNonRetryableApplicationError(err.Error(), "TemplateError", err)
	}
	return a.Store.EnqueueEmail(ctx, models.EmailMessage{
		IdempotencyKey: key, To: to, Template: template, Subject: subject,
		TextBody: text, HTMLBody: html, LicenseID: licenseID, InvoiceNumber: invoice,
	})
}

func (a *Activities) licenseData(ctx context.Context, in EmailInput) (email.LicenseData, error) {
	l, err := a.Store.GetLicense(ctx, in.LicenseID)
	if err != nil {
		return email.LicenseData{}, permanent(err)
	}
	tier, err := a.Store.GetTier(ctx, l.TierKey)
	if err != nil {
		return email.LicenseData{}, permanent(err)
	}
	ents, err := a.Store.GetEntitlements(ctx, l.ID)
	if err != nil {
		return email.LicenseData{}, err
	}
	products, err := a.Store.ListProducts(ctx)
	if err != nil {
		return email.LicenseData{}, err
	}
	names := make(map[string]string, len(products))
	for _, p := range products {
		names[p.Code] = p.Name
	}
	data := email.LicenseData{
		Vendor: a.Seller.Name, CustomerName: l.Customer.Name, CustomerEmail: l.Customer.Email,
		LicenseID: l.ID, DLIDMasked: models.MaskDLID(l.Key()), TierKey: tier.Key, TierName: tier.Name,
		MaxDomains: l.MaxDomains, Channels: l.Channels, ExpiresAt: l.ExpiresAt, GraceUntil: l.GraceUntil,
		PublicURL: a.publicURL(), PortalURL: a.publicURL() + "/portal",
		RenewURL:  a.publicURL() + "/portal/licenses/" + l.ID + "/renew",
		AmountDue: in.AmountDue, PaymentURL: in.PaymentURL, Trial: l.Type == models.TypeTrial,
	}
	if in.Template == email.TemplateDelivery {
		data.DLID = l.Key()
	}
	for _, e := range ents {
		name := names[e.ProductCode]
		if name == "" {
			name = e.Repo
		}
		data.Products = append(data.Products, email.ProductLine{Code: e.ProductCode, Repo: e.Repo, Name: name})
	}
	if in.ReleaseVersion != "" {
		r, err := a.Store.GetRelease(ctx, in.ReleaseProduct, in.ReleaseVersion)
		if err != nil {
			return data, permanent(err)
		}
		name := names[r.ProductCode]
		data.Release = &email.ReleaseLine{Product: name, Version: r.Version, Channel: r.Channel, Notes: r.Notes}
	}
	if in.InvoiceNumber != "" {
		inv, err := a.Store.GetInvoice(ctx, in.InvoiceNumber)
		if err != nil {
			return data, permanent(err)
		}
		data.InvoiceNumber, data.InvoiceTotal = inv.Number, models.FormatMoney(inv.TotalCents, inv.Currency)
		if inv.IssuedBy != "" {
			data.InvoiceIssuer = inv.IssuedBy.Title()
		}
	}
	return data, nil
}

// message turns a stored outbox row into a sendable message, attaching the
// invoice PDF when the message is about one.
func (a *Activities) message(ctx context.Context, m models.EmailMessage) (email.Message, error) {
	out := email.Message{
		ID: email.MessageID(m.IdempotencyKey, a.From), To: m.To,
		Subject: m.Subject, Text: m.TextBody, HTML: m.HTMLBody,
	}
	if m.InvoiceNumber != "" {
		inv, err := a.Store.GetInvoice(ctx, m.InvoiceNumber)
		if err != nil {
			return out, permanent(err)
		}
		if inv.CheckPDF() == nil { // a merchant of record sent its own
			out.Attachments = append(out.Attachments, email.Attachment{
				Name: inv.Number + ".pdf", ContentType: "application/pdf", Data: inv.PDF,
			})
		}
	}
	return out, nil
}

// Email templates a workflow can ask for.
const (
	TemplateDelivery      = email.TemplateDelivery
	TemplateInvoice       = email.TemplateInvoice
	TemplateReminder30    = email.TemplateReminder30
	TemplateReminder7     = email.TemplateReminder7
	TemplateExpired       = email.TemplateExpired
	TemplateRenewed       = email.TemplateRenewed
	TemplateTrialEnding   = email.TemplateTrialEnding
	TemplateTrialEnded    = email.TemplateTrialEnded
	TemplatePaymentFailed = email.TemplatePaymentFailed
	TemplateNewRelease    = email.TemplateNewRelease
	TemplateMagicLink     = email.TemplateMagicLink
)
