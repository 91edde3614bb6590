package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/lifecycle/lifecyclefake"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/web"
)

// shop serves the plans page on a real store; with a stripe-mock it sells
// through Stripe Checkout, without one it takes orders for the CRM.
func shop(t *testing.T, st *store.Store, mock *testsupport.StripeMock) *operatorBrowser {
	t.Helper()
	gin.SetMode(gin.TestMode)
	front := &payments.Storefront{Store: st, PublicURL: "https://licenses.vendor.example"}
	if mock != nil {
		checkout, err := payments.NewCheckout(payments.Config{SecretKey: "sk_test_storefront", APIURL: mock.URL})
		require.NoError(t, err)
		front.Checkout = checkout
	}
	r := httpx.NewRouter(httpx.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Database: st})
	web.Mount(r, web.Deps{Store: st, Lifecycle: &lifecyclefake.Fake{}, Renewals: &payments.Renewals{Store: st},
		Storefront: front, PublicURL: "https://licenses.vendor.example"})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return &operatorBrowser{t: t, url: srv.URL, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// signInCustomer signs b in to the portal as email (a customer with a license).
func signInCustomer(b *operatorBrowser, st *store.Store, email string) {
	b.t.Helper()
	tier, err := st.GetTier(context.Background(), "pos")
	require.NoError(b.t, err)
	_, _, _, err = st.RecordPurchase(context.Background(), models.Purchase{OrderID: "earlier-" + email, Email: email, Tier: tier,
		MaxDomains: 3, Months: 12, Type: models.TypeCommercial, PaidAt: time.Now()})
	require.NoError(b.t, err)
	token, err := st.CreateMagicLink(context.Background(), email, models.AudienceCustomer, time.Now())
	require.NoError(b.t, err)
	resp, _ := b.post("/portal/auth", url.Values{"csrf": {b.csrf("/portal/auth?token=" + token)}, "token": {token}})
	require.Equal(b.t, http.StatusSeeOther, resp.StatusCode)
}

func TestThePlansPageSellsEveryTierOnItsTermsWithEmbeddableLinks(t *testing.T) {
	st := testsupport.SQLite(t)
	b := shop(t, st, nil)
	status, page := b.get("/plans")
	require.Equal(t, http.StatusOK, status)
	_, tiers := models.ExampleCatalog()
	for _, tier := range tiers {
		assert.Contains(t, page, tier.Name)
		assert.Contains(t, page, tier.Description)
	}
	for _, want := range []string{
		"MokoSuite POS", "MokoSuite Restaurant", // products by name
		"149.00 EUR", "per year", `href="/plans/pos/checkout?term=yearly"`,
		"59.00 EUR", "per month", `href="/plans/suite-monthly/checkout?term=monthly"`,
		"708.00 EUR", `href="/plans/suite-monthly/checkout?term=yearly"`, // a monthly tier sold by the year too
		"1999.00 EUR", "once, for life", `href="/plans/suite-lifetime/checkout?term=lifetime"`,
		">Request<", // no Stripe: the CRM takes the order
	} {
		assert.Contains(t, page, want)
	}
	assert.NotContains(t, page, "suite-lifetime/checkout?term=yearly")

	retired, err := st.RetireTier(context.Background(), "crm")
	require.NoError(t, err)
	_, page = b.get("/plans")
	assert.NotContains(t, page, retired.Description, "a retired tier is not on sale")
}

// Following (or prefetching) a checkout link shows a page; only its button
// creates an order or a Checkout Session.
func TestACheckoutLinkOnlyShowsItsConfirmPage(t *testing.T) {
	st := testsupport.SQLite(t)
	mock := testsupport.StartStripeMock(t)
	b := shop(t, st, mock)
	before := testsupport.RowCounts(t, st)
	for range 3 {
		status, page := b.get("/plans/pos/checkout?term=yearly&email=bea@example.com")
		require.Equal(t, http.StatusOK, status)
		assert.Contains(t, page, `name="email"`)
		assert.Contains(t, page, `value="bea@example.com"`)
		assert.Contains(t, page, "149.00 EUR")
	}
	assert.Equal(t, before, testsupport.RowCounts(t, st))
	assert.Empty(t, mock.Requests(http.MethodPost, "/v1/checkout/sessions"))
}

// A checkout link or form that asks for something the catalog does not
// sell is refused with a page that says so, and creates nothing: no order,
// no checkout, no Checkout Session.
func TestTamperedCheckoutLinksAreRefusedAndCreateNothing(t *testing.T) {
	st := testsupport.SQLite(t)
	mock := testsupport.StartStripeMock(t)
	_, err := st.RetireTier(context.Background(), "crm")
	require.NoError(t, err)
	b := shop(t, st, mock)
	csrf := b.csrf("/plans")
	before := testsupport.RowCounts(t, st)
	cases := []struct {
		name, tier string
		query      url.Values
		status     int
		says       string
	}{
		{"unknown tier", "gold", url.Values{"term": {"yearly"}}, http.StatusNotFound, `We do not sell a plan called &#34;gold&#34;`},
		{"retired tier", "crm", url.Values{"term": {"yearly"}}, http.StatusNotFound, `We do not sell a plan called &#34;crm&#34;`},
		{"a term the tier is not sold on", "pos", url.Values{"term": {"monthly"}}, http.StatusUnprocessableEntity, "is sold yearly, not"},
		{"an unknown term", "pos", url.Values{"term": {"weekly"}}, http.StatusUnprocessableEntity, "is sold yearly, not"},
		{"0 months", "pos", url.Values{"term": {"yearly"}, "months": {"0"}}, http.StatusUnprocessableEntity, "is not sold for"},
		{"negative months", "pos", url.Values{"term": {"yearly"}, "months": {"-12"}}, http.StatusUnprocessableEntity, "is not sold for"},
		{"ten years at one year's price", "pos", url.Values{"term": {"yearly"}, "months": {"120"}}, http.StatusUnprocessableEntity, "is not sold for"},
		{"months on a lifetime plan", "suite-lifetime", url.Values{"term": {"lifetime"}, "months": {"12"}}, http.StatusUnprocessableEntity, "is not sold for"},
		{"months that are not a number", "pos", url.Values{"term": {"yearly"}, "months": {"12abc"}}, http.StatusUnprocessableEntity, "is not sold for"},
		{"huge domains", "pos", url.Values{"term": {"yearly"}, "domains": {"100000"}}, http.StatusUnprocessableEntity, "includes 1 to 3 domains"},
		{"more domains than the tier", "pos", url.Values{"term": {"yearly"}, "domains": {"4"}}, http.StatusUnprocessableEntity, "includes 1 to 3 domains"},
		{"0 domains", "pos", url.Values{"term": {"yearly"}, "domains": {"0"}}, http.StatusUnprocessableEntity, "includes 1 to 3 domains"},
		{"negative domains", "pos", url.Values{"term": {"yearly"}, "domains": {"-1"}}, http.StatusUnprocessableEntity, "includes 1 to 3 domains"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := "/plans/" + tc.tier + "/checkout"
			status, page := b.get(path + "?" + tc.query.Encode())
			assert.Equal(t, tc.status, status, page)
			assert.Contains(t, page, tc.says)
			form := url.Values{"csrf": {csrf}, "email": {"bea@example.com"}}
			for k, v := range tc.query {
				form[k] = v
			}
			resp, page := b.post(path, form)
			assert.Equal(t, tc.status, resp.StatusCode, page)
			assert.Contains(t, page, tc.says)
		})
	}
	assert.Equal(t, before, testsupport.RowCounts(t, st), "nothing recorded")
	assert.Empty(t, mock.Requests(http.MethodPost, "/v1/checkout/sessions"), "no session created")

	// A form from another site (no CSRF token) buys nothing either.
	resp, _ := b.post("/plans/pos/checkout", url.Values{"term": {"yearly"}, "email": {"bea@example.com"}})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Empty(t, mock.Requests(http.MethodPost, "/v1/checkout/sessions"))
}

