package workflows

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/licenseflow/licenseflow/models"
)

// TaskQueue is the queue licenseflow's workers poll.
const TaskQueue = "licenseflow"

// WorkflowID is the id of a license's workflow; the license id is derived
// from the order id, so one paid order can only ever start one workflow.
func WorkflowID(licenseID string) string { return "license-" + licenseID }

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

// Message names. Each action is both a signal (payment webhooks: durable
// once accepted, answered at once) and an update (API calls: validated
// before anything enters history, answered with the new state).
const (
	Renew         = string(models.ActionRenew)
	ChangeTier    = string(models.ActionChangeTier)
	SetMaxDomains = string(models.ActionSetMaxDomains)
	Suspend       = string(models.ActionSuspend)
	Reinstate     = string(models.ActionReinstate)
	Revoke        = string(models.ActionRevoke)
)

// CorrectExpiry moves the expiry (a correction, not a renewal); an update
// and a signal, like the actions.
const CorrectExpiry = string(models.ActionCorrectExpiry)

// AddEntitlement grants a product beyond the tier (a custom add-on that
// survives tier changes); an update and a signal, like the actions.
const AddEntitlement = "add-entitlement"

// PaymentFailed tells the license a renewal payment failed; it emails the
// customer (dunning). A signal only: payment webhooks send it.
const PaymentFailed = models.LedgerPaymentFailed

// Patch applies a PatchRequest (several changes, all or nothing); it is an
// update only, for the API's PATCH.
const Patch = "patch"

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
