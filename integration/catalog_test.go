package integration

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
)

func TestCatalogIsDataEditableThroughTheAPI(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		s := stack.Start(t, store, stack.Options{})
		var tiers httpx.Page[models.Tier]
		s.Call(http.MethodGet, "/api/v1/tiers", nil).JSON(t, &tiers)
		assert.GreaterOrEqual(t, len(tiers.Data), 3)

		r := s.Call(http.MethodPost, "/api/v1/products", `{"code":"kiosk","repo":"MokoSuiteKiosk","name":"MokoSuite Kiosk","platform":"joomla"}`)
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		r = s.Call(http.MethodPost, "/api/v1/products", `{"code":"kiosk","repo":"Other","name":"x","platform":"joomla"}`)
		assert.Equal(t, http.StatusConflict, r.Status)
		r = s.Call(http.MethodPost, "/api/v1/products", `{"code":"x","repo":"X","name":"x","platform":"drupal"}`)
		assert.Equal(t, "platform", r.Error(t).Field)

		r = s.Call(http.MethodPost, "/api/v1/tiers", `{"key":"kiosk","name":"Kiosk","products":["base","kiosk"],"max_domains":2,"term":"custom","term_months":6,"price_cents":9900,"currency":"eur","channels":["stable"]}`)
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		var tier models.Tier
		r.JSON(t, &tier)
		assert.Equal(t, "EUR", tier.Currency)
		assert.True(t, tier.Active)
		r = s.Call(http.MethodPost, "/api/v1/tiers", `{"key":"broken","name":"B","products":["nope"],"max_domains":1,"term":"annual","price_cents":1,"currency":"EUR","channels":["stable"]}`)
		assert.Equal(t, http.StatusUnprocessableEntity, r.Status)
		assert.Equal(t, "product_not_found", r.Error(t).Code)

		// A new tier sells at once, with its own term.
		var lic api.LicenseView
		r = s.Call(http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"kiosk@example.com","tier":"kiosk"}`)
		require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
		r.JSON(t, &lic)
		v := s.WaitIssued(lic.ID)
		assert.Equal(t, models.AddMonths(*v.StartsAt, 6), *v.ExpiresAt)
		assert.Len(t, v.Entitlements, 2)

		r = s.Call(http.MethodDelete, "/api/v1/products/kiosk", nil)
		assert.Equal(t, http.StatusConflict, r.Status, "a product a tier grants cannot be deleted")
		r = s.Call(http.MethodDelete, "/api/v1/tiers/kiosk", nil)
		require.Equal(t, http.StatusOK, r.Status)
		r = s.Call(http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"late@example.com","tier":"kiosk"}`)
		assert.Equal(t, "tier_inactive", r.Error(t).Code)
		assert.Equal(t, models.StatusActive, s.License(lic.ID).Status, "licenses on a retired tier keep working")
	})
}
