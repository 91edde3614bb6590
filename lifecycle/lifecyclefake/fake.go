// Package lifecyclefake answers lifecycle.Client in memory, so HTTP
// handlers can be tested without Temporal: it records every call and
// answers with the state and errors a test sets.
package lifecyclefake

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/licenseflow/licenseflow/lifecycle"
	"github.com/licenseflow/licenseflow/models"
)

// Fake is an in-memory lifecycle.Client. Set its answers before the
// requests that use them; read what it was asked afterwards.
type Fake struct {
	mu sync.Mutex

	// State answers updates and queries.
	State lifecycle.Live
	// Errors the matching calls return; nil succeeds.
	StartErr, UpdateErr, SignalErr, QueryErr, AnnounceErr, SignInErr, HealthErr error
	// Issues answers NeedingAttention.
	Issues []lifecycle.WorkflowIssue
	// WebUIURL, when set, makes WorkflowURL answer WebUIURL + "/" + id.
	WebUIURL string
	// Before, when set, runs first in every StartLicense, UpdateLicense,
	// SignalLicense and SendSignIn (outside the fake's lock) with the call's
	// name ("start", "update", "signal", "sign-in"): a test
	// can hold a call there to see what happens meanwhile. An error it
	// returns is the call's answer.
	Before func(call string) error

	starts        []Start
	updates       []Message
	signals       []Message
	queries       []string
	announcements []Announcement
	signIns       []SignIn
}

// Start is a StartLicense call.
type Start struct {
	License      models.License
	Order        models.Order
	Tier         models.Tier
	CustomerName string
	// Actor is who the request context named (models.WithActor).
	Actor string
}

// Message is an UpdateLicense or SignalLicense call; Msg carries the actor
// the request context named, as the real client stamps it.
type Message struct {
	License models.License
	Name    string
	Msg     models.LicenseMessage
}

// Announcement is an AnnounceRelease call.
type Announcement struct {
	Product models.Product
	Release models.Release
}

// SignIn is a SendSignIn call.
type SignIn struct {
	Ref, To  string
	Audience models.Audience
}

var _ lifecycle.Client = (*Fake)(nil)

// StartLicense records the start.
func (f *Fake) StartLicense(ctx context.Context, l models.License, o models.Order, tier models.Tier, customerName string) error {
	if err := f.before("start"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts = append(f.starts, Start{License: l, Order: o, Tier: tier, CustomerName: customerName, Actor: models.ActorFrom(ctx)})
	return f.StartErr
}

// UpdateLicense records the update and answers State or UpdateErr.
func (f *Fake) UpdateLicense(ctx context.Context, l models.License, msg models.LicenseUpdate) (lifecycle.Live, error) {
	if err := f.before("update"); err != nil {
		return lifecycle.Live{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	msg.Stamp(models.ActorFrom(ctx))
	f.updates = append(f.updates, Message{License: l, Name: msg.MessageName(), Msg: msg})
	if f.UpdateErr != nil {
		return lifecycle.Live{}, f.UpdateErr
	}
	return f.State, nil
}

// SignalLicense records the signal.
func (f *Fake) SignalLicense(ctx context.Context, l models.License, msg models.LicenseSignal) error {
	if err := f.before("signal"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	msg.Stamp(models.ActorFrom(ctx))
	f.signals = append(f.signals, Message{License: l, Name: msg.MessageName(), Msg: msg})
	return f.SignalErr
}

func (f *Fake) before(call string) error {
	if f.Before == nil {
		return nil
	}
	return f.Before(call)
}

// QueryLicense records the query and answers State or QueryErr.
func (f *Fake) QueryLicense(_ context.Context, workflowID string) (lifecycle.Live, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, workflowID)
	if f.QueryErr != nil {
		return lifecycle.Live{}, f.QueryErr
	}
	return f.State, nil
}

// AnnounceRelease records the announcement.
func (f *Fake) AnnounceRelease(_ context.Context, p models.Product, r models.Release) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.announcements = append(f.announcements, Announcement{Product: p, Release: r})
	return f.AnnounceErr
}

// SendSignIn records the sign-in email.
func (f *Fake) SendSignIn(_ context.Context, ref, to string, aud models.Audience) error {
	if err := f.before("sign-in"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signIns = append(f.signIns, SignIn{Ref: ref, To: to, Audience: aud})
	return f.SignInErr
}

// NeedingAttention answers Issues.
func (f *Fake) NeedingAttention(context.Context) []lifecycle.WorkflowIssue {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.Issues)
}

// WorkflowURL answers WebUIURL + "/" + workflowID, or "" without WebUIURL.
func (f *Fake) WorkflowURL(workflowID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.WebUIURL == "" || workflowID == "" {
		return ""
	}
	return f.WebUIURL + "/" + workflowID
}

// CheckHealth answers HealthErr.
func (f *Fake) CheckHealth(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.HealthErr
}

// Starts are the StartLicense calls so far.
func (f *Fake) Starts() []Start { return snapshot(f, &f.starts) }

// Updates are the UpdateLicense calls so far.
func (f *Fake) Updates() []Message { return snapshot(f, &f.updates) }

// Signals are the SignalLicense calls so far.
func (f *Fake) Signals() []Message { return snapshot(f, &f.signals) }

// Queries are the workflow ids QueryLicense was asked about so far.
func (f *Fake) Queries() []string { return snapshot(f, &f.queries) }

// Announcements are the AnnounceRelease calls so far.
func (f *Fake) Announcements() []Announcement { return snapshot(f, &f.announcements) }

// SignIns are the SendSignIn calls so far.
func (f *Fake) SignIns() []SignIn { return snapshot(f, &f.signIns) }

// snapshot copies one of the call lists under the lock.
func snapshot[T any](f *Fake, list *[]T) []T {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(*list)
}

// Outage is what the real client answers while Temporal is away (detail
// stands for Temporal's own error text).
func Outage(detail string) error { return fmt.Errorf("%w: %s", lifecycle.ErrUnavailable, detail) }
