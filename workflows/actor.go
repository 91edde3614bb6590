package workflows

import (
	"context"
	"reflect"
)

type actorKey struct{}

// WithActor marks ctx with who is asking for changes ("token:crm",
// "admin:ops@vendor.example", "stripe:evt_…"). The HTTP side sets it where
// it learns who the caller is; the one door to Temporal stamps it on every
// message it sends, so the license's ledger names the actor.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFrom is the actor WithActor put in ctx, or "".
func ActorFrom(ctx context.Context) string {
	a, _ := ctx.Value(actorKey{}).(string)
	return a
}

// StampActor returns a message with its Actor field set to actor, unless
// the message names one already; values without an Actor field pass
// through unchanged. Every message type has the field (a test holds them
// to it), so new messages are stamped without a change here.
func StampActor(msg any, actor string) any {
	v := reflect.ValueOf(msg)
	if v.Kind() != reflect.Struct {
		return msg
	}
	stamped := reflect.New(v.Type()).Elem()
	stamped.Set(v)
	field := stamped.FieldByName("Actor")
	if !field.IsValid() || field.Kind() != reflect.String || field.String() != "" {
		return msg
	}
	field.SetString(actor)
	return stamped.Interface()
}
