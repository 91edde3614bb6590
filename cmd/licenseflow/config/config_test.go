package config

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsGiveAWorkingDevSetup(t *testing.T) {
	c, err := Load(env(nil), RoleDev)
	require.NoError(t, err)
	assert.Equal(t, "sqlite:data/licenseflow.db", c.DatabaseURL)
	assert.Equal(t, ":8080", c.HTTPAddr)
	assert.Equal(t, 7*24*time.Hour, c.GracePeriod)
	assert.Equal(t, "", c.SMTP.Host, "no SMTP by default: emails stay in the outbox")
	assert.False(t, c.Temporal.TLS())
}

func TestBadValuesAreAllReportedTogether(t *testing.T) {
	_, err := Load(env(map[string]string{
		"SMTP_PORT": "abc", "LICENSEFLOW_LOG_LEVEL": "loud", "LICENSEFLOW_ADMIN_TOKEN": "short",
		"TEMPORAL_TLS_CERT": "cert.pem", "LICENSEFLOW_PUBLIC_URL": "licenses.example.com",
	}), RoleDev)
	require.Error(t, err)
	for _, name := range []string{"SMTP_PORT", "LICENSEFLOW_LOG_LEVEL", "LICENSEFLOW_ADMIN_TOKEN", "TEMPORAL_TLS_KEY", "LICENSEFLOW_PUBLIC_URL"} {
		assert.Contains(t, err.Error(), name)
	}
}

func TestEveryVariableIsDocumentedOnce(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range Vars {
		assert.False(t, seen[v.Name], "%s declared twice", v.Name)
		seen[v.Name] = true
		assert.NotEmpty(t, strings.TrimSpace(v.Description), v.Name)
	}
}

func TestStagingDomainsExtendOrReplaceTheDefaults(t *testing.T) {
	c, err := Load(env(nil), RoleDev)
	require.NoError(t, err)
	assert.True(t, c.Site.Staging.IsStaging("staging.shop.example", []string{"shop.example"}), "the built-in list by default")

	c, err = Load(env(map[string]string{"LICENSEFLOW_STAGING_DOMAINS": "default, *.internal"}), RoleDev)
	require.NoError(t, err)
	assert.True(t, c.Site.Staging.IsStaging("localhost", nil))
	assert.True(t, c.Site.Staging.IsStaging("shop.internal", nil))

	c, err = Load(env(map[string]string{"LICENSEFLOW_STAGING_DOMAINS": "none"}), RoleDev)
	require.NoError(t, err)
	assert.False(t, c.Site.Staging.IsStaging("localhost", nil), "none exempts nothing")

	_, err = Load(env(map[string]string{"LICENSEFLOW_STAGING_DOMAINS": "staging."}), RoleDev)
	assert.ErrorContains(t, err, "LICENSEFLOW_STAGING_DOMAINS")
}

// Issue 9, item 9: links from licenses to their workflows ignored
// TEMPORAL_UI_PORT: with only the port set, the link must use it.
func TestTheWebUILinkFollowsTheUIPortAndURL(t *testing.T) {
	c, err := Load(env(nil), RoleDev)
	require.NoError(t, err)
	assert.Equal(t, "http://localhost:8233", c.Temporal.UIURL)

	c, err = Load(env(map[string]string{"TEMPORAL_UI_PORT": "9233"}), RoleDev)
	require.NoError(t, err)
	assert.Equal(t, 9233, c.Temporal.UIPort)
	assert.Equal(t, "http://localhost:9233", c.Temporal.UIURL, "only the port is set: the link uses it")

	c, err = Load(env(map[string]string{"TEMPORAL_UI_PORT": "9233", "TEMPORAL_UI_URL": "https://temporal.example.com/"}), RoleDev)
	require.NoError(t, err)
	assert.Equal(t, "https://temporal.example.com", c.Temporal.UIURL, "an explicit URL wins (a proxy in front of the UI)")
}

