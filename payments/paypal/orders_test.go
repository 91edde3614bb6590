package paypal_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/payments/paypal"
	"github.com/licenseflow/licenseflow/payments/paypal/paypaltest"
)

// renewal is a renewal's order as licenseflow asks PayPal for one.
func renewal(requestID string) paypal.OrderRequest {
	return paypal.OrderRequest{
		RequestID:   requestID,
		CustomID:    "ord_7c1e",
		Description: "POS Suite renewal, one year",
		Amount:      paypal.Money{CurrencyCode: "EUR", Value: "149.00"},
		ReturnURL:   "https://licenses.example/renew/paid",
		CancelURL:   "https://licenses.example/renew/cancelled",
	}
}

func newClient(t *testing.T, api *paypaltest.API) *paypal.Client {
	t.Helper()
	c, err := paypal.NewClient(api.Config())
	require.NoError(t, err)
	return c
}

// approvedOrder is a renewal order the buyer approved.
func approvedOrder(t *testing.T, api *paypaltest.API, c *paypal.Client, requestID string) string {
	t.Helper()
	created, err := c.CreateOrder(context.Background(), renewal(requestID))
	require.NoError(t, err)
	api.Approve(created.ID, "bea.keller@example.com")
	return created.ID
}

func TestARenewalOrderIsCreatedApprovedAndCapturedWithItsCaptureAndCustomID(t *testing.T) {
	api := paypaltest.NewAPI(t)
	c := newClient(t, api)
	ctx := context.Background()

	created, err := c.CreateOrder(ctx, renewal("renewal-ord_7c1e"))
	require.NoError(t, err)
	assert.Equal(t, "PAYER_ACTION_REQUIRED", created.Status)
	assert.Equal(t, paypaltest.CheckoutURL+created.ID, created.ApproveURL)
	placed, ok := api.Placement(created.ID)
	require.True(t, ok)
	assert.Equal(t, paypaltest.Placement{
		RequestID: "renewal-ord_7c1e", Intent: "CAPTURE", CustomID: "ord_7c1e", Description: "POS Suite renewal, one year",
		Amount:    paypal.Money{CurrencyCode: "EUR", Value: "149.00"},
		ReturnURL: "https://licenses.example/renew/paid", CancelURL: "https://licenses.example/renew/cancelled",
		UserAction: "PAY_NOW", ShippingPreference: "NO_SHIPPING",
	}, placed)

	api.Approve(created.ID, "bea.keller@example.com")
	o, err := c.CaptureOrder(ctx, created.ID)
	require.NoError(t, err)
	assert.Equal(t, created.ID, o.ID)
	assert.Equal(t, "COMPLETED", o.Status)
	assert.Equal(t, "bea.keller@example.com", o.Email())
	assert.NotEmpty(t, o.CaptureID())
	u, ok := o.Unit()
	require.True(t, ok)
	assert.Equal(t, "ord_7c1e", u.CustomID)
	cents, err := u.Amount.Cents()
	require.NoError(t, err)
	assert.Equal(t, int64(14900), cents)
	require.Len(t, u.Payments.Captures, 1)
	assert.Equal(t, paypal.Money{CurrencyCode: "EUR", Value: "149.00"}, u.Payments.Captures[0].Amount)
}

func TestACapturedOrdersWebhookEventCarriesItsCapture(t *testing.T) {
	api := paypaltest.NewAPI(t)
	c := newClient(t, api)
	o, err := c.CaptureOrder(context.Background(), approvedOrder(t, api, c, "renewal-ord_7c1e"))
	require.NoError(t, err)

	pp := paypaltest.New(t)
	body := paypaltest.CaptureCompletedEvent("WH-7YX49823S2290830K-0JE13296W68552352", o)
	ev, err := pp.Verifier(webhookID).Verify(context.Background(), body, pp.Sign(body, webhookID, time.Now()))
	require.NoError(t, err)
	assert.Equal(t, paypal.CaptureCompleted, ev.EventType)
	var capture paypal.Capture
	require.NoError(t, ev.Decode(&capture))
	assert.Equal(t, o.CaptureID(), capture.ID)
	assert.Equal(t, "COMPLETED", capture.Status)
	assert.Equal(t, o.ID, capture.OrderID())
	assert.Equal(t, "ord_7c1e", capture.CustomID)
	assert.Equal(t, paypal.Money{CurrencyCode: "EUR", Value: "149.00"}, capture.Amount)
}

