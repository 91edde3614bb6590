package models_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/licenseflow/licenseflow/models"
)

// TestEveryMessageKnowsItsNameAndHowItMayBeSent: the names are those of the
// workflow's history (a change would strand messages sent to running
// licenses); the patch is an update only and the dunning notice a signal
// only, and the types say so.
func TestEveryMessageKnowsItsNameAndHowItMayBeSent(t *testing.T) {
	update := reflect.TypeFor[models.LicenseUpdate]()
	signal := reflect.TypeFor[models.LicenseSignal]()
	for _, c := range []struct {
		msg              models.LicenseMessage
		name             string
		update, signaled bool
	}{
		{&models.RenewRequest{}, "renew", true, true},
		{&models.CorrectExpiryRequest{}, "correct-expiry", true, true},
		{&models.ChangeTierRequest{}, "change-tier", true, true},
		{&models.SetMaxDomainsRequest{}, "set-max-domains", true, true},
		{&models.SuspendRequest{}, "suspend", true, true},
		{&models.ReinstateRequest{}, "reinstate", true, true},
		{&models.RevokeRequest{}, "revoke", true, true},
		{&models.AddEntitlementRequest{}, "add-entitlement", true, true},
		{&models.PaymentFailedRequest{}, "payment-failed", false, true},
		{&models.PatchRequest{}, "patch", true, false},
	} {
		typ := reflect.TypeOf(c.msg)
		assert.Equal(t, c.name, c.msg.MessageName(), typ.String())
		assert.Equal(t, c.update, typ.Implements(update), "%s as an update", typ)
		assert.Equal(t, c.signaled, typ.Implements(signal), "%s as a signal", typ)
		assert.False(t, typ.Elem().Implements(update) || typ.Elem().Implements(signal),
			"%s by value cannot be sent: the door could not stamp its actor", typ.Elem())
	}
}

func TestTheDoorStampsTheActorUnlessTheMessageNamesOne(t *testing.T) {
	ctx := models.WithActor(context.Background(), "token:crm")
	fresh := &models.SuspendRequest{Reason: "refund"}
	fresh.Stamp(models.ActorFrom(ctx))
	assert.Equal(t, "token:crm", fresh.SentBy())

	named := &models.RenewRequest{Months: 12, Actor: "stripe:evt_1"}
	named.Stamp(models.ActorFrom(ctx))
	assert.Equal(t, "stripe:evt_1", named.SentBy(), "a payment event names itself")
	assert.Equal(t, "", models.ActorFrom(context.Background()))
}
