package activities

import (
	"context"
	"time"
)

// NotifiableInput pages through licenses entitled to a repo and on the
// release's channel. Channel is empty in histories recorded before it
// existed: then every entitled license is notified, as it was.
type NotifiableInput struct {
	Repo    string
	Channel string `json:",omitempty"`
	After   string
	Limit   int
}

// NotifiableResult is a page of license ids.
type NotifiableResult struct {
	LicenseIDs []string
}

// NotifiableLicenses returns the ids of active licenses entitled to a repo
// and on the release's channel, after a cursor, in id order.
func (a *Activities) NotifiableLicenses(ctx context.Context, in NotifiableInput) (NotifiableResult, error) {
	ls, err := a.Store.NotifiableLicenses(ctx, in.Repo, in.Channel, in.After, in.Limit)
	if err != nil {
		return NotifiableResult{}, err
	}
	ids := make([]string, len(ls))
	for i, l := range ls {
		ids[i] = l.ID
	}
	return NotifiableResult{LicenseIDs: ids}, nil
}

// SilentDomainsInput is the silence window.
type SilentDomainsInput struct {
	Silence time.Duration
}

// SilentDomainsResult counts the domains released.
type SilentDomainsResult struct {
	Released int
}

// ReleaseSilentDomains deactivates domains not seen within the window.
func (a *Activities) ReleaseSilentDomains(ctx context.Context, in SilentDomainsInput) (SilentDomainsResult, error) {
	now := a.now()
	n, err := a.Store.ReleaseSilentDomains(ctx, now.Add(-in.Silence), now)
	if err == nil && n > 0 {
		a.logger().Info("released silent domains", "count", n, "silent_for", in.Silence)
	}
	return SilentDomainsResult{Released: n}, err
}
