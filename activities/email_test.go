package activities_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/activities"
	"github.com/licenseflow/licenseflow/email"
	"github.com/licenseflow/licenseflow/invoicepdf"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
)

// cancelledOnAcceptance is a real SMTP sender whose attempt is cancelled
// the moment the server has accepted the message, as when a draining
// worker's deadline or an activity timeout strikes right then.
type cancelledOnAcceptance struct {
	email.Sender
	cancel context.CancelFunc
}

func (s cancelledOnAcceptance) Send(ctx context.Context, m email.Message) error {
	err := s.Sender.Send(ctx, m)
	s.cancel()
	return err
}

// Issue 21: a message the SMTP server had accepted was not recorded as
// sent when its attempt ended right after, and the retry sent it again.
func TestAMessageTheServerAcceptedIsNotSentAgainAfterItsAttemptWasCancelled(t *testing.T) {
	st := testsupport.SQLite(t)
	mail, smtp, renderer := mailer(t)
	licenseID := issuedLicense(t, st)

	attempt, cancel := context.WithCancel(context.Background())
	acts := &activities.Activities{
		Store: st, Renderer: renderer, Sender: cancelledOnAcceptance{Sender: smtp, cancel: cancel},
		From: "licenses@vendor.example", Seller: invoicepdf.Seller{Name: "Moko Consulting"}, PublicURL: "https://licenses.example.com",
	}
	in := activities.EmailInput{Key: "license-" + licenseID + "/delivery", LicenseID: licenseID, Template: activities.TemplateDelivery}
	got, err := acts.SendLicenseEmail(attempt, in)
	require.NoError(t, err, "the server's acceptance is recorded although the attempt was cancelled")
	assert.Equal(t, models.EmailSent, got.Status)

	acts.Sender = smtp
	_, err = acts.SendLicenseEmail(context.Background(), in) // Temporal's retry, had the first attempt failed
	require.NoError(t, err)
	assert.Len(t, mail.Messages(), 1, "the message reached the server once")
	stored, err := st.ListEmails(context.Background(), models.EmailFilter{LicenseID: licenseID})
	require.NoError(t, err)
	require.Len(t, stored, 1)
	assert.Equal(t, models.EmailSent, stored[0].Status)
	assert.Equal(t, 1, stored[0].Attempts, "the outbox counts every attempt at SMTP")
}

// mailer is a real SMTP server in process, a sender that delivers to it,
// and the email templates.
func mailer(t *testing.T) (*testsupport.MailServer, *email.SMTPSender, *email.Renderer) {
	t.Helper()
	mail := testsupport.StartSMTP(t)
	smtp, err := email.NewSMTPSender(email.SMTPConfig{Host: mail.Host, Port: mail.Port, From: "licenses@vendor.example", TLS: email.TLSNone, Timeout: 5 * time.Second})
	require.NoError(t, err)
	renderer, err := email.NewRenderer()
	require.NoError(t, err)
	return mail, smtp, renderer
}

func issuedLicense(t *testing.T, st *store.Store) string {
	t.Helper()
	ctx := context.Background()
	tier, err := st.GetTier(ctx, "pos")
	require.NoError(t, err)
	_, l, _, err := st.RecordPurchase(ctx, models.Purchase{
		OrderID: "crash-1", Email: "customer@example.com", Tier: tier, MaxDomains: 3, Months: 12,
		Type: models.TypeCommercial, AmountCents: tier.PriceCents, Currency: tier.Currency,
		PaidAt: time.Now(),
	})
	require.NoError(t, err)
	expires := time.Now().AddDate(1, 0, 0)
	_, _, _, err = st.MintWithEntitlements(ctx, models.Mint{LicenseID: l.ID, OrderID: "crash-1", TierKey: "pos", MaxDomains: 3, StartsAt: time.Now(), ExpiresAt: &expires})
	require.NoError(t, err)
	return l.ID
}

// The payment-failed email carries what the customer needs to act: the
// amount due and the link to pay it, in both bodies.
func TestThePaymentFailedEmailCarriesTheAmountAndThePaymentLink(t *testing.T) {
	st := testsupport.SQLite(t)
	_, smtp, renderer := mailer(t)
	licenseID := issuedLicense(t, st)
	acts := &activities.Activities{
		Store: st, Renderer: renderer, Sender: smtp,
		From: "licenses@vendor.example", Seller: invoicepdf.Seller{Name: "Moko Consulting"}, PublicURL: "https://licenses.example.com",
	}
	in := activities.EmailInput{Key: "license-" + licenseID + "/dunning", LicenseID: licenseID, Template: activities.TemplatePaymentFailed,
		AmountDue: "€149.00", PaymentURL: "https://pay.example.com/in_dunning"}
	_, err := acts.SendLicenseEmail(context.Background(), in)
	require.NoError(t, err)
	stored, err := st.ListEmails(context.Background(), models.EmailFilter{LicenseID: licenseID})
	require.NoError(t, err)
	require.Len(t, stored, 1)
	for _, body := range []string{stored[0].TextBody, stored[0].HTMLBody} {
		assert.Contains(t, body, "€149.00")
		assert.Contains(t, body, "https://pay.example.com/in_dunning")
	}
}

