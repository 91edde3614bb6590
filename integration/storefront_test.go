package integration

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
)

// stubStripeCheckout answers the browser's visits to Stripe's Checkout
// pages (stripe-mock's session URLs are not real pages) with a stub, and
// reports each URL visited on the channel it returns.
func stubStripeCheckout(t *testing.T, ctx context.Context) <-chan string {
	t.Helper()
	visited := make(chan string, 10)
	chromedp.ListenTarget(ctx, func(ev any) {
		paused, ok := ev.(*fetch.EventRequestPaused)
		if !ok {
			return
		}
		go func() {
			visited <- paused.Request.URL
			target := chromedp.FromContext(ctx).Target
			body := base64.StdEncoding.EncodeToString([]byte(`<!doctype html><h1 id="stripe-checkout">Stripe Checkout</h1>`))
			_ = fetch.FulfillRequest(paused.RequestID, http.StatusOK).
				WithResponseHeaders([]*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/html"}}).
				WithBody(body).Do(cdp.WithExecutor(ctx, target))
		}()
	})
	require.NoError(t, chromedp.Run(ctx, fetch.Enable().WithPatterns([]*fetch.RequestPattern{{URLPattern: "https://checkout.stripe.com/*"}})))
	return visited
}

// sentToStripe is the Stripe page the browser was sent to next; a page
// that sends nobody fails the test here, not at the package's timeout.
func sentToStripe(t *testing.T, pages <-chan string) string {
	t.Helper()
	select {
	case url := <-pages:
		return url
	case <-time.After(time.Minute):
		t.Fatal("the browser was not sent to Stripe Checkout within a minute")
		return ""
	}
}

// lastCheckout is the checkout the plans page recorded last, and the
// request it sent stripe-mock for it.
func lastCheckout(t *testing.T, st *store.Store, mock *testsupport.StripeMock) (models.Checkout, url.Values) {
	t.Helper()
	var co models.Checkout
	require.NoError(t, st.DB().Order("created_at DESC").First(&co).Error)
	reqs := mock.Requests(http.MethodPost, "/v1/checkout/sessions")
	require.NotEmpty(t, reqs)
	form := reqs[len(reqs)-1].Form
	require.Equal(t, co.OrderID, form.Get("metadata[order_id]"))
	return co, form
}

// A visitor buys a plan on the plans page: Stripe Checkout (stubbed), the
// signed checkout.session.completed Stripe then sends, and the success page
// that shows the license once its workflow issued it. Then, signed in, the
// same customer starts a purchase from the portal for their own account.
func TestAVisitorBuysAPlanInABrowser(t *testing.T) {
	ctx := browser(t)
	mock := testsupport.StartStripeMock(t)
	checkout, err := payments.NewCheckout(payments.Config{SecretKey: "sk_test_storefront", APIURL: mock.URL})
	require.NoError(t, err)
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{Payments: checkout, WebhookSecrets: []string{webhookSecret}})
	stripePages := stubStripeCheckout(t, ctx)

	var price string
	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(s.API.URL+"/plans"), text(`#plan-pos .price`, &price)))
	assert.Equal(t, "149.00 EUR", price)
	screenshot(t, ctx, "plans.png")
	submit(t, ctx, chromedp.Click(`#buy-pos-yearly`))
	assert.True(t, strings.HasPrefix(sentToStripe(t, stripePages), "https://checkout.stripe.com/"), "sent on to Stripe Checkout")
	co, form := lastCheckout(t, s.Store, mock)
	assert.Equal(t, "https://licenses.vendor.example/checkout/success?session_id={CHECKOUT_SESSION_ID}", form.Get("success_url"))

	// Stripe sends the buyer back before its webhook arrives.
	success := s.API.URL + "/checkout/success?session_id=" + url.QueryEscape(co.SessionID)
	var stage string
	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(success), text(`#stage`, &stage)))
	assert.Contains(t, stage, "waiting for Stripe")

	session := map[string]any{
		"id": co.SessionID, "object": "checkout.session", "mode": "payment", "payment_status": "paid",
		"client_reference_id": form.Get("client_reference_id"), "customer": "cus_storefront", "payment_intent": "pi_storefront",
		"amount_total": 14900, "currency": "eur",
		"metadata": map[string]any{"order_id": form.Get("metadata[order_id]"), "tier": form.Get("metadata[tier]"),
			"months": form.Get("metadata[months]"), "max_domains": form.Get("metadata[max_domains]")},
		"customer_details": map[string]any{"email": "bea@example.com", "name": "Bea Buyer"},
	}
	a := answer(t, deliver(s, stripeEvent("evt_storefront", payments.CheckoutCompleted, session)))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)

	// The page looks by itself (and reloads itself: an evaluation may meet
	// a navigation, and is asked again) and shows the license once issued.
	s.WaitFor("the success page to show the license", 60*time.Second, func() bool {
		var shown string
		err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector("#checkout-status")?.dataset.stage ?? ""`, &shown))
		return err == nil && shown == "issued"
	})
	require.NoError(t, chromedp.Run(ctx, text(`#stage`, &stage)))
	assert.Contains(t, stage, "Your license is issued: active")
	v := s.WaitIssued(models.LicenseIDForOrder(co.OrderID))
	assert.Equal(t, "pos", v.Tier)
	var page string
	require.NoError(t, chromedp.Run(ctx, chromedp.OuterHTML(`html`, &page)))
	assert.NotContains(t, page, v.DLID[:8], "the key is emailed, never shown to whoever holds the URL")
	assert.NotContains(t, page, "bea@example.com")
	screenshot(t, ctx, "checkout-success.png")

	// Signed in, Bea buys the suite from the portal, for her own account.
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(s.API.URL+"/portal"),
		chromedp.SendKeys(`input[name="email"]`, "bea@example.com"),
	))
	submit(t, ctx, chromedp.Submit(`input[name="email"]`))
	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(s.API.URL+signInLink(t, s, "bea@example.com"))))
	submit(t, ctx, chromedp.Click(`#confirm-signin button`))
	submit(t, ctx, chromedp.Click(`#nav-plans`))
	submit(t, ctx, chromedp.Click(`#buy-suite-yearly`))
	sentToStripe(t, stripePages)
	co, form = lastCheckout(t, s.Store, mock)
	assert.Equal(t, "suite", co.TierKey)
	assert.Equal(t, "bea@example.com", form.Get("customer_email"), "the session is for her address")
	assert.Equal(t, v.Customer.ID, co.CustomerID, "started from her account")

	// On her license's page she buys the child theme as an add-on.
	licensePage := s.API.URL + "/portal/licenses/" + v.ID
	var offered string
	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(licensePage), text(`#addons`, &offered)))
	assert.Contains(t, offered, "MokoSuite Child Theme")
	assert.Contains(t, offered, "29.00 EUR")
	submit(t, ctx, chromedp.Click(`#buy-addon-child`))
	sentToStripe(t, stripePages)
	reqs := mock.Requests(http.MethodPost, "/v1/checkout/sessions")
	form = reqs[len(reqs)-1].Form
	assert.Equal(t, map[string]string{"license_id": v.ID, "addon": "child"},
		map[string]string{"license_id": form.Get("metadata[license_id]"), "addon": form.Get("metadata[addon]")})
	assert.Equal(t, "2900", form.Get("line_items[0][price_data][unit_amount]"), "the catalog's add-on price")
	assert.Equal(t, "https://licenses.vendor.example/portal/licenses/"+v.ID+"?addon=child", form.Get("success_url"))
	addon := map[string]any{
		"id": "cs_addon_browser", "object": "checkout.session", "mode": "payment", "payment_status": "paid",
		"customer": "cus_storefront", "payment_intent": "pi_addon_browser", "amount_total": 2900, "currency": "eur",
		"metadata":         map[string]any{"license_id": form.Get("metadata[license_id]"), "addon": form.Get("metadata[addon]")},
		"customer_details": map[string]any{"email": "bea@example.com", "name": "Bea Buyer"},
	}
	a = answer(t, deliver(s, stripeEvent("evt_addon_browser", payments.CheckoutCompleted, addon)))
	require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
	s.WaitFor("the add-on's invoice email", 60*time.Second, func() bool {
		var n int64
		return s.Store.DB().Model(&models.EmailMessage{}).Where("license_id = ? AND template = ?", v.ID, "invoice").Count(&n).Error == nil && n == 2
	})
	var included string
	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(licensePage+"?addon=child"), text(`main`, &included)))
	assert.Contains(t, included, "MokoSuiteChild", "the product is part of her license")
	assert.Contains(t, included, "as soon as the payment arrives", "the page thanks her")
	var offers int
	require.NoError(t, chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll("#buy-addon-child").length`, &offers)))
	assert.Zero(t, offers, "the child theme is no longer offered")
	invoices, err := s.Store.ListInvoices(t.Context(), v.ID)
	require.NoError(t, err)
	require.Len(t, invoices, 2, "the license and the add-on")
	assert.Equal(t, int64(2900), invoices[1].TotalCents)
	screenshot(t, ctx, "portal-addon.png")
}
