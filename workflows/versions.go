package workflows

// versionChanges lists every workflow.GetVersion change id in this package:
// the one place that says which forks exist, since when, what each guards
// and when it may go. versions_test.go fails on a GetVersion call whose id
// is not listed here, and on a listed id that no code uses.
//
// Replay is why forks exist: a worker replays a running workflow's history
// against today's code, and code that now issues other commands (another
// activity, a timer more or less, the same steps in another order) fails
// that replay. A change to what a workflow does therefore keeps the old
// path for the runs that started on it:
//
//  1. Guard the change:
//     if workflow.GetVersion(ctx, "invoice-before-delivery", workflow.DefaultVersion, 1) == workflow.DefaultVersion { old path } else { new path }
//     with the id as a string literal or a const of this package.
//  2. Add its line below, e.g.
//     {ID: "invoice-before-delivery", Added: "2027-02-01",
//     Guards: "issue() invoices before it delivers the key; runs started earlier deliver first",
//     RemovableAfter: "2027-02-01 + 120 months (longest term) + 7 days grace + 365 days retention"}
//  3. Record histories of the new code beside the old ones:
//     LICENSEFLOW_RECORD_HISTORIES=1 go test ./integration -run TestHistoriesReplay
//     (files are named after the day they were recorded), and check
//     go test ./workflows -run TestRecordedHistoriesReplay.
//
// When a fork may go: a license's run continues as new at every renewal and
// closes at the end of retention, so no run that started before the change
// is open later than its deploy date + the longest term (models.MaxTermMonths,
// an expiry corrected to ten years ahead included) + grace + retention.
// Lifetime licenses and idle webhook dispatchers are the exception: their
// runs only continue as new when Temporal suggests it, so before removing a
// fork also ask the Web UI (or `temporal workflow count`) for
// ExecutionStatus = "Running" AND StartTime < "<deploy date>" and find none.
// Then delete the old path, the GetVersion call, its line here, and the
// recorded histories older than the change.
var versionChanges = []versionChange{
	{
		ID: changeSerializedChanges, Added: "2026-12-05",
		Guards: "a run issues or loads its license holding the lock; a resumed license counts the deadlines before " +
			"the end of retention as reached; runDeadlineStep checks, once it holds the lock, that its deadline is " +
			"still the one due. Runs started earlier let a message apply beside the issue's last projection, reach " +
			"every deadline of a resumed license again, and run the deadline they woke for even when a change made " +
			"while they waited moved the expiry",
		RemovableAfter: "2026-12-05 + 120 months (longest term) + grace + retention, and no Running license workflow started before 2026-12-05",
	},
	{
		ID: changeTrials, Added: "2026-12-05",
		Guards: "a trial issued or resumed from now on follows the trial rules (LicenseState.TrialRules): no invoice, " +
			"no grace, a trial-ending notice instead of the 30- and 7-day reminders, converted to commercial by a paid " +
			"renewal. Trials issued earlier were invoiced and keep the license rules",
		RemovableAfter: "2026-12-05 + 90 days (longest trial) + 365 days retention, and no Running trial workflow started before 2026-12-05",
	},
}

// changeSerializedChanges: see versionChanges.
const changeSerializedChanges = "serialized-changes"

// changeTrials: see versionChanges.
const changeTrials = "trials"

// versionChange is one workflow.GetVersion fork.
type versionChange struct {
	// ID is the change id passed to workflow.GetVersion.
	ID string
	// Added is the day the fork was added, YYYY-MM-DD.
	Added string
	// Guards says what the new path does and what runs on the old one.
	Guards string
	// RemovableAfter says when no run can take the old path any more.
	RemovableAfter string
}
