package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
)

// Browser tests drive Debian's headless Chromium. RequireBrowserEnv=1 (CI)
// makes a missing Chromium a failure; elsewhere the tests are skipped.
// ScreenshotsEnv=1 writes the README's screenshots to docs/.
const (
	RequireBrowserEnv = "LICENSEFLOW_REQUIRE_BROWSER"
	ScreenshotsEnv    = "LICENSEFLOW_SCREENSHOTS"
)

// browser starts a fresh headless Chromium for the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv(RequireBrowserEnv) == "1" {
			t.Fatalf("Chromium is required (%s=1) but not installed: apt-get install chromium", RequireBrowserEnv)
		}
		t.Skip("Chromium not installed (apt-get install chromium); skipping browser tests")
	}
	// Not t.TempDir: Chromium's helpers may still write to their profile for
	// a moment after the browser exits, which would fail the test's cleanup.
	profile, err := os.MkdirTemp("", "licenseflow-chromium-")
	require.NoError(t, err)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Headless,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.UserDataDir(profile),
		chromedp.WindowSize(1200, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
		for range 20 { // best effort: see above
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	require.NoError(t, chromedp.Run(ctx), "start Chromium")
	return ctx
}

// submit runs an action that makes the page navigate (a submitted form, a
// clicked link or button) and returns once the new page has loaded: what
// runs next reads the new document, never a node of the old one (reading
// a node of the page being replaced was "No node with given id found").
func submit(t *testing.T, ctx context.Context, action chromedp.Action) {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, action)
	require.NoError(t, err, "navigate")
	require.NotNil(t, resp, "a page loaded")
	require.Less(t, resp.Status, int64(500), "the page answered %d", resp.Status)
}