func TestTheSameRequestIDGetsTheSameOrderBack(t *testing.T) {
	api := paypaltest.NewAPI(t)
	c := newClient(t, api)
	ctx := context.Background()

	first, err := c.CreateOrder(ctx, renewal("renewal-ord_7c1e"))
	require.NoError(t, err)
	again, err := c.CreateOrder(ctx, renewal("renewal-ord_7c1e"))
	require.NoError(t, err)
	assert.Equal(t, first, again)

	other, err := c.CreateOrder(ctx, renewal("renewal-ord_9d2f"))
	require.NoError(t, err)
	assert.NotEqual(t, first.ID, other.ID)

	api.Approve(first.ID, "bea.keller@example.com")
	afterApproval, err := c.CreateOrder(ctx, renewal("renewal-ord_7c1e"))
	require.NoError(t, err)
	assert.Equal(t, paypal.CreatedOrder{ID: first.ID, Status: "APPROVED"}, afterApproval,
		"an approved order is the same order, with nothing left to approve")
}

func TestCapturingBeforeTheBuyerApprovesIsErrNotApproved(t *testing.T) {
	api := paypaltest.NewAPI(t)
	c := newClient(t, api)
	ctx := context.Background()
	created, err := c.CreateOrder(ctx, renewal("renewal-ord_7c1e"))
	require.NoError(t, err)

	_, err = c.CaptureOrder(ctx, created.ID)
	require.ErrorIs(t, err, paypal.ErrNotApproved)
	assert.NotErrorIs(t, err, paypal.ErrUnavailable)
	assert.Contains(t, err.Error(), "422 Unprocessable Entity: UNPROCESSABLE_ENTITY")
	assert.Contains(t, err.Error(), "[ORDER_NOT_APPROVED: Payer has not yet approved")
	assert.Regexp(t, `\(debug id [0-9a-z]{13}\)`, err.Error())

	api.Approve(created.ID, "bea.keller@example.com")
	o, err := c.CaptureOrder(ctx, created.ID)
	require.NoError(t, err, "the refusal is not PayPal's answer to the capture's request id for good")
	assert.NotEmpty(t, o.CaptureID())
}

func TestCapturingTwiceGivesTheCapturedOrderBack(t *testing.T) {
	api := paypaltest.NewAPI(t)
	c := newClient(t, api)
	ctx := context.Background()
	id := approvedOrder(t, api, c, "renewal-ord_7c1e")

	captured, err := c.CaptureOrder(ctx, id)
	require.NoError(t, err)

	before := api.Requests()
	again, err := c.CaptureOrder(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, captured, again)
	assert.Equal(t, 1, api.Requests()-before, "PayPal answers the same request id the same")

	api.ForgetRequestIDs()
	before = api.Requests()
	later, err := c.CaptureOrder(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, captured, later)
	assert.Equal(t, 2, api.Requests()-before, "ORDER_ALREADY_CAPTURED, then the order read back")
}

func TestATokenIsFetchedOnceForManyCalls(t *testing.T) {
	api := paypaltest.NewAPI(t)
	ctx := context.Background()
	c := newClient(t, api)
	id := approvedOrder(t, api, c, "renewal-ord_7c1e")
	_, err := c.CaptureOrder(ctx, id)
	require.NoError(t, err)
	_, err = c.GetOrder(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, 1, api.TokenRequests())

	// One connection: spare ones the transport dials for a burst would
	// still be shaking hands when the server closes, and it logs each.
	transport := api.Client().Transport.(*http.Transport).Clone()
	transport.MaxConnsPerHost = 1
	cfg := api.Config()
	cfg.HTTP = &http.Client{Transport: transport}
	burst, err := paypal.NewClient(cfg)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			_, err := burst.GetOrder(ctx, id)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Equal(t, 2, api.TokenRequests(), "a burst of calls on a new client waits for one token")
}

func TestARevokedTokenIsFetchedAgainAndTheCallSucceeds(t *testing.T) {
	api := paypaltest.NewAPI(t)
	ctx := context.Background()
	c := newClient(t, api)
	created, err := c.CreateOrder(ctx, renewal("renewal-ord_7c1e"))
	require.NoError(t, err)

	api.RevokeTokens()
	before := api.Requests()
	o, err := c.GetOrder(ctx, created.ID)
	require.NoError(t, err)
	assert.Equal(t, created.ID, o.ID)
	assert.Equal(t, 2, api.TokenRequests())
	assert.Equal(t, 3, api.Requests()-before, "the refused call, a new token, the call again")
}

