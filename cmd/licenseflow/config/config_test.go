package config

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsGiveAWorkingDevSetup(t *testing.T) {
	c, err := Load(env(nil))
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
	}))
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
	c, err := Load(env(nil))
	require.NoError(t, err)
	assert.True(t, c.Site.Staging.IsStaging("staging.shop.example"), "the built-in list by default")

	c, err = Load(env(map[string]string{"LICENSEFLOW_STAGING_DOMAINS": "default, *.internal"}))
	require.NoError(t, err)
	assert.True(t, c.Site.Staging.IsStaging("localhost"))
	assert.True(t, c.Site.Staging.IsStaging("shop.internal"))

	c, err = Load(env(map[string]string{"LICENSEFLOW_STAGING_DOMAINS": "none"}))
	require.NoError(t, err)
	assert.False(t, c.Site.Staging.IsStaging("localhost"), "none exempts nothing")

	_, err = Load(env(map[string]string{"LICENSEFLOW_STAGING_DOMAINS": "staging."}))
	assert.ErrorContains(t, err, "LICENSEFLOW_STAGING_DOMAINS")
}

// Issue 9, item 9: links from licenses to their workflows ignored
// TEMPORAL_UI_PORT: with only the port set, the link must use it.
func TestTheWebUILinkFollowsTheUIPortAndURL(t *testing.T) {
	c, err := Load(env(nil))
	require.NoError(t, err)
	assert.Equal(t, "http://localhost:8233", c.Temporal.UIURL)

	c, err = Load(env(map[string]string{"TEMPORAL_UI_PORT": "9233"}))
	require.NoError(t, err)
	assert.Equal(t, 9233, c.Temporal.UIPort)
	assert.Equal(t, "http://localhost:9233", c.Temporal.UIURL, "only the port is set: the link uses it")

	c, err = Load(env(map[string]string{"TEMPORAL_UI_PORT": "9233", "TEMPORAL_UI_URL": "https://temporal.example.com/"}))
	require.NoError(t, err)
	assert.Equal(t, "https://temporal.example.com", c.Temporal.UIURL, "an explicit URL wins (a proxy in front of the UI)")
}
