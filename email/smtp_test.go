package email_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/email"
	"github.com/licenseflow/licenseflow/testsupport"
)

func sender(t *testing.T, mail *testsupport.MailServer) *email.SMTPSender {
	t.Helper()
	s, err := email.NewSMTPSender(email.SMTPConfig{Host: mail.Host, Port: mail.Port, From: "licenses@vendor.example", TLS: email.TLSNone, Timeout: 5 * time.Second})
	require.NoError(t, err)
	return s
}

// Issue 21: addresses with non-ASCII characters go out over SMTPUTF8 when
// the server offers it, and are refused with a clear reason when it does
// not (the outbox shows it), rather than mangled or bounced later.
func TestNonASCIIAddressesTravelOverSMTPUTF8OrAreRefusedClearly(t *testing.T) {
	msg := email.Message{ID: "<utf8@vendor.example>", To: "jürgen@müller.example", Subject: "Ihr Lizenzschlüssel", Text: "Hallo"}

	offering := testsupport.StartSMTP(t, testsupport.OfferSMTPUTF8)
	require.NoError(t, sender(t, offering).Send(context.Background(), msg))
	got := offering.WaitFor(t, 1, 10*time.Second)
	assert.True(t, got[0].SMTPUTF8, "sent with SMTPUTF8")
	assert.Equal(t, []string{"jürgen@müller.example"}, got[0].To)

	plain := testsupport.StartSMTP(t)
	err := sender(t, plain).Send(context.Background(), msg)
	require.ErrorIs(t, err, email.ErrRejected, "a permanent refusal: retrying cannot help")
	assert.ErrorContains(t, err, "does not offer SMTPUTF8")
	assert.Empty(t, plain.Messages())

	ascii := msg
	ascii.To = "customer@example.com"
	require.NoError(t, sender(t, plain).Send(context.Background(), ascii), "ASCII addresses need no SMTPUTF8")
	assert.False(t, plain.WaitFor(t, 1, 10*time.Second)[0].SMTPUTF8)
}
