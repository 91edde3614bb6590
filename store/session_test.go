package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
)

// Expired sessions and sign-in links are deleted, not just ignored, by the
// next sign-in: looked up as of a moment when they were still live, they
// are gone.
func TestSigningInSweepsExpiredSessionsAndLinks(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		t0 := time.Now().UTC().Truncate(time.Second)
		oldLink, err := st.CreateMagicLink(ctx, "old@example.com", models.AudienceCustomer, t0)
		require.NoError(t, err)
		oldSession, _, err := st.CreateSession(ctx, models.AudienceCustomer, models.Credential{Email: "old@example.com"}, "cus_old", t0)
		require.NoError(t, err)
		_, err = st.GetSession(ctx, oldSession, t0.Add(time.Minute))
		require.NoError(t, err, "live at first")
		held, err := st.EnqueueEmail(ctx, models.EmailMessage{IdempotencyKey: "signin/held", To: "old@example.com",
			Template: models.SignInTemplate, Subject: "Sign in", TextBody: "link " + oldLink, HTMLBody: "<a>" + oldLink + "</a>"})
		require.NoError(t, err)
		other, err := st.EnqueueEmail(ctx, models.EmailMessage{IdempotencyKey: "delivery/kept", To: "old@example.com",
			Template: "delivery", Subject: "Your key", TextBody: "key", HTMLBody: "<b>key</b>"})
		require.NoError(t, err)

		later := t0.Add(models.SessionTTL + time.Minute)
		_, _, err = st.CreateSession(ctx, models.AudienceAdmin, models.Credential{Email: "ops@example.com"}, "", later)
		require.NoError(t, err)
		_, err = st.GetSession(ctx, oldSession, t0.Add(time.Minute))
		assert.ErrorIs(t, err, models.ErrNotFound, "the expired session was deleted")
		_, err = st.ConsumeMagicLink(ctx, oldLink, models.AudienceCustomer, t0.Add(time.Minute))
		assert.Error(t, err, "the expired link was deleted")
		held, err = st.GetEmail(ctx, held.ID)
		require.NoError(t, err)
		assert.Equal(t, models.DroppedBody, held.TextBody, "a sign-in email kept in the outbox loses its body")
		assert.Empty(t, held.HTMLBody)
		other, err = st.GetEmail(ctx, other.ID)
		require.NoError(t, err)
		assert.Equal(t, "key", other.TextBody, "other emails are kept")
	})
}

// Signing in again with the same credential ends the previous session;
// other credentials keep theirs.
func TestSigningInAgainEndsThePreviousSessionOfTheCredential(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		now := time.Now()
		_, tok, err := st.CreateToken(ctx, "ops-script", models.StringList{"admin"})
		require.NoError(t, err)
		byToken := models.Credential{Email: "token:ops-script", APITokenID: tok.ID}
		byLink := models.Credential{Email: "ops@example.com"}
		first, _, err := st.CreateSession(ctx, models.AudienceAdmin, byToken, "", now)
		require.NoError(t, err)
		link, _, err := st.CreateSession(ctx, models.AudienceAdmin, byLink, "", now)
		require.NoError(t, err)
		customer, _, err := st.CreateSession(ctx, models.AudienceCustomer, byLink, "cus_1", now)
		require.NoError(t, err)

		second, _, err := st.CreateSession(ctx, models.AudienceAdmin, byToken, "", now)
		require.NoError(t, err)
		_, err = st.GetSession(ctx, first, now)
		assert.ErrorIs(t, err, models.ErrNotFound, "the token's first session ended")
		_, err = st.GetSession(ctx, second, now)
		assert.NoError(t, err)
		_, err = st.GetSession(ctx, link, now)
		assert.NoError(t, err, "another credential keeps its session")

		_, _, err = st.CreateSession(ctx, models.AudienceAdmin, byLink, "", now)
		require.NoError(t, err)
		_, err = st.GetSession(ctx, link, now)
		assert.ErrorIs(t, err, models.ErrNotFound, "the address's first dashboard session ended")
		_, err = st.GetSession(ctx, customer, now)
		assert.NoError(t, err, "the same address's portal session is another area's")
	})
}

