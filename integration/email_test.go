package integration

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/email"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
)

func smtpSender(t testing.TB, mail *testsupport.MailServer) *email.SMTPSender {
	sender, err := email.NewSMTPSender(email.SMTPConfig{
		Host: mail.Host, Port: mail.Port, From: "licenses@vendor.example", TLS: email.TLSNone, Timeout: 5 * time.Second,
	})
	require.NoError(t, err)
	return sender
}

func TestSMTPServerReceivesTheDeliveryAndInvoiceEmails(t *testing.T) {
	mail := testsupport.StartSMTP(t)
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{Sender: smtpSender(t, mail)})
	var created api.LicenseView
	s.Call(http.MethodPost, "/api/v1/licensing/licenses", crmOrder).JSON(t, &created)
	v := s.WaitIssued(created.ID)

	got := mail.WaitFor(t, 2, 10*time.Second)
	time.Sleep(200 * time.Millisecond) // nothing more should arrive
	require.Len(t, mail.Messages(), 2, "one delivery, one invoice — never two of either")
	var delivery, invoice string
	for _, m := range got {
		assert.Equal(t, []string{"customer@example.com"}, m.To)
		assert.Equal(t, "licenses@vendor.example", m.From)
		switch {
		case strings.Contains(m.Data, "Subject: Your Point of Sale license key"):
			delivery = m.Data
		case strings.Contains(m.Data, "Subject: Invoice INV-"):
			invoice = m.Data
		}
	}
	require.NotEmpty(t, delivery, "delivery email")
	require.NotEmpty(t, invoice, "invoice email")
	assert.Contains(t, delivery, v.DLID, "the key is in the delivery email")
	assert.Contains(t, delivery, "Download Key", "with Joomla setup instructions")
	assert.Contains(t, delivery, "text/html")
	assert.Contains(t, invoice, "application/pdf", "the invoice PDF is attached")

	msgs, err := s.Store.ListEmails(ctx, models.EmailFilter{LicenseID: v.ID})
	require.NoError(t, err)
	for _, m := range msgs {
		assert.Equal(t, models.EmailSent, m.Status, m.Template)
		assert.NotEmpty(t, m.ProviderMessageID)
	}
}

func TestRefusedAddressIsRecordedAndTheLicenseStillIssues(t *testing.T) {
	mail := testsupport.StartSMTP(t)
	mail.Reject("nobody@example.com")
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{Sender: smtpSender(t, mail)})
	var created api.LicenseView
	s.Call(http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"nobody@example.com","tier":"pos"}`).JSON(t, &created)
	v := s.WaitIssued(created.ID)
	assert.Equal(t, models.StatusActive, v.Status)
	msgs, err := s.Store.ListEmails(ctx, models.EmailFilter{LicenseID: v.ID, Template: "delivery"})
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.Equal(t, models.EmailFailed, msgs[0].Status)
	assert.Contains(t, msgs[0].LastError, "550")
	assert.Empty(t, mail.Messages())
}