// The invoice email names its invoice and total, in both bodies.
func TestTheInvoiceEmailCarriesTheInvoiceNumberAndTotal(t *testing.T) {
	st := testsupport.SQLite(t)
	_, smtp, renderer := mailer(t)
	licenseID := issuedLicense(t, st)
	inv, _, err := st.IssueInvoice(context.Background(), "crash-1", time.Now(), models.TaxPolicy{}, func(models.Invoice) ([]byte, error) { return []byte("%PDF-1.4"), nil })
	require.NoError(t, err)
	require.NotEmpty(t, inv.Number)
	acts := &activities.Activities{
		Store: st, Renderer: renderer, Sender: smtp,
		From: "licenses@vendor.example", Seller: invoicepdf.Seller{Name: "Moko Consulting"}, PublicURL: "https://licenses.example.com",
	}
	in := activities.EmailInput{Key: "license-" + licenseID + "/invoice", LicenseID: licenseID, Template: activities.TemplateInvoice, InvoiceNumber: inv.Number}
	_, err = acts.SendLicenseEmail(context.Background(), in)
	require.NoError(t, err)
	stored, err := st.ListEmails(context.Background(), models.EmailFilter{LicenseID: licenseID})
	require.NoError(t, err)
	require.Len(t, stored, 1)
	total := models.FormatMoney(inv.TotalCents, inv.Currency)
	for _, body := range []string{stored[0].TextBody, stored[0].HTMLBody} {
		assert.Contains(t, body, inv.Number)
		assert.Contains(t, body, total)
	}
}

// The sign-in activity makes the link (a live one, for the request's
// audience), sends it, and keeps no body once sent. A request started by a
// version that made the link on the request path still sends that link.
func TestTheSignInActivityMakesTheLinkAndKeepsNoBodyOnceSent(t *testing.T) {
	st := testsupport.SQLite(t)
	mail, smtp, renderer := mailer(t)
	acts := &activities.Activities{Store: st, Renderer: renderer, Sender: smtp, From: "licenses@vendor.example",
		Seller: invoicepdf.Seller{Name: "Moko Consulting"}, PublicURL: "https://licenses.example.com"}
	ctx := context.Background()

	got, err := acts.SendSignInEmail(ctx, activities.SignInInput{Key: "signin/0011223344556677", To: "ops@example.com", Admin: true})
	require.NoError(t, err)
	assert.Equal(t, models.EmailSent, got.Status)
	received := mail.WaitFor(t, 1, 5*time.Second)
	text := strings.ReplaceAll(strings.ReplaceAll(received[0].Data, "=\r\n", ""), "=3D", "=")
	m := regexp.MustCompile(`https://licenses\.example\.com/admin/auth\?token=([A-Za-z0-9_-]+)`).FindStringSubmatch(text)
	require.NotNil(t, m, text)
	_, err = st.ConsumeMagicLink(ctx, m[1], models.AudienceCustomer, time.Now())
	assert.Error(t, err, "an operator's link does not open the portal")
	email, err := st.ConsumeMagicLink(ctx, m[1], models.AudienceAdmin, time.Now())
	require.NoError(t, err)
	assert.Equal(t, "ops@example.com", email)

	stored, err := st.GetEmail(ctx, got.MessageID)
	require.NoError(t, err)
	assert.Equal(t, models.DroppedBody, stored.TextBody)
	assert.Empty(t, stored.HTMLBody)
	assert.NotContains(t, stored.TextBody+stored.HTMLBody, m[1])

	_, err = acts.SendSignInEmail(ctx, activities.SignInInput{Key: "signin/old", To: "buyer@example.com",
		Link: "https://licenses.example.com/portal/auth?token=made-before-the-upgrade"})
	require.NoError(t, err)
	received = mail.WaitFor(t, 2, 5*time.Second)
	assert.Contains(t, strings.ReplaceAll(strings.ReplaceAll(received[1].Data, "=\r\n", ""), "=3D", "="), "token=made-before-the-upgrade")
}
