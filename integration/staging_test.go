package integration

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/siteapi"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
)

func TestStagingCopiesActivateWithoutTakingTheOnlySlot(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		s := stack.Start(t, st, stack.Options{})
		v := issue(t, s, `{"user_email":"staging@example.com","tier":"pos","max_domains":1}`)
		key := v.DLID

		a := siteCall(t, s, "activate", siteapi.SiteRequest{DLID: key, Domain: "https://www.shop.example.com"})
		require.True(t, *a.Activated, a.Detail)
		assert.False(t, a.Staging)
		a = siteCall(t, s, "activate", siteapi.SiteRequest{DLID: key, Domain: "other-shop.com"})
		require.False(t, *a.Activated, "the one production slot is taken")
		assert.Equal(t, models.CodeTooManyDomains, a.Code)

		for _, domain := range []string{"https://staging.shop.example.com/wp-admin"} { // one: staging copies are capped at max_domains
			a = siteCall(t, s, "activate", siteapi.SiteRequest{DLID: key, Domain: domain})
			require.True(t, *a.Activated, "%s: %s", domain, a.Detail)
			assert.True(t, a.Staging, domain)
			assert.Equal(t, 1, a.ActivationUsage, "%s takes no slot", domain)
			assert.Equal(t, 1, a.ActivationLimit)
		}
		a = siteCall(t, s, "validate", siteapi.SiteRequest{DLID: key, Domain: "staging.shop.example.com"})
		assert.True(t, a.Valid)
		assert.Equal(t, models.CodeValid, a.Code)
		assert.True(t, a.Staging, "validation answers flag staging copies")
		assert.Equal(t, []string{"shop.example.com", "staging.shop.example.com"}, a.License.ActiveDomains)
		assert.Equal(t, []string{"staging.shop.example.com"}, a.License.StagingDomains)
		a = siteCall(t, s, "validate", siteapi.SiteRequest{DLID: key, Domain: "shop.example.com"})
		assert.True(t, a.Valid)
		assert.False(t, a.Staging)

		// A staging copy never hears TOO_MANY_DOMAINS, even before it activates.
		a = siteCall(t, s, "validate", siteapi.SiteRequest{DLID: key, Domain: "dev.shop.example.com"})
		assert.Equal(t, models.CodeDomainNotActivated, a.Code)
		assert.True(t, a.Staging)

		// Operators and customers see which domains are staging copies, and
		// the slot count (what max_domains may not go below) leaves them out.
		var acts struct {
			Data []api.ActivationView `json:"data"`
		}
		s.Call(http.MethodGet, "/api/v1/licensing/licenses/"+v.ID+"/activations", nil).JSON(t, &acts)
		staging := map[string]bool{}
		for _, x := range acts.Data {
			staging[x.Domain] = x.Staging
		}
		assert.Equal(t, map[string]bool{"shop.example.com": false, "staging.shop.example.com": true}, staging)
		n, err := st.CountActiveDomains(context.Background(), v.ID)
		require.NoError(t, err)
		assert.Equal(t, 1, n)

		// Staging copies still count in usage.
		s.WaitFor("usage of the staging copies", 10*time.Second, func() bool {
			u, err := st.UsageSince(context.Background(), v.ID, v.CreatedAt)
			require.NoError(t, err)
			seen := map[string]bool{}
			for _, d := range u.Domains {
				seen[d.Domain] = true
			}
			return seen["staging.shop.example.com"]
		})
	})
}
