package workflows

import "context"

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

// StampActor returns a message with its Actor set to actor, unless the
// message names one already; other values pass through unchanged.
func StampActor(msg any, actor string) any {
	set := func(field *string) {
		if *field == "" {
			*field = actor
		}
	}
	switch m := msg.(type) {
	case RenewRequest:
		set(&m.Actor)
		return m
	case CorrectExpiryRequest:
		set(&m.Actor)
		return m
	case ChangeTierRequest:
		set(&m.Actor)
		return m
	case SetMaxDomainsRequest:
		set(&m.Actor)
		return m
	case SuspendRequest:
		set(&m.Actor)
		return m
	case ReinstateRequest:
		set(&m.Actor)
		return m
	case RevokeRequest:
		set(&m.Actor)
		return m
	case PaymentFailedRequest:
		set(&m.Actor)
		return m
	case AddEntitlementRequest:
		set(&m.Actor)
		return m
	case PatchRequest:
		set(&m.Actor)
		return m
	}
	return msg
}