func TestATokenIsNotUsedInItsLastMinute(t *testing.T) {
	api := paypaltest.NewAPI(t)
	ctx := context.Background()
	api.SetTokenLifetime(time.Minute)
	c := newClient(t, api)
	created, err := c.CreateOrder(ctx, renewal("renewal-ord_7c1e"))
	require.NoError(t, err)
	for range 2 {
		_, err := c.GetOrder(ctx, created.ID)
		require.NoError(t, err)
	}
	assert.Equal(t, 3, api.TokenRequests())
}

func TestPayPalDownIsErrUnavailable(t *testing.T) {
	api := paypaltest.NewAPI(t)
	ctx := context.Background()
	c := newClient(t, api)
	created, err := c.CreateOrder(ctx, renewal("renewal-ord_7c1e"))
	require.NoError(t, err)

	for _, tc := range []struct {
		status int
		want   string
	}{
		{http.StatusInternalServerError, "500 Internal Server Error: INTERNAL_SERVER_ERROR"},
		{http.StatusServiceUnavailable, "503 Service Unavailable: SERVICE_UNAVAILABLE"},
		{http.StatusTooManyRequests, "429 Too Many Requests: RATE_LIMIT_REACHED"},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			api.FailNext(tc.status)
			_, err := c.CaptureOrder(ctx, created.ID)
			require.ErrorIs(t, err, paypal.ErrUnavailable)
			assert.Contains(t, err.Error(), tc.want)
			var apiErr *paypal.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.status, apiErr.StatusCode)
			assert.NotEmpty(t, apiErr.DebugID)

			_, err = c.GetOrder(ctx, created.ID)
			assert.NoError(t, err, "the next call is answered")
		})
	}

	t.Run("unreachable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		closed := "http://" + ln.Addr().String()
		require.NoError(t, ln.Close())
		c, err := paypal.NewClient(paypal.ClientConfig{BaseURL: closed, ClientID: paypaltest.ClientID, ClientSecret: paypaltest.ClientSecret})
		require.NoError(t, err)
		_, err = c.CreateOrder(ctx, renewal("renewal-ord_7c1e"))
		require.ErrorIs(t, err, paypal.ErrUnavailable)
		assert.Contains(t, err.Error(), "POST /v1/oauth2/token")
	})

	t.Run("an order that does not exist is not", func(t *testing.T) {
		_, err := c.GetOrder(ctx, "8RW40716JN2249712")
		require.Error(t, err)
		assert.NotErrorIs(t, err, paypal.ErrUnavailable)
		assert.Contains(t, err.Error(), "404 Not Found: RESOURCE_NOT_FOUND")
	})
}

func TestWrongCredentialsSayWhichSettingsToCheck(t *testing.T) {
	api := paypaltest.NewAPI(t)
	cfg := api.Config()
	cfg.ClientSecret = "not-the-secret-3f9a"
	c, err := paypal.NewClient(cfg)
	require.NoError(t, err)

	_, err = c.CreateOrder(context.Background(), renewal("renewal-ord_7c1e"))
	require.Error(t, err)
	assert.NotErrorIs(t, err, paypal.ErrUnavailable)
	assert.Contains(t, err.Error(), "401 Unauthorized: invalid_client: Client Authentication failed")
	assert.Contains(t, err.Error(), "check PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET")
	assert.NotContains(t, err.Error(), "not-the-secret-3f9a")
	assert.Equal(t, 1, api.Requests(), "no order is asked for without a token")
}

func TestAnOrderIDThatIsNoPayPalIDIsRefusedWithoutARequest(t *testing.T) {
	api := paypaltest.NewAPI(t)
	c := newClient(t, api)
	for _, id := range []string{"", "5o190127tn364715t", "../../v1/oauth2/token", "5O190127TN364715T/capture", "5O19%2F..", "5O19 0127", "5O19?x=1", strings.Repeat("A", 65)} {
		_, err := c.CaptureOrder(context.Background(), id)
		require.Error(t, err, id)
		assert.Contains(t, err.Error(), "is not a PayPal order id", id)
		_, err = c.GetOrder(context.Background(), id)
		assert.Error(t, err, id)
	}
	assert.Zero(t, api.Requests())
}

