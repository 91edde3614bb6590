//go:build mutation

package workflows_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestMutationsAreCaught breaks one lifecycle rule at a time and runs the
// tests that guard it: each broken rule must make them fail. The tree is
// never touched: the mutated file is a copy that `go test -overlay` builds
// in place of the original, so every other package comes from the build
// cache. It is behind the mutation build tag because each mutation is a
// full build and test run:
//
//	go test -tags mutation -run TestMutationsAreCaught -v -timeout 60m ./workflows/
//
// LICENSEFLOW_MUTATIONS=name,name runs only the named mutations.
func TestMutationsAreCaught(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	only := map[string]bool{}
	for _, n := range strings.Split(os.Getenv("LICENSEFLOW_MUTATIONS"), ",") {
		if n != "" {
			only[n] = true
		}
	}
	for _, m := range mutations {
		if len(only) > 0 && !only[m.name] {
			continue
		}
		t.Run(m.name, func(t *testing.T) {
			path := filepath.Join(root, m.file)
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(src), m.old); n != 1 {
				t.Fatalf("%s: the text to mutate occurs %d times, want once: %q", m.file, n, m.old)
			}
			dir := t.TempDir()
			mutated := filepath.Join(dir, filepath.Base(m.file))
			if err := os.WriteFile(mutated, []byte(strings.Replace(string(src), m.old, m.new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{path: mutated}})
			overlayFile := filepath.Join(dir, "overlay.json")
			if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"test", "-count=1", "-overlay=" + overlayFile}, m.run...)
			cmd := exec.Command("go", args...)
			cmd.Dir = root
			began := time.Now()
			out, err := cmd.CombinedOutput()
			caught := failures(string(out))
			switch {
			case err == nil:
				t.Errorf("NOT CAUGHT: %s (%s): go %s passed", m.name, m.why, strings.Join(m.run, " "))
			case buildFailed.Match(out):
				t.Errorf("%s: the mutation does not build, so it proves nothing:\n%s", m.name, clip(string(out)))
			case len(caught) == 0:
				t.Errorf("%s: go test failed without a failing test:\n%s", m.name, clip(string(out)))
			default:
				t.Logf("caught: %s (%s) in %.0f s by %s", m.name, m.why, time.Since(began).Seconds(), strings.Join(caught, ", "))
			}
		})
	}
}

// mutation is one broken rule: old replaced by new in file, and the go test
// arguments that must then fail.
type mutation struct {
	name, why string
	file      string
	old, new  string
	run       []string
}

