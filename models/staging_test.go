package models_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
)

func TestDefaultStagingRuleTellsStagingFromProductionDomains(t *testing.T) {
	rule := models.DefaultStagingRule()
	active := []string{"shop.example", "shop.com", "shop.co.uk"}
	for _, c := range []struct {
		raw     string
		staging bool
	}{
		{"localhost", true},
		{"http://localhost:8080/wp-admin", true},
		{"shop.localhost", true},
		{"shop.local", true},
		{"mysite.test", true},
		{"anything.invalid", true},
		{"staging.shop.example", true},
		{"shop.example", true}, // *.example is reserved for documentation
		{"staging.shop.com", true},
		{"stage.shop.com", true},
		{"dev.shop.co.uk", true},
		{"https://www.staging.shop.com/", true}, // www. is dropped first
		{"127.0.0.1", false},                    // private and loopback addresses run production sites too
		{"10.1.2.3", false},
		{"172.16.0.9", false},
		{"172.31.255.255", false},
		{"192.168.1.20", false},
		{"169.254.1.1", false},
		{"[::1]", false},
		{"[fd12:3456::1]", false},
		{"[fe80::1]", false},

		{"shop.com", false},
		{"staging.other-customer.com", false}, // not in front of a domain of the license
		{"dev.anything.org", false},
		{"stage.x.y", false},
		{"192.168.1.1:8080", false},
		{"::ffff:10.1.2.3", false},
		{"staging.com", false}, // a registrable name, not a subdomain
		{"dev.to", false},
		{"mystaging.shop.com", false},
		{"shop.dev", false}, // .dev is a public top-level domain
		{"local.shop.com", false},
		{"testing.com", false},
		{"172.32.0.1", false},
		{"8.8.8.8", false},
		{"[2001:db8::1]", false},
	} {
		t.Run(c.raw, func(t *testing.T) {
			domain, err := models.NormalizeDomain(c.raw)
			require.NoError(t, err)
			assert.Equal(t, c.staging, rule.IsStaging(domain, active), "%s (normalized %s)", c.raw, domain)
		})
	}
}

func TestStagingRuleIsConfigurable(t *testing.T) {
	rule, err := models.ParseStagingRule([]string{" QA.* ", "*.internal", "preview.shop.com", "100.64.0.0/10", ""})
	require.NoError(t, err)
	active := []string{"shop.com"}
	assert.True(t, rule.IsStaging("qa.shop.com", active))
	assert.False(t, rule.IsStaging("qa.other.com", active), "a prefix only in front of the license's own domain")
	assert.True(t, rule.IsStaging("a.b.internal", active))
	assert.True(t, rule.IsStaging("preview.shop.com", active))
	assert.True(t, rule.IsStaging("100.64.3.4", active))
	assert.False(t, rule.IsStaging("localhost", active), "only the configured patterns apply")
	assert.False(t, rule.IsStaging("staging.shop.com", active))

	assert.False(t, models.StagingRule{}.IsStaging("localhost", nil), "the zero rule exempts nothing")
}

func TestStagingRuleRejectsMalformedPatterns(t *testing.T) {
	for _, bad := range []string{"*", "*.", "staging.", "10.0.0.0/33", "shop_com", "*.-bad", "a..b"} {
		_, err := models.ParseStagingRule([]string{bad})
		assert.Error(t, err, bad)
	}
}
