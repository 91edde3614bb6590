package models_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/licenseflow/licenseflow/models"
)

// TestTheRoleTable: owners may do everything; support views and looks
// after licenses (suspend, reinstate, domains) and nothing else.
func TestTheRoleTable(t *testing.T) {
	for _, c := range []struct {
		perm    models.Permission
		support bool
	}{
		{models.PermView, true}, {models.PermLicenseCare, true},
		{models.PermLicenseAdmin, false}, {models.PermCatalog, false}, {models.PermReleases, false}, {models.PermWebhooks, false},
	} {
		assert.True(t, models.RoleOwner.Can(c.perm), c.perm)
		assert.Equal(t, c.support, models.RoleSupport.Can(c.perm), c.perm)
		assert.False(t, models.Role("").Can(c.perm), "no role may do nothing: %s", c.perm)
	}
}