var mutations = []mutation{
	{name: "reminder-offset", why: "the 30-day reminder goes out at 29 days",
		file: "workflows/state.go", old: "{StepReminder30, exp.Add(-30 * 24 * time.Hour)}", new: "{StepReminder30, exp.Add(-29 * 24 * time.Hour)}",
		run: []string{"-run", "TestModel", "./workflows/"}},
	{name: "grace", why: "the default grace period is 6 days, not 7",
		file: "models/license.go", old: "DefaultGracePeriod = 7 * 24 * time.Hour", new: "DefaultGracePeriod = 6 * 24 * time.Hour",
		run: []string{"-run", "TestModel", "./workflows/"}},
	{name: "renewal-base", why: "a renewal runs from now even while the expiry is ahead",
		file: "workflows/changes.go", old: "if l.st.ExpiresAt != nil && l.st.ExpiresAt.After(now) {", new: "if false && l.st.ExpiresAt != nil {",
		run: []string{"-run", "TestModel", "./workflows/"}},
	{name: "renewal-after-expiry-from-old-expiry", why: "a renewal of an expired license runs from its old expiry",
		file: "workflows/changes.go", old: "if l.st.ExpiresAt != nil && l.st.ExpiresAt.After(now) {", new: "if l.st.ExpiresAt != nil {",
		run: []string{"-run", "TestRenewalAfterTheWorkflowClosedResumesIt", "./integration/"}},
	{name: "store-drops-add-ons", why: "a tier change deletes custom add-ons too",
		file: "store/entitlement.go", old: `s.db.Where("license_id = ? AND source = ?", licenseID, models.SourceTier).Delete`, new: `s.db.Where("license_id = ?", licenseID).Delete`,
		run: []string{"./store/", "./workflows/"}},
	{name: "masking", why: "a masked DLID shows eight leading characters",
		file: "models/license.go", old: `return dlid[:4] + "…" + dlid[len(dlid)-4:]`, new: `return dlid[:8] + "…" + dlid[len(dlid)-4:]`,
		run: []string{"./models/", "./api/", "./workflows/"}},
	{name: "ledger-line-lost", why: "a change of renewals adds no ledger line",
		file: "workflows/ledger.go", old: `field("renewals", strconv.Itoa(before.Renewals), strconv.Itoa(after.Renewals))`, new: `_ = strconv.Itoa`,
		run: []string{"./workflows/"}},
	{name: "ledger-status-line-lost", why: "a change of status adds no ledger line",
		file: "workflows/ledger.go", old: `field("status", string(before.Status), string(after.Status))`, new: ``,
		run: []string{"-run", "TestTheLedgerShowsEveryChangeWithItsActor|TestModel", "./workflows/", "./integration/"}},
	{name: "configured-grace-ignored", why: "a configured grace period is replaced by the default",
		file: "workflows/state.go", old: "if p.GracePeriod <= 0 {", new: "if true {",
		run: []string{"-run", "TestRenewalAfterTheWorkflowClosedResumesIt|TestModel", "./workflows/", "./integration/"}},
	{name: "term-limit-lowered", why: "terms are limited to 60 months",
		file: "models/catalog.go", old: "MaxTermMonths   = 120", new: "MaxTermMonths   = 60",
		run: []string{"./api/", "./workflows/"}},
	{name: "domain-limit-lowered", why: "licenses are limited to 50 domains",
		file: "models/catalog.go", old: "MaxDomainsLimit = 10000", new: "MaxDomainsLimit = 50",
		run: []string{"./api/", "./workflows/"}},
	{name: "expiry-limit-lowered", why: "an expiry given as a date may lie at most 5 years ahead",
		file: "models/catalog.go", old: "MaxExpiryYears = 10", new: "MaxExpiryYears = 5",
		run: []string{"-run", "ExpiryDate.*TenYears|TestModel", "./models/", "./api/", "./integration/", "./workflows/"}},
	{name: "expiry-limit-in-days", why: "ten years are counted as 3,650 days, short of the longest term",
		file: "models/catalog.go", old: "now.AddDate(MaxExpiryYears, 0, 0)", new: "now.Add(MaxExpiryYears * 365 * 24 * time.Hour)",
		run: []string{"-run", "ExpiryDate.*TenYears|TestModel", "./models/", "./workflows/"}},
	{name: "email-content-lost", why: "the payment-failed email loses its amount and payment URL",
		file: "activities/email.go", old: "AmountDue: in.AmountDue, PaymentURL: in.PaymentURL,", new: "",
		run: []string{"./activities/", "./email/", "./workflows/"}},
	{name: "invoice-number-lost", why: "emails lose the invoice number and total",
		file: "activities/email.go", old: "data.InvoiceNumber, data.InvoiceTotal = inv.Number, models.FormatMoney(inv.TotalCents, inv.Currency)", new: "_ = inv",
		run: []string{"./activities/", "./email/", "./workflows/"}},
	{name: "trial-with-grace", why: "a trial validates through a grace period after it ends",
		file: "workflows/state.go", old: "	if s.onTrial() {\n		return 0\n	}", new: "	_ = s.onTrial",
		run: []string{"-run", "TestATrialIsNeverInvoicedAndEndsWithoutGrace|TestModel", "./workflows/"}},
	{name: "trial-renewed-free", why: "a trial is renewed without a paid order",
		file: "workflows/changes.go", old: `	case l.st.onTrial() && r.OrderID == "":`, new: `	case false:`,
		run: []string{"-run", "TestATrialIsNotRenewedWithoutPayment|TestModel", "./workflows/"}},
	{name: "addon-not-invoiced", why: "a bought add-on is granted but its order is never invoiced",
		file: "workflows/changes.go", old: "	number, err := l.invoice(ctx, r.OrderID)\n	if err != nil {\n		return asRejection(err)\n	}\n	l.outbox", new: "	number := \"\"\n	l.outbox",
		run: []string{"-run", "Addon|TestModel", "./workflows/"}},
	{name: "addon-price-unchecked", why: "an add-on Checkout session is granted whatever it paid",
		file: "paymenthooks/actions.go", old: "if currency == p.AddonCurrency && paid >= p.AddonPriceCents {", new: "if true {",
		run: []string{"./paymenthooks/"}},
	{name: "provider-price-unchecked", why: "a PayPal or Paddle payment issues a tier whatever it paid",
		file: "paymenthooks/actions.go", old: "if currency == tier.Currency && paid >= want {", new: "if true {",
		run: []string{"-run", "PayPal|Paddle", "./paymenthooks/"}},
	{name: "paypal-cert-host-unchecked", why: "PayPal's signing certificate is fetched from any host the delivery names",
		file: "payments/paypal/certs.go", old: "case !slices.Contains(v.CertHosts, u.Host):", new: "case !slices.Contains(v.CertHosts, u.Host) && false:",
		run: []string{"./payments/paypal/", "./paymenthooks/"}},
	{name: "paddle-signature-unchecked", why: "a Paddle notification verifies whatever its h1",
		file: "payments/paddle/paddle.go", old: "if hmac.Equal(h, want) {", new: "if hmac.Equal(h, want) || true {",
		run: []string{"./payments/paddle/", "./paymenthooks/"}},
	{name: "paddle-refund-unapproved", why: "a Paddle refund suspends before Paddle approved it",
		file: "paymenthooks/paddle.go", old: `	case a.Status != "approved":`, new: `	case false:`,
		run: []string{"-run", "Paddle", "./paymenthooks/"}},
	{name: "paypal-partial-refund-full", why: "a partial PayPal refund suspends the license",
		file: "paymenthooks/paypal.go", old: "full := refunded >= o.AmountCents", new: "full := refunded > 0",
		run: []string{"-run", "PayPal", "./paymenthooks/"}},
	// Unguarded changes to workflow code: each must fail the replay of a
	// recorded history.
	{name: "replay-invoice-before-delivery", why: "the purchase is invoiced before its key is delivered",
		file: "workflows/license.go", old: `	l.email(ctx, outgoingEmail{template: activities.TemplateDelivery, step: "delivery"})
	l.st.Delivered = true
	number, err := l.invoice(ctx, l.st.OrderID)
	if err != nil {
		return err
	}`, new: `	number, err := l.invoice(ctx, l.st.OrderID)
	if err != nil {
		return err
	}
	l.email(ctx, outgoingEmail{template: activities.TemplateDelivery, step: "delivery"})
	l.st.Delivered = true`,
		run: []string{"-run", "TestRecordedHistoriesReplay", "./workflows/"}},
	{name: "replay-grace-ended-dropped", why: "the end of grace is no longer a deadline of its own",
		file: "workflows/state.go", old: "{StepGraceEnded, exp.Add(p.GracePeriod)},", new: "",
		run: []string{"-run", "TestRecordedHistoriesReplay", "./workflows/"}},
	{name: "replay-rearmed-timer-kept", why: "the timer of a re-armed deadline is left running",
		file: "workflows/license.go", old: "	defer cancel()\n	timer := workflow.NewTimerWithOptions(tctx", new: "	_ = cancel\n	timer := workflow.NewTimerWithOptions(tctx",
		run: []string{"-run", "TestRecordedHistoriesReplay", "./workflows/"}},
	// A fork's new side must fail replay of a history recorded on it when
	// it is taken away. (Its old side replays the older histories either
	// way: the runs recorded before it never took a path it changes.)
	{name: "replay-fork-always-old", why: "a resumed run reaches every deadline again even in runs recorded after the fork",
		file: "workflows/license.go", old: "	if workflow.GetVersion(ctx, changeSerializedChanges, workflow.DefaultVersion, 1) >= 1 {\n		// The closed run reached", new: "	if false {\n		// The closed run reached",
		run: []string{"-run", "TestRecordedHistoriesReplay", "./workflows/"}},
	{name: "resume-reaches-deadlines-again", why: "a resumed license reaches every past deadline again",
		file: "workflows/license.go", old: "			if d.Step != StepRetentionEnded && !d.At.After(now) {", new: "			if d.Step == \"\" && !d.At.After(now) {",
		run: []string{"-run", "TestModel", "./workflows/"}},
	{name: "stale-deadline-runs", why: "a deadline runs after a change that held the lock moved the expiry",
		file: "workflows/license.go", old: "		if !ok || next.Step != d.Step || !next.At.Equal(d.At) || next.At.After(now) {", new: "		if !ok && next.Step != d.Step && !next.At.Equal(d.At) && next.At.After(now) {",
		run: []string{"-run", "TestModel|TestARenewalLandingAsAReminderFallsDue", "./workflows/"}},
	{name: "renewals-not-kept", why: "a resumed license counts its renewals from zero",
		file: "workflows/license.go", old: "Status: got.Status, Renewals: got.Renewals, Revision: got.Revision,", new: "Status: got.Status, Revision: got.Revision,",
		run: []string{"-run", "TestModel", "./workflows/"}},
	{name: "replay-extra-projection", why: "every run projects the license once more before it issues or resumes",
		file: "workflows/license.go", old: "(LicenseResult, error) {\n	if err := l.issueLocked(ctx); err != nil {", new: "(LicenseResult, error) {\n	l.publish(ctx)\n	if err := l.issueLocked(ctx); err != nil {",
		run: []string{"-run", "TestRecordedHistoriesReplay", "./workflows/"}},
}

var (
	buildFailed = regexp.MustCompile(`(?m)\[build failed\]|\[setup failed\]|^# `)
	failingTest = regexp.MustCompile(`(?m)^\s*--- FAIL: (\S+)`)
)

// failures names the failing tests in go test's output.
func failures(out string) []string {
	var names []string
	for _, m := range failingTest.FindAllStringSubmatch(out, -1) {
		if !strings.Contains(m[1], "/") {
			names = append(names, m[1])
		}
	}
	return names
}

func clip(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}
