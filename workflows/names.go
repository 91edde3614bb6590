package workflows

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
)

// TaskQueue is the queue licenseflow's workers poll.
const TaskQueue = "licenseflow"

// ReleaseWorkflowID names the notification workflow of one release, so
// publishing the same release twice notifies once.
func ReleaseWorkflowID(product, version string) string { return "release-" + product + "-" + version }

// SignInWorkflowID names the workflow that emails one magic link.
func SignInWorkflowID(key string) string { return "signin-" + key }

// SilentDomainsSchedule is the id of the daily schedule that releases
// domains silent for too long.
const SilentDomainsSchedule = "licenseflow-release-silent-domains"

// WebhookDispatcherID names the workflow that delivers one webhook
// endpoint's events.
func WebhookDispatcherID(endpointID string) string { return "webhooks-" + endpointID }

// WakeWebhooks is the signal telling a webhook dispatcher that deliveries
// are waiting (best effort: the worker's overdue check repeats it).
const WakeWebhooks = "wake"

// QueryState returns the live LicenseState.
const QueryState = "state"

// Custom search attributes, so operators can filter licenses in the Web UI
// (e.g. LicenseTier="pos" AND CustomerEmail="a@b.c" AND LicenseStatus="expiring").
var (
	AttrLicenseStatus    = temporal.NewSearchAttributeKeyKeyword("LicenseStatus")
	AttrLicenseTier      = temporal.NewSearchAttributeKeyKeyword("LicenseTier")
	AttrCustomerEmail    = temporal.NewSearchAttributeKeyKeyword("CustomerEmail")
	AttrLicenseExpiresAt = temporal.NewSearchAttributeKeyTime("LicenseExpiresAt")
	// AttrStripeCustomerID is set when the workflow starts from a Stripe purchase.
	AttrStripeCustomerID = temporal.NewSearchAttributeKeyKeyword("StripeCustomerID")
)

// SearchAttributes lists the custom search attributes and their types, for
// registering them on a namespace.
func SearchAttributes() map[string]enumspb.IndexedValueType {
	return map[string]enumspb.IndexedValueType{
		AttrLicenseStatus.GetName():    enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		AttrLicenseTier.GetName():      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		AttrCustomerEmail.GetName():    enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		AttrLicenseExpiresAt.GetName(): enumspb.INDEXED_VALUE_TYPE_DATETIME,
		AttrStripeCustomerID.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	}
}

// Rejection types: an update validator or handler refusing a message
// returns an ApplicationError of one of these types, which the API maps to
// an HTTP status; the error's message is meant for a person.
const (
	RejectConflict     = "Conflict"     // illegal transition (409)
	RejectInvalidValue = "InvalidValue" // bad field value (422)
	// RejectRetryLater: the run is about to continue as new; the same update
	// sent again reaches the next run (callers retry it after a moment).
	RejectRetryLater = "ContinuingAsNew"
)