// Issue 21: api, worker and migrate started with dev mode's defaults ran
// quietly on an SQLite file in ./data, linked emails to localhost and
// signed invoices "licenseflow". Each now names what it lacks, and only
// what it reads.
func TestProductionCommandsNameTheVariablesTheyLack(t *testing.T) {
	want := map[Role][]string{
		RoleAPI:     {"DATABASE_URL", "LICENSEFLOW_PUBLIC_URL", "LICENSEFLOW_SECRET_KEYS", "TEMPORAL_ADDRESS"},
		RoleWorker:  {"DATABASE_URL", "LICENSEFLOW_PUBLIC_URL", "LICENSEFLOW_SECRET_KEYS", "TEMPORAL_ADDRESS", "SMTP_HOST", "SMTP_FROM", "LICENSEFLOW_VENDOR_NAME"},
		RoleMigrate: {"DATABASE_URL"},
	}
	for role, names := range want {
		_, err := Load(env(nil), role)
		require.Error(t, err, role)
		first := strings.SplitN(err.Error(), "\n", 2)[0]
		assert.Contains(t, first, "licenseflow "+string(role), "the error names the command")
		listed, _, _ := strings.Cut(strings.SplitN(first, " needs ", 2)[1], " set;")
		assert.ElementsMatch(t, names, strings.Split(listed, ", "), "%s names exactly what it lacks", role)
		for _, name := range names {
			assert.True(t, slices.ContainsFunc(Vars, func(v Var) bool { return v.Name == name && v.Reads(role) && v.Requires(role) }), "%s reads and requires %s", role, name)
		}
	}
	_, err := Load(env(nil), RoleDev)
	assert.NoError(t, err, "dev mode runs on its defaults")
}

func TestOnlyPostgresAndExplicitSQLiteURLsAreAccepted(t *testing.T) {
	for _, bad := range []string{"mysql://root:hunter2@db/licenses", "data/licenseflow.db", "file:licenseflow.db", "postgress://x"} {
		_, err := Load(env(map[string]string{"DATABASE_URL": bad}), RoleDev)
		require.ErrorContains(t, err, "DATABASE_URL", bad)
		assert.NotContains(t, err.Error(), "hunter2", "a password is never printed")
	}
	for _, good := range []string{"postgres://u:p@db:5432/l?sslmode=disable", "postgresql://db/l", "sqlite:/var/lib/licenseflow.db"} {
		c, err := Load(env(map[string]string{"DATABASE_URL": good}), RoleMigrate)
		require.NoError(t, err, good)
		assert.Equal(t, good, c.DatabaseURL)
	}
}

func TestSMTPHostNoneKeepsEmailsInTheOutboxOnAWorker(t *testing.T) {
	c, err := Load(env(map[string]string{
		"DATABASE_URL": "postgres://db/l", "LICENSEFLOW_PUBLIC_URL": "https://licenses.example.com",
		"LICENSEFLOW_SECRET_KEYS": "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "TEMPORAL_ADDRESS": "temporal:7233",
		"SMTP_HOST": "none", "SMTP_FROM": "licenses@example.com", "LICENSEFLOW_VENDOR_NAME": "Example Ltd",
	}), RoleWorker)
	require.NoError(t, err)
	assert.Empty(t, c.SMTP.Host)
}

// STRIPE_MODE: production acts on live events unless told otherwise, dev
// mode on test ones.
func TestStripeModeDefaultsToLiveInProductionAndTestInDev(t *testing.T) {
	env := func(mode string) func(string) string {
		return func(name string) string {
			switch name {
			case "STRIPE_MODE":
				return mode
			}
			return ""
		}
	}
	c, _ := Load(env(""), RoleDev)
	assert.False(t, c.Stripe.Livemode)
	c, _ = Load(env(""), RoleAPI) // other required variables are missing; the mode is still read
	assert.True(t, c.Stripe.Livemode)
	c, _ = Load(env("test"), RoleAPI)
	assert.False(t, c.Stripe.Livemode)
	c, _ = Load(env("LIVE"), RoleDev)
	assert.True(t, c.Stripe.Livemode)
	_, err := Load(env("sandbox"), RoleDev)
	assert.ErrorContains(t, err, "STRIPE_MODE")
}

func TestAnOperatorInBothRoleListsIsRefusedAtStart(t *testing.T) {
	c, err := Load(env(map[string]string{
		"LICENSEFLOW_ADMIN_EMAILS": "Owner@Example.com", "LICENSEFLOW_SUPPORT_EMAILS": "help@example.com, desk@example.com",
	}), RoleDev)
	require.NoError(t, err)
	assert.Equal(t, []string{"owner@example.com"}, c.AdminEmails)
	assert.Equal(t, []string{"help@example.com", "desk@example.com"}, c.SupportEmails)

	_, err = Load(env(map[string]string{
		"LICENSEFLOW_ADMIN_EMAILS": "owner@example.com", "LICENSEFLOW_SUPPORT_EMAILS": "help@example.com, OWNER@example.com",
	}), RoleDev)
	assert.ErrorContains(t, err, "owner@example.com is in both LICENSEFLOW_ADMIN_EMAILS and LICENSEFLOW_SUPPORT_EMAILS")
}
