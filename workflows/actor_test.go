package workflows

import (
	"context"
	"reflect"
	"testing"
)

// TestEveryMessageCanBeStampedWithItsActor keeps StampActor in step with the
// message types: each one that carries an Actor field is stamped, and an
// actor already named is kept.
func TestEveryMessageCanBeStampedWithItsActor(t *testing.T) {
	messages := []message{
		RenewRequest{}, CorrectExpiryRequest{}, ChangeTierRequest{}, SetMaxDomainsRequest{}, SuspendRequest{},
		ReinstateRequest{}, RevokeRequest{}, PaymentFailedRequest{}, AddEntitlementRequest{}, PatchRequest{},
	}
	for _, m := range messages {
		stamped, ok := StampActor(m, "token:crm").(message)
		if !ok || stamped.sentBy() != "token:crm" {
			t.Errorf("%T is not stamped with its actor", m)
		}
		named := reflect.New(reflect.TypeOf(m)).Elem()
		named.FieldByName("Actor").SetString("stripe:evt_1")
		if got := StampActor(named.Interface(), "token:crm").(message).sentBy(); got != "stripe:evt_1" {
			t.Errorf("%T: an actor already named was replaced by %q", m, got)
		}
	}
	if got := ActorFrom(WithActor(context.Background(), "admin:ops@vendor.example")); got != "admin:ops@vendor.example" {
		t.Errorf("ActorFrom = %q", got)
	}
}
