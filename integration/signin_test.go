package integration

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payloadcodec"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
)

// A sign-in link is made by the worker's activity: the sign-in workflow's
// inputs and results, decrypted, hold the address but no link, and once
// the email is sent the outbox row says so without the body. The link
// from the mailbox still signs in.
func TestSignInLinkIsInNoHistoryAndNotKeptOnceSent(t *testing.T) {
	mail := testsupport.StartSMTP(t)
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{Sender: smtpSender(t, mail)})
	issue(t, s, crmOrder)

	b := newBrowserless(t, s)
	_, page := b.get("/portal")
	status, _ := b.post("/portal/signin", url.Values{"csrf": {csrfOf(t, page)}, "email": {"customer@example.com"}})
	require.Equal(t, http.StatusOK, status)
	var sent models.EmailMessage
	s.WaitFor("the sign-in email sent", 10*time.Second, func() bool {
		msgs, err := s.Store.ListEmails(ctx, models.EmailFilter{To: "customer@example.com", Template: "magic-link"})
		require.NoError(t, err)
		if len(msgs) == 0 || msgs[0].Status != models.EmailSent {
			return false
		}
		sent = msgs[0]
		return true
	})
	assert.Equal(t, models.DroppedBody, sent.TextBody, "the outbox shows it was sent, not the link")
	assert.Empty(t, sent.HTMLBody)
	require.NotNil(t, sent.SentAt)

	var link string
	for _, m := range mail.Messages() {
		// Undo quoted-printable's soft line breaks and escaped "=".
		text := strings.ReplaceAll(strings.ReplaceAll(m.Data, "=\r\n", ""), "=3D", "=")
		if found := magicLink.FindStringSubmatch(text); found != nil {
			link = found[1]
		}
	}
	require.NotEmpty(t, link, "the mailbox has the link")
	token := strings.TrimPrefix(link[strings.Index(link, "?"):], "?token=")

	workflowID := "signin-" + strings.TrimPrefix(sent.IdempotencyKey, "signin/")
	codec := payloadcodec.New(s.Keys)
	var plain strings.Builder
	it := s.Temporal.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		var payloads []*commonpb.Payload
		if a := ev.GetWorkflowExecutionStartedEventAttributes(); a != nil {
			payloads = append(payloads, a.GetInput().GetPayloads()...)
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			payloads = append(payloads, a.GetInput().GetPayloads()...)
		}
		if a := ev.GetActivityTaskCompletedEventAttributes(); a != nil {
			payloads = append(payloads, a.GetResult().GetPayloads()...)
		}
		decoded, err := codec.Decode(payloads)
		require.NoError(t, err)
		for _, p := range decoded {
			plain.Write(p.GetData())
		}
		plain.WriteString(ev.String())
	}
	assert.Contains(t, plain.String(), "customer@example.com", "the decoded history was read")
	assert.NotContains(t, plain.String(), token)
	assert.NotContains(t, plain.String(), "token=")

	assert.Equal(t, http.StatusSeeOther, newBrowserless(t, s).openSignInLink(link), "the emailed link signs in")
}
