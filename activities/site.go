package activities

import (
	"context"
	"time"
)

// NotifiableInput pages through licenses entitled to a repo.
type NotifiableInput struct {
	Repo  string
	After string
	Limit int
}

// NotifiableLicenses returns the ids of active licenses entitled to a repo,
// after a cursor, in id order.
func (a *Activities) NotifiableLicenses(ctx context.Context, in NotifiableInput) ([]string, error) {
	ls, err := a.Store.NotifiableLicenses(ctx, in.Repo, in.After, in.Limit)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(ls))
	for i, l := range ls {
		ids[i] = l.ID
	}
	return ids, nil
}

// SilentDomainsInput is the silence window.
type SilentDomainsInput struct {
	Silence time.Duration
}

// ReleaseSilentDomains deactivates domains not seen within the window.
func (a *Activities) ReleaseSilentDomains(ctx context.Context, in SilentDomainsInput) (int, error) {
	now := a.now()
	n, err := a.Store.ReleaseSilentDomains(ctx, now.Add(-in.Silence), now)
	if err == nil && n > 0 {
		a.logger().Info("released silent domains", "count", n, "silent_for", in.Silence)
	}
	return n, err
}
