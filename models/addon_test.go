package models_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/licenseflow/licenseflow/models"
)

func TestAProductIsSoldAsAnAddonOnlyWithAPriceInACurrency(t *testing.T) {
	base := models.Product{Code: "extra", Repo: "Extra", Name: "Extra", Platform: models.PlatformJoomla}
	for _, c := range []struct {
		price    int64
		currency string
		code     string
	}{
		{0, "", ""},
		{2900, " eur ", ""},
		{-1, "EUR", "invalid_addon_price"},
		{2900, "", "invalid_currency"},
		{2900, "EURO", "invalid_currency"},
		{0, "EUR", "invalid_addon_currency"},
	} {
		p := base
		p.AddonPriceCents, p.AddonCurrency = c.price, c.currency
		p.Normalize()
		err := p.Validate()
		if c.code == "" {
			assert.NoError(t, err, "%d %q", c.price, c.currency)
			assert.Equal(t, c.price > 0, p.SoldAsAddon())
			continue
		}
		problem, ok := models.AsProblem(err)
		if assert.True(t, ok, "%d %q: %v", c.price, c.currency, err) {
			assert.Equal(t, c.code, problem.Code, "%d %q", c.price, c.currency)
		}
	}
}

func TestWhoCanBuyAnAddon(t *testing.T) {
	now := time.Now()
	later := now.Add(90 * 24 * time.Hour)
	sold := models.Product{Code: "child", AddonPriceCents: 2900, AddonCurrency: "EUR"}
	paid := models.License{ID: "lic_1", Type: models.TypeCommercial, Status: models.StatusActive, ExpiresAt: &later}
	with := func(change func(*models.License)) models.License {
		l := paid
		change(&l)
		return l
	}
	for _, c := range []struct {
		what     string
		license  models.License
		product  models.Product
		entitled bool
		code     string
	}{
		{"an active paid license", paid, sold, false, ""},
		{"an expiring one", with(func(l *models.License) { l.Status = models.StatusExpiring }), sold, false, ""},
		{"a product not for sale", paid, models.Product{Code: "base"}, false, "addon_not_for_sale"},
		{"a product it has", paid, sold, true, "already_entitled"},
		{"a trial", with(func(l *models.License) { l.Type = models.TypeTrial }), sold, false, "trial_addon"},
		{"the master license", with(func(l *models.License) { l.Type, l.ID = models.TypeMaster, models.MasterLicenseID }), sold, false, "master_license"},
		{"an expired license", with(func(l *models.License) { l.Status = models.StatusExpired }), sold, false, "license_expired"},
		{"a suspended one", with(func(l *models.License) { l.Status = models.StatusSuspended }), sold, false, "license_suspended"},
		{"a revoked one", with(func(l *models.License) { l.Status = models.StatusRevoked }), sold, false, "license_revoked"},
		{"one still being issued", with(func(l *models.License) { l.Status = models.StatusPending }), sold, false, "license_pending"},
	} {
		err := models.CheckAddon(c.license, c.product, c.entitled)
		if c.code == "" {
			assert.NoError(t, err, c.what)
			continue
		}
		problem, ok := models.AsProblem(err)
		if assert.True(t, ok, "%s: %v", c.what, err) {
			assert.Equal(t, c.code, problem.Code, c.what)
		}
	}
}