// Buy: a Checkout Session priced from the catalog, then 303 to Stripe.
func TestBuyingAPlanGoesToStripeCheckout(t *testing.T) {
	st := testsupport.SQLite(t)
	mock := testsupport.StartStripeMock(t)
	b := shop(t, st, mock)
	resp, page := b.post("/plans/pos/checkout", url.Values{"csrf": {b.csrf("/plans")}, "term": {"yearly"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, page)
	assert.True(t, strings.HasPrefix(resp.Header.Get("Location"), "https://checkout.stripe.com/"), resp.Header.Get("Location"))
	sessions := mock.Requests(http.MethodPost, "/v1/checkout/sessions")
	require.Len(t, sessions, 1)
	form := sessions[0].Form
	assert.Equal(t, "14900", form.Get("line_items[0][price_data][unit_amount]"))
	assert.Equal(t, "pos", form.Get("metadata[tier]"))
	assert.Empty(t, form.Get("customer_email"), "no address given: Stripe asks for it")
	var checkouts []models.Checkout
	require.NoError(t, st.DB().Find(&checkouts).Error)
	require.Len(t, checkouts, 1)
	assert.Equal(t, form.Get("metadata[order_id]"), checkouts[0].OrderID)
	assert.Zero(t, testsupport.RowCounts(t, st)["orders"], "an order exists once Stripe reports the payment")
}

// Without Stripe, Request records a pending order, tells the vendor's CRM
// (order.created) and says truthfully what happens next.
func TestRequestingAPlanWithoutStripeRecordsAPendingOrderForTheCRM(t *testing.T) {
	st := testsupport.SQLite(t)
	b := shop(t, st, nil)
	csrf := b.csrf("/plans")

	resp, page := b.post("/plans/suite-monthly/checkout", url.Values{"csrf": {csrf}, "term": {"yearly"}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, page, `name="email"`, "the plans page's button asks for an address first")
	assert.Zero(t, testsupport.RowCounts(t, st)["orders"])
	resp, page = b.post("/plans/suite-monthly/checkout", url.Values{"csrf": {csrf}, "term": {"yearly"}, "email": {"not an address"}})
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Contains(t, page, "Enter the email address the license should go to.")

	resp, page = b.post("/plans/suite-monthly/checkout", url.Values{"csrf": {csrf}, "term": {"yearly"}, "email": {"Bea@Example.com"}})
	require.Equal(t, http.StatusOK, resp.StatusCode, page)
	assert.Contains(t, page, "Nothing is charged yet: we will send the payment details to <strong>bea@example.com</strong>")
	var orders []models.Order
	require.NoError(t, st.DB().Preload("Customer").Find(&orders).Error)
	require.Len(t, orders, 1)
	o := orders[0]
	assert.Contains(t, page, o.ID)
	assert.Equal(t, models.OrderPending, o.Status)
	assert.Equal(t, models.OrderNew, o.Kind)
	assert.Equal(t, "suite-monthly", o.TierKey)
	assert.Equal(t, 12, o.Months)
	assert.Equal(t, int64(70800), o.AmountCents)
	assert.Equal(t, "bea@example.com", o.Customer.Email)
	var events []models.WebhookEvent
	require.NoError(t, st.DB().Where("type = ?", models.EventOrderCreated).Find(&events).Error)
	require.Len(t, events, 1, "the CRM is told")
	assert.Equal(t, "order:"+o.ID+":created", events[0].Source)
}

// The success page shows one order's progress to whoever has the session
// id, and nothing else: no buyer, no key. A made-up id is a 404.
func TestTheSuccessPageShowsOnlyItsOrdersProgress(t *testing.T) {
	st := testsupport.SQLite(t)
	b := shop(t, st, nil)
	ctx := context.Background()
	tier, err := st.GetTier(ctx, "pos")
	require.NoError(t, err)
	require.NoError(t, st.CreateCheckout(ctx, models.Checkout{SessionID: "cs_test_victim", OrderID: "ord_victim", TierKey: "pos",
		Term: "yearly", Months: 12, MaxDomains: 3, Email: "victim@example.com", AmountCents: 14900, Currency: "EUR"}))

	for _, forged := range []string{"cs_test_madeup", "", "ord_victim", "cs_test_victim' OR '1'='1", strings.Repeat("x", 500)} {
		status, page := b.get("/checkout/success?session_id=" + url.QueryEscape(forged))
		assert.Equal(t, http.StatusNotFound, status, forged)
		assert.NotContains(t, page, "victim")
		status, _ = b.get("/checkout/status?session_id=" + url.QueryEscape(forged))
		assert.Equal(t, http.StatusNotFound, status, forged)
	}

	progress := func() models.CheckoutStatus {
		t.Helper()
		status, body := b.get("/checkout/status?session_id=cs_test_victim")
		require.Equal(t, http.StatusOK, status, body)
		var st models.CheckoutStatus
		require.NoError(t, json.Unmarshal([]byte(body), &st))
		return st
	}
	assert.Equal(t, models.CheckoutAwaitingPayment, progress().Stage)
	_, page := b.get("/checkout/success?session_id=cs_test_victim")
	assert.Contains(t, page, "waiting for Stripe to confirm your payment")
	assert.Contains(t, page, `http-equiv="refresh"`, "the page looks again without script")

	_, l, _, err := st.RecordPurchase(ctx, models.Purchase{OrderID: "ord_victim", Email: "victim@example.com", CustomerName: "Victor Victim",
		Tier: tier, MaxDomains: 3, Months: 12, Type: models.TypeCommercial, PaidAt: time.Now()})
	require.NoError(t, err)
	assert.Equal(t, models.CheckoutIssuing, progress().Stage)
	expires := models.Instant(time.Now().AddDate(1, 0, 0))
	l, err = st.MintLicense(ctx, models.Mint{LicenseID: l.ID, TierKey: "pos", MaxDomains: 3, Channels: tier.Channels,
		StartsAt: time.Now(), ExpiresAt: &expires})
	require.NoError(t, err)
	issued := progress()
	assert.Equal(t, models.CheckoutIssued, issued.Stage)
	assert.Equal(t, models.StatusActive, issued.LicenseStatus)

	status, page := b.get("/checkout/success?session_id=cs_test_victim")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "Your license is issued")
	assert.Contains(t, page, "Point of Sale")
	assert.NotContains(t, page, `http-equiv="refresh"`)
	for _, secret := range []string{l.Key(), models.MaskDLID(l.Key()), l.Key()[:8], "victim@example.com", "Victor", l.ID} {
		assert.NotContains(t, page, secret, "the page names neither the buyer nor the key")
	}
	_, body := b.get("/checkout/status?session_id=cs_test_victim")
	for _, secret := range []string{l.Key()[:8], "victim@example.com", "Victor", l.ID} {
		assert.NotContains(t, body, secret)
	}
}

// A signed-in customer buys from the portal: the session carries their
// address (whatever the form says), so the license lands in their account.
func TestACustomerBuysFromThePortalForTheirOwnAccount(t *testing.T) {
	st := testsupport.SQLite(t)
	mock := testsupport.StartStripeMock(t)
	b := shop(t, st, mock)
	resp, err := b.client.Get(b.url + "/portal/plans") // before sign-in
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "sign in first")
	assert.Equal(t, "/portal?next=/portal/plans", resp.Header.Get("Location"))
	signInCustomer(b, st, "carol@example.com")
	status, page := b.get("/portal/plans")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "The license is issued to <strong>carol@example.com</strong>")
	assert.Contains(t, page, `action="/portal/plans/suite/checkout"`)
	csrf := b.csrf("/portal/plans")

	resp, _ = b.post("/portal/plans/suite/checkout", url.Values{"term": {"yearly"}, "email": {"mallory@example.com"}})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "no CSRF token, no purchase")
	resp, page = b.post("/portal/plans/suite/checkout", url.Values{"csrf": {csrf}, "term": {"yearly"}, "email": {"mallory@example.com"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, page)
	sessions := mock.Requests(http.MethodPost, "/v1/checkout/sessions")
	require.Len(t, sessions, 1)
	assert.Equal(t, "carol@example.com", sessions[0].Form.Get("customer_email"))
	var co models.Checkout
	require.NoError(t, st.DB().First(&co).Error)
	carol, err := st.FindCustomer(context.Background(), "carol@example.com")
	require.NoError(t, err)
	assert.Equal(t, carol.ID, co.CustomerID)
	assert.Equal(t, "carol@example.com", co.Email)
}