func TestACustomIDLongerThan127CharactersIsRefused(t *testing.T) {
	api := paypaltest.NewAPI(t)
	c := newClient(t, api)
	ctx := context.Background()

	r := renewal("renewal-long")
	r.CustomID = strings.Repeat("x", 128)
	_, err := c.CreateOrder(ctx, r)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "has 128 characters; PayPal keeps at most 127")
	assert.Zero(t, api.Requests())

	for _, id := range []string{strings.Repeat("x", 127), strings.Repeat("é", 127)} {
		r.RequestID, r.CustomID = fmt.Sprintf("renewal-%d", len(id)), id
		created, err := c.CreateOrder(ctx, r)
		require.NoError(t, err)
		placed, _ := api.Placement(created.ID)
		assert.Equal(t, id, placed.CustomID)
	}
}

func TestADescriptionIsClippedTo127Characters(t *testing.T) {
	api := paypaltest.NewAPI(t)
	c := newClient(t, api)
	r := renewal("renewal-ord_7c1e")
	r.Description = strings.Repeat("é", 200)
	created, err := c.CreateOrder(context.Background(), r)
	require.NoError(t, err)
	placed, _ := api.Placement(created.ID)
	assert.Equal(t, strings.Repeat("é", 127), placed.Description)
}

func TestAnOrderPayPalWouldRefuseIsRefusedBeforeAsking(t *testing.T) {
	api := paypaltest.NewAPI(t)
	c := newClient(t, api)
	for _, tc := range []struct {
		name   string
		change func(*paypal.OrderRequest)
		want   string
	}{
		{"no request id", func(r *paypal.OrderRequest) { r.RequestID = "" }, "needs a RequestID"},
		{"a request id too long", func(r *paypal.OrderRequest) { r.RequestID = strings.Repeat("r", 109) }, "PayPal takes at most 108"},
		{"a zero amount", func(r *paypal.OrderRequest) { r.Amount.Value = "0.00" }, "its amount must be above zero"},
		{"an amount with a comma", func(r *paypal.OrderRequest) { r.Amount.Value = "149,00" }, `"149,00" EUR is not a plain decimal`},
		{"a negative amount", func(r *paypal.OrderRequest) { r.Amount.Value = "-149.00" }, "is negative"},
		{"no currency", func(r *paypal.OrderRequest) { r.Amount.CurrencyCode = "" }, "is not a three-letter ISO 4217 code"},
		{"a currency in lower case", func(r *paypal.OrderRequest) { r.Amount.CurrencyCode = "eur" }, "is not a three-letter ISO 4217 code"},
		{"a relative return URL", func(r *paypal.OrderRequest) { r.ReturnURL = "/renew/paid" }, "the return URL"},
		{"no cancel URL", func(r *paypal.OrderRequest) { r.CancelURL = "" }, "the cancel URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := renewal("renewal-ord_7c1e")
			tc.change(&r)
			_, err := c.CreateOrder(context.Background(), r)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	assert.Zero(t, api.Requests())
}

func TestNewClientRefusesWhatCannotWork(t *testing.T) {
	good := paypal.ClientConfig{ClientID: "AZDxjDScFpQtjWTOUtWKbyN_bDt4OgqaF4eYXlewfBP4-8aqX3PiV8e1GWU6liB2CUXlkA59kJXE7M6R", ClientSecret: "EGnHDxD_qRPdaLdZz8iCr8N7_MzF-YHPTkjs6NKYQvQSBngp4PTTVWkPZRbL"}
	for _, tc := range []struct {
		name   string
		change func(*paypal.ClientConfig)
		want   string // "" for a config that works
	}{
		{"live by default", func(*paypal.ClientConfig) {}, ""},
		{"the sandbox", func(c *paypal.ClientConfig) { c.BaseURL = paypal.SandboxAPIURL }, ""},
		{"a trailing slash", func(c *paypal.ClientConfig) { c.BaseURL = "https://api-m.paypal.com/" }, ""},
		{"plain http on 127.0.0.1", func(c *paypal.ClientConfig) { c.BaseURL = "http://127.0.0.1:8089" }, ""},
		{"plain http on localhost", func(c *paypal.ClientConfig) { c.BaseURL = "http://localhost:8089" }, ""},
		{"no client id", func(c *paypal.ClientConfig) { c.ClientID = "" }, "PAYPAL_CLIENT_ID is not set"},
		{"no secret", func(c *paypal.ClientConfig) { c.ClientSecret = " " }, "PAYPAL_CLIENT_SECRET is not set"},
		{"plain http", func(c *paypal.ClientConfig) { c.BaseURL = "http://api-m.paypal.com" }, `PAYPAL_API_URL "http://api-m.paypal.com" is not https`},
		{"plain http to a host named like loopback", func(c *paypal.ClientConfig) { c.BaseURL = "http://localhost.evil.example" }, "is not https"},
		{"no scheme", func(c *paypal.ClientConfig) { c.BaseURL = "api-m.paypal.com" }, "is not https"},
		{"a path", func(c *paypal.ClientConfig) { c.BaseURL = "https://api-m.paypal.com/v2" }, "is more than the API's origin"},
		{"user info", func(c *paypal.ClientConfig) { c.BaseURL = "https://id:pw@api-m.paypal.com" }, "PAYPAL_API_URL carries user info"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.change(&cfg)
			c, err := paypal.NewClient(cfg)
			if tc.want == "" {
				require.NoError(t, err)
				assert.NotNil(t, c)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), good.ClientSecret)
			assert.NotContains(t, err.Error(), "pw@")
		})
	}
}