// text waits until sel is on the page and reads its text content. It
// evaluates JavaScript in the page, so it holds no DOM node ids that a
// navigation could invalidate.
func text(sel string, out *string) chromedp.Action {
	return chromedp.Poll(fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.textContent : false })()`, sel), out)
}

// screenshot saves a full-page PNG under docs/ when ScreenshotsEnv=1.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if os.Getenv(ScreenshotsEnv) != "1" {
		return
	}
	var png []byte
	require.NoError(t, chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)))
	require.NoError(t, os.MkdirAll(filepath.Join("..", "docs"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join("..", "docs", name), png, 0o644))
}

func TestCustomerUsesThePortalInABrowser(t *testing.T) {
	ctx := browser(t)
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	v := issue(t, s, `{"user_email":"ada@example.com","customer_name":"Ada Lovelace","tier":"pos","max_domains":3}`)
	issue(t, s, `{"user_email":"ada@example.com","tier":"crm"}`)
	for _, d := range []string{"shop.ada.example", "staging.ada.example"} {
		_, _, err := s.Store.Activate(ctx, v.ID, d, time.Now())
		require.NoError(t, err)
	}
	require.Equal(t, 201, publish(t, s, "pos", "1.4.0", "stable", []byte("release 1.4.0")).Status)
	require.Equal(t, 201, publish(t, s, "pos", "1.3.2", "stable", []byte("release 1.3.2")).Status)
	invoices, err := s.Store.ListInvoices(ctx, v.ID)
	require.NoError(t, err)

	var notice string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(s.API.URL+"/portal"),
		chromedp.SendKeys(`input[name="email"]`, "ada@example.com"),
	))
	submit(t, ctx, chromedp.Submit(`input[name="email"]`))
	require.NoError(t, chromedp.Run(ctx, text(`.notice`, &notice)))
	assert.Contains(t, notice, "sign-in link is on its way")

	var heading string
	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(s.API.URL+signInLink(t, s, "ada@example.com"))))
	submit(t, ctx, chromedp.Click(`#confirm-signin button`))
	require.NoError(t, chromedp.Run(ctx, text(`h1`, &heading)))
	assert.Equal(t, "Your licenses", heading)
	screenshot(t, ctx, "portal-licenses.png")

	// The license: the copy button carries the full key and copies it.
	var payload, copied string
	submit(t, ctx, chromedp.Click(`a[href="/portal/licenses/`+v.ID+`"]`))
	require.NoError(t, chromedp.Run(ctx,
		chromedp.WaitVisible(`#copy-dlid`),
		chromedp.AttributeValue(`#copy-dlid`, "data-copy", &payload, nil),
		chromedp.Click(`#copy-dlid`),
		chromedp.Poll(`document.querySelector("#copy-dlid").dataset.copied === "true"`, nil),
		chromedp.Text(`#copy-dlid`, &copied),
	))
	assert.Equal(t, v.DLID, payload)
	assert.Equal(t, "Copied", copied)
	var shownKey string
	require.NoError(t, chromedp.Run(ctx, chromedp.Text(`#dlid`, &shownKey)))
	assert.Equal(t, models.MaskDLID(v.DLID), shownKey, "the page shows the key masked")
	screenshot(t, ctx, "portal-license.png")

	// Deactivate a domain.
	submit(t, ctx, chromedp.Click(`form[action$="/deactivate"] button`))
	require.NoError(t, chromedp.Run(ctx, text(`.notice`, &notice)))
	assert.Contains(t, notice, "was deactivated")
	n, err := s.Store.CountActiveDomains(ctx, v.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	var downloads int
	require.NoError(t, chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll('a[href^="/downloads/pos/"]').length`, &downloads)))
	assert.Equal(t, 2, downloads, "current and previous versions")

	// Download an invoice PDF with the session's cookies.
	var magic string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(s.API.URL+"/portal"),
		chromedp.WaitVisible(`a.invoice-pdf`),
		chromedp.Evaluate(`fetch("/portal/invoices/`+invoices[0].Number+`.pdf").then(r => r.arrayBuffer()).then(b => String.fromCharCode(...new Uint8Array(b).slice(0, 5)))`,
			&magic, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }),
	))
	assert.Equal(t, "%PDF-", magic)
}

func TestOperatorUsesTheDashboardInABrowser(t *testing.T) {
	ctx := browser(t)
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	v := issue(t, s, `{"user_email":"grace@example.com","customer_name":"Grace Hopper","tier":"suite"}`)
	issue(t, s, `{"user_email":"linus@example.com","tier":"pos"}`)
	issue(t, s, `{"user_email":"ken@example.com","tier":"restaurant"}`)
	// A year of history: purchases and renewals in earlier months.
	history := seedSalesHistory(t, s.Store)
	renew := s.Call("PATCH", "/api/v1/licensing/licenses/"+v.ID, `{"expires_months":12}`)
	require.Equal(t, 200, renew.Status, string(renew.Body))
	before := s.License(v.ID)

	var newCount, renewedCount string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(s.API.URL+"/admin"),
		chromedp.SendKeys(`#token-signin input[name="token"]`, s.Token),
	))
	submit(t, ctx, chromedp.Submit(`#token-signin input[name="token"]`))
	require.NoError(t, chromedp.Run(ctx,
		text(`#stat-new`, &newCount),
		text(`#stat-renewed`, &renewedCount),
	))
	assert.Equal(t, fmt.Sprint(3+history.New), newCount)
	assert.Equal(t, fmt.Sprint(1+history.Renewed), renewedCount)
	var bars, tierRows int
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Evaluate(`document.querySelectorAll("svg.chart rect").length`, &bars),
		chromedp.Evaluate(`document.querySelectorAll("#revenue tbody tr").length`, &tierRows),
	))
	assert.Equal(t, 36, bars, "twelve months of three bars")
	assert.GreaterOrEqual(t, tierRows, 3)
	screenshot(t, ctx, "admin-dashboard.png")

	// Extend a license: the workflow applies it, the page shows the new expiry.
	var expires, notice, link string
	want := models.AddMonths(*before.ExpiresAt, 12).UTC().Format("2 Jan 2006")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(s.API.URL+"/admin/licenses/"+v.ID),
		chromedp.AttributeValue(`#workflow-link`, "href", &link, nil),
		chromedp.SetValue(`#extend-form input[name="months"]`, "12"),
	))
	submit(t, ctx, chromedp.Submit(`#extend-form input[name="months"]`))
	require.NoError(t, chromedp.Run(ctx,
		text(`.notice`, &notice),
		text(`#expires`, &expires),
	))
	assert.Contains(t, notice, "Done")
	assert.Equal(t, want, strings.TrimSpace(expires))
	assert.Contains(t, link, "/workflows/license-"+v.ID)
	screenshot(t, ctx, "admin-license.png")
	assert.Equal(t, 2, s.License(v.ID).Workflow.Renewals, "the extension went through the workflow")
}

