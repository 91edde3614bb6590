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

	mail.WaitFor(t, 2, 10*time.Second)
	// "Never two of either" is checked once the workflow has moved past
	// them: a renewal's emails (its invoice and the renewal notice) are
	// sent after the delivery and invoice emails, so a repeated one would
	// reach the server before they do.
	r := s.Call(http.MethodPost, "/api/v1/licensing/licenses/"+v.ID+"/renew", `{"months":12,"payment_ref":"later-event"}`)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	invoices, err := s.Store.ListInvoices(ctx, v.ID)
	require.NoError(t, err)
	require.Len(t, invoices, 2, "the purchase's and the renewal's")
	var purchaseInvoice, renewalInvoice string
	for _, inv := range invoices {
		if inv.OrderID == v.OrderID {
			purchaseInvoice = inv.Number
		} else {
			renewalInvoice = inv.Number
		}
	}
	require.NotEmpty(t, purchaseInvoice)
	require.NotEmpty(t, renewalInvoice)
	var delivery, invoice, renewed []string
	s.WaitFor("the renewal's invoice and notice", 10*time.Second, func() bool {
		delivery, invoice, renewed = nil, nil, nil
		renewalBilled := false
		for _, m := range mail.Messages() {
			switch {
			case strings.Contains(m.Data, "Subject: Your Point of Sale license key"):
				delivery = append(delivery, m.Data)
			case strings.Contains(m.Data, "Subject: Invoice "+purchaseInvoice):
				invoice = append(invoice, m.Data)
			case strings.Contains(m.Data, "Subject: Invoice "+renewalInvoice):
				renewalBilled = true
			default:
				renewed = append(renewed, m.Data)
			}
		}
		return renewalBilled && len(renewed) > 0
	})
	require.Len(t, delivery, 1, "one delivery email")
	require.Len(t, invoice, 1, "one purchase invoice email")
	require.Len(t, renewed, 1, "one renewal notice")
	require.Len(t, mail.Messages(), 4, "nothing else")
	for _, m := range mail.Messages() {
		assert.Equal(t, []string{"customer@example.com"}, m.To)
		assert.Equal(t, "licenses@vendor.example", m.From)
	}
	assert.Contains(t, delivery[0], v.DLID, "the key is in the delivery email")
	assert.Contains(t, delivery[0], "Download Key", "with Joomla setup instructions")
	assert.Contains(t, delivery[0], "text/html")
	assert.Contains(t, invoice[0], "application/pdf", "the invoice PDF is attached")

	// The server has each message; the activity records the send right
	// after the server's answer, so the outbox may lag a moment behind.
	var msgs []models.EmailMessage
	s.WaitFor("the outbox to record the four sends", 10*time.Second, func() bool {
		var err error
		msgs, err = s.Store.ListEmails(ctx, models.EmailFilter{LicenseID: v.ID})
		require.NoError(t, err)
		for _, m := range msgs {
			if m.Status != models.EmailSent {
				return false
			}
		}
		return len(msgs) == 4
	})
	for _, m := range msgs {
		assert.NotEmpty(t, m.ProviderMessageID, m.Template)
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