// stubPayPal is a client of a PayPal whose Orders API is orders; its token
// endpoint hands anyone a token.
func stubPayPal(t *testing.T, orders http.HandlerFunc) *paypal.Client {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/oauth2/token", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"access_token":"A21AAstub","token_type":"Bearer","expires_in":32400}`)
	})
	mux.HandleFunc("/v2/", orders)
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	c, err := paypal.NewClient(paypal.ClientConfig{BaseURL: srv.URL, ClientID: "id", ClientSecret: "secret", HTTP: srv.Client()})
	require.NoError(t, err)
	return c
}

func TestAnOlderAnswerWithAnApproveLinkGivesItsApproveURL(t *testing.T) {
	c := stubPayPal(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id":"8RW40716JN2249712","status":"CREATED","links":[
			{"href":"https://api-m.paypal.com/v2/checkout/orders/8RW40716JN2249712","rel":"self","method":"GET"},
			{"href":"https://www.paypal.com/checkoutnow?token=8RW40716JN2249712","rel":"approve","method":"GET"}]}`)
	})
	created, err := c.CreateOrder(context.Background(), renewal("renewal-ord_7c1e"))
	require.NoError(t, err)
	assert.Equal(t, paypal.CreatedOrder{ID: "8RW40716JN2249712", Status: "CREATED", ApproveURL: "https://www.paypal.com/checkoutnow?token=8RW40716JN2249712"}, created)
}

func TestAnswersPayPalWouldNotGiveAreRefused(t *testing.T) {
	for _, tc := range []struct {
		name        string
		answer      http.HandlerFunc
		want        string
		unavailable bool
	}{
		{"an answer over 1 MiB", func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, `{"id":"8RW40716JN2249712","status":"COMPLETED","x":"%s"}`, strings.Repeat("x", 1<<20))
		}, "larger than 1 MiB", false},
		{"a redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://elsewhere.example/v2/checkout/orders/8RW40716JN2249712", http.StatusFound)
		}, "PayPal answered GET /v2/checkout/orders/8RW40716JN2249712 with 302 Found", false},
		{"a proxy's error page", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html>\n<body>502 Bad Gateway</body>\n</html>")
		}, "502 Bad Gateway: <html> <body>502 Bad Gateway</body> </html>", true},
		{"no JSON", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "OK") }, "is not what the Orders API sends", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := stubPayPal(t, tc.answer).GetOrder(context.Background(), "8RW40716JN2249712")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Equal(t, tc.unavailable, errors.Is(err, paypal.ErrUnavailable))
			assert.NotContains(t, err.Error(), "A21AAstub", "the token stays out of errors")
		})
	}
}

func TestFormatAmountIsTheInverseOfParseAmount(t *testing.T) {
	for _, tc := range []struct {
		cents int64
		value string
	}{
		{0, "0.00"},
		{5, "0.05"},
		{99, "0.99"},
		{100, "1.00"},
		{14900, "149.00"},
		{123456789, "1234567.89"},
		{999999999999999, "9999999999999.99"},
	} {
		assert.Equal(t, tc.value, paypal.FormatAmount(tc.cents))
		cents, err := paypal.ParseAmount(tc.value, "EUR")
		require.NoError(t, err, tc.value)
		assert.Equal(t, tc.cents, cents, tc.value)
	}
	assert.Equal(t, "-1.50", paypal.FormatAmount(-150))
	assert.Equal(t, "-92233720368547758.08", paypal.FormatAmount(math.MinInt64))
	_, err := paypal.ParseAmount(paypal.FormatAmount(-150), "EUR")
	assert.Error(t, err, "a negative amount is no PayPal amount")
}