// seedSalesHistory records paid purchases and renewals over the past
// eleven months, straight into the database (as if licenseflow had run).
func seedSalesHistory(t *testing.T, store *store.Store) models.MonthMetrics {
	t.Helper()
	var total models.MonthMetrics
	now := time.Now().UTC()
	tiers := []string{"pos", "restaurant", "crm", "erp", "suite"}
	for m := 1; m <= 11; m++ {
		at := time.Date(now.Year(), now.Month(), 10, 12, 0, 0, 0, time.UTC).AddDate(0, -m, 0)
		for i := range 1 + (m*7)%5 {
			tier, err := store.GetTier(ctx, tiers[(m+i)%len(tiers)])
			require.NoError(t, err)
			id := fmt.Sprintf("hist-%d-%d", m, i)
			_, l, _, err := store.RecordPurchase(ctx, models.Purchase{OrderID: id, Email: id + "@example.com", Tier: tier, MaxDomains: 1,
				Months: 12, AmountCents: tier.PriceCents, Currency: tier.Currency, PaidAt: at})
			require.NoError(t, err)
			total.New++
			if i%2 == 1 {
				_, err := store.RecordLicenseOrder(ctx, models.LicenseOrder{OrderID: id + "-renewal", License: l, Months: 12,
					AmountCents: tier.PriceCents, Currency: tier.Currency, PaidAt: at.Add(time.Hour)})
				require.NoError(t, err)
				total.Renewed++
			}
		}
	}
	return total
}

// The Temporal Web UI shows a license workflow's input decoded only to a
// signed-in operator: Temporal stores ciphertext, and the UI asks the API's
// codec endpoint, with the dashboard cookie, to decrypt what it shows.
func TestWebUIDecodesHistoryOnlyForSignedInOperators(t *testing.T) {
	ctx := browser(t)
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{Embedded: true, WebUI: true})
	v := issue(t, s, `{"user_email":"grace@example.com","customer_name":"Grace Hopper","tier":"suite"}`)
	d, err := s.Temporal.DescribeWorkflowExecution(ctx, models.LicenseWorkflowID(v.ID), "")
	require.NoError(t, err)
	page := s.WebUIURL() + "/namespaces/default/workflows/" + models.LicenseWorkflowID(v.ID) + "/" +
		d.WorkflowExecutionInfo.Execution.RunId + "/history"

	// Anonymous: the UI shows the stored ciphertext and says the codec
	// endpoint would not answer (the page is read once it shows either that
	// or a decoded input).
	const rendered = `(t => (t.includes("Codec Server could not connect") || t.includes("CustomerEmail")) && t.includes("Workflow Execution Started"))(document.body.innerText)`
	body, err := pageTextOnce(ctx, page, rendered)
	require.NoError(t, err)
	assert.Contains(t, body, "Codec Server could not connect")
	for _, secret := range []string{"grace@example.com", "Grace Hopper", v.DLID, "CustomerEmail"} {
		assert.NotContains(t, body, secret, "an anonymous visitor of the Web UI reads %q", secret)
	}

	// A signed-in operator: the same page, decoded through the codec
	// endpoint with the dashboard's cookie.
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(s.API.URL+"/admin"),
		chromedp.SendKeys(`#token-signin input[name="token"]`, s.Token),
	))
	submit(t, ctx, chromedp.Submit(`#token-signin input[name="token"]`))
	body, err = pageTextOnce(ctx, page, `document.body.innerText.includes('"CustomerEmail": "grace@example.com"')`)
	require.NoError(t, err, "the signed-in operator's Web UI shows the decoded input (the codec endpoint answers its origin with the cookie)")
	assert.Contains(t, body, "Complete Suite license for grace@example.com", "the workflow's summary is decoded too")
	assert.NotContains(t, body, "Codec Server could not connect")
}

// pageTextOnce opens url and returns the page's text once the JavaScript
// condition until holds. A single-page app may replace its document while
// it starts (the poll then loses its JavaScript context): the wait goes on
// in the new document, until ctx ends.
func pageTextOnce(ctx context.Context, url, until string) (string, error) {
	if err := chromedp.Run(ctx, chromedp.Navigate(url)); err != nil {
		return "", err
	}
	for {
		var text string
		err := chromedp.Run(ctx, chromedp.Poll(until, nil), chromedp.Evaluate(`document.body.innerText`, &text))
		if err == nil || !strings.Contains(err.Error(), "Cannot find context") || ctx.Err() != nil {
			return text, err
		}
	}
}