// A session opened with an API token ends when the token is revoked.
func TestRevokingATokenEndsItsSessions(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		now := time.Now()
		_, tok, err := st.CreateToken(ctx, "ops-script", models.StringList{"admin"})
		require.NoError(t, err)
		id, _, err := st.CreateSession(ctx, models.AudienceAdmin, models.Credential{Email: "token:ops-script", APITokenID: tok.ID}, "", now)
		require.NoError(t, err)
		_, err = st.GetSession(ctx, id, now)
		require.NoError(t, err)
		require.NoError(t, st.RevokeToken(ctx, tok.ID, now))
		_, err = st.GetSession(ctx, id, now)
		assert.ErrorIs(t, err, models.ErrNotFound)
	})
}

// Changing LICENSEFLOW_ADMIN_TOKEN revokes the old bootstrap token (chosen
// or generated) at the next start; the same token again changes nothing.
// The stored prefix of a chosen token is no more than a quarter of it.
func TestChangingTheBootstrapTokenRevokesTheOldOne(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		now := time.Now()
		admin := models.StringList{"admin"}
		generated, _, err := st.CreateToken(ctx, "bootstrap-admin", admin)
		require.NoError(t, err)
		first, err := st.ReplaceToken(ctx, "bootstrap-admin", "chosen-token-one", admin, now)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(first.Prefix), 4, "prefix %q", first.Prefix)
		_, err = st.ReplaceToken(ctx, "bootstrap-admin", "chosen-token-one", admin, now)
		require.NoError(t, err)
		_, err = st.AuthenticateToken(ctx, "chosen-token-one", now)
		require.NoError(t, err, "starting again with the same token keeps it")
		_, err = st.AuthenticateToken(ctx, generated, now)
		assert.ErrorIs(t, err, models.ErrNotFound, "the generated bootstrap token was revoked")

		_, err = st.ReplaceToken(ctx, "bootstrap-admin", "chosen-token-two", admin, now)
		require.NoError(t, err)
		_, err = st.AuthenticateToken(ctx, "chosen-token-one", now)
		assert.ErrorIs(t, err, models.ErrNotFound, "the old chosen token was revoked")
		_, err = st.AuthenticateToken(ctx, "chosen-token-two", now)
		assert.NoError(t, err)
	})
}

// An operator's session records the role it was opened with, and the role
// it has now once that changed; a token session's token is read back only
// while it is live.
func TestASessionRecordsItsOperatorsRole(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		now := time.Now().UTC()
		id, _, err := st.CreateSession(ctx, models.AudienceAdmin, models.Credential{Email: "desk@example.com", Role: models.RoleOwner}, "", now)
		require.NoError(t, err)
		sess, err := st.GetSession(ctx, id, now)
		require.NoError(t, err)
		assert.Equal(t, models.RoleOwner, sess.Role)
		require.NoError(t, st.SetSessionRole(ctx, id, models.RoleSupport))
		sess, err = st.GetSession(ctx, id, now)
		require.NoError(t, err)
		assert.Equal(t, models.RoleSupport, sess.Role)

		_, tok, err := st.CreateToken(ctx, "desk", models.RoleSupport.Scopes())
		require.NoError(t, err)
		got, err := st.GetLiveToken(ctx, tok.ID)
		require.NoError(t, err)
		role, ok := models.TokenRole(got)
		assert.True(t, ok)
		assert.Equal(t, models.RoleSupport, role)
		require.NoError(t, st.RevokeToken(ctx, tok.ID, now))
		_, err = st.GetLiveToken(ctx, tok.ID)
		assert.ErrorIs(t, err, models.ErrNotFound)
	})
}
