package paypaltest

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/licenseflow/licenseflow/payments/paypal"
)

// The REST app credentials the API accepts.
const (
	ClientID     = "paypaltest-client-id"
	ClientSecret = "paypaltest-client-secret"
)

// CheckoutURL is where the API's orders send the buyer to approve them,
// followed by the order id (PayPal's sandbox checkout).
const CheckoutURL = "https://www.sandbox.paypal.com/checkoutnow?token="

// API is a running stand-in for the part of PayPal's REST API licenseflow
// calls: the OAuth token endpoint and the Orders API v2 (create, capture,
// read), holding its orders in memory. It answers the way PayPal documents,
// errors included, so a paypal.Client runs unchanged against it.
type API struct {
	t      testing.TB
	server *httptest.Server

	mu            sync.Mutex
	orders        map[string]*apiOrder
	replays       map[string]replay    // path and PayPal-Request-Id → the first answer
	tokens        map[string]time.Time // access token → when it expires
	tokenLifetime time.Duration
	failures      []int
	requests      int
	tokenRequests int
}

// Placement is what the create call that made an order asked for.
type Placement struct {
	RequestID          string
	Intent             string
	CustomID           string
	Description        string
	Amount             paypal.Money
	ReturnURL          string
	CancelURL          string
	UserAction         string
	ShippingPreference string
}

// apiOrder is an order as the API keeps it.
type apiOrder struct {
	Placement
	id, status         string
	created, updated   time.Time
	payerEmail, payer  string // the approving buyer's address and payer id
	capture            string // the capture's id, once captured
	captured           time.Time
	redirectedCheckout bool // created with an experience context: PAYER_ACTION_REQUIRED
}

// replay is a successful answer to a request id, given again for the same
// request id (PayPal's idempotency). Failures are not kept: the same
// request id may succeed once what failed it changed.
type replay struct {
	orderID string
	status  int
}

// NewAPI starts the API over TLS for the test's lifetime; reach it with
// Config, or URL and Client. Tokens live nine hours, as PayPal's do.
func NewAPI(t testing.TB) *API {
	t.Helper()
	a := &API{
		t: t, orders: map[string]*apiOrder{}, replays: map[string]replay{}, tokens: map[string]time.Time{},
		tokenLifetime: 9 * time.Hour,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/oauth2/token", a.issueToken)
	mux.Handle("POST /v2/checkout/orders", a.authorized(a.createOrder))
	mux.Handle("POST /v2/checkout/orders/{id}/capture", a.authorized(a.captureOrder))
	mux.Handle("GET /v2/checkout/orders/{id}", a.authorized(a.getOrder))
	a.server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.requests++
		a.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(a.server.Close)
	return a
}

// URL is the API's origin, for paypal.ClientConfig.BaseURL.
func (a *API) URL() string { return a.server.URL }

// Client is an HTTP client that trusts the API's TLS certificate.
func (a *API) Client() *http.Client { return a.server.Client() }

// Config is a paypal.ClientConfig that reaches the API with the credentials
// it accepts.
func (a *API) Config() paypal.ClientConfig {
	return paypal.ClientConfig{BaseURL: a.URL(), ClientID: ClientID, ClientSecret: ClientSecret, HTTP: a.Client()}
}

// Requests is how many requests the API has received, on any path.
func (a *API) Requests() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests
}

// TokenRequests is how many of them asked for an access token.
func (a *API) TokenRequests() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tokenRequests
}

// SetTokenLifetime is the expires_in of the tokens issued from now on; the
// API also refuses them once that has passed.
func (a *API) SetTokenLifetime(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tokenLifetime = d
}

// RevokeTokens makes every token issued so far invalid before its time, as
// PayPal does when the app's secret is rotated: the next Orders API call
// with one answers 401.
func (a *API) RevokeTokens() {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.tokens)
}

// FailNext makes the next Orders API request (not the token endpoint's)
// answer status with PayPal's error for it (500 INTERNAL_SERVER_ERROR, 503
// SERVICE_UNAVAILABLE, 429 RATE_LIMIT_REACHED…) and change nothing. Calls
// queue: FailNext(500); FailNext(503) fails the next two.
func (a *API) FailNext(status int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failures = append(a.failures, status)
}

// ForgetRequestIDs forgets every PayPal-Request-Id, as PayPal does once it
// has kept one long enough: a capture repeated after that meets the order
// already captured (ORDER_ALREADY_CAPTURED) instead of its first answer.
func (a *API) ForgetRequestIDs() {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.replays)
}

// Approve is the buyer at payerEmail approving the order on PayPal's
// checkout page, after which it can be captured. Call it from the test's
// goroutine: an order that does not exist or is already captured fails
// the test.
func (a *API) Approve(orderID, payerEmail string) {
	a.t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	o, ok := a.orders[orderID]
	switch {
	case !ok:
		a.t.Fatalf("paypaltest: approve order %s: there is no such order", orderID)
	case o.status == "COMPLETED":
		a.t.Fatalf("paypaltest: approve order %s: it is already captured", orderID)
	}
	o.status, o.payerEmail, o.updated = "APPROVED", payerEmail, now()
	if o.payer == "" {
		o.payer = randomID(13)
	}
}

// Placement is what the create call of orderID asked for.
func (a *API) Placement(orderID string) (Placement, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	o, ok := a.orders[orderID]
	if !ok {
		return Placement{}, false
	}
	return o.Placement, true
}

// issueToken is POST /v1/oauth2/token: a client-credentials grant for the
// app's basic auth.
func (a *API) issueToken(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tokenRequests++
	id, secret, ok := r.BasicAuth()
	if !ok || id != ClientID || secret != ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "Client Authentication failed"})
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"})
		return
	}
	token := "A21AA" + randomID(60)
	a.tokens[token] = now().Add(a.tokenLifetime)
	writeJSON(w, http.StatusOK, map[string]any{
		"scope":        "https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/payments/refund",
		"access_token": token, "token_type": "Bearer", "app_id": "APP-80W284485P519543T",
		"expires_in": int64(a.tokenLifetime / time.Second), "nonce": now().Format(time.RFC3339) + randomID(20),
	})
}

// authorized answers an Orders API request with h, under the lock, once
// any failure asked for is given and the bearer token holds.
func (a *API) authorized(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if len(a.failures) > 0 {
			status := a.failures[0]
			a.failures = a.failures[1:]
			writeFailure(w, status)
			return
		}
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if expires, known := a.tokens[token]; !ok || !known || !now().Before(expires) {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "Access Token not found in cache"})
			return
		}
		if r.Method == http.MethodPost {
			if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
				writeError(w, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "The server does not support the request payload's media type.",
					detail{Field: "Content-Type", Location: "header", Issue: "INVALID_CONTENT_TYPE", Description: "Content-Type must be application/json."})
				return
			}
		}
		h(w, r)
	})
}

// replayed answers r again if its PayPal-Request-Id succeeded before.
func (a *API) replayed(w http.ResponseWriter, r *http.Request) bool {
	id := r.Header.Get("PayPal-Request-Id")
	if id == "" {
		return false
	}
	first, ok := a.replays[r.URL.Path+"\x00"+id]
	if !ok {
		return false
	}
	// PayPal answers "the latest status of the previous request".
	writeJSON(w, first.status, a.render(a.orders[first.orderID], wantsRepresentation(r)))
	return true
}

// remember keeps a successful answer for r's PayPal-Request-Id.
func (a *API) remember(r *http.Request, orderID string, status int) {
	if id := r.Header.Get("PayPal-Request-Id"); id != "" {
		a.replays[r.URL.Path+"\x00"+id] = replay{orderID: orderID, status: status}
	}
}

// orderCreation is what the API reads of a create call.
type orderCreation struct {
	Intent        string `json:"intent"`
	PurchaseUnits []struct {
		CustomID    string       `json:"custom_id"`
		Description string       `json:"description"`
		Amount      paypal.Money `json:"amount"`
	} `json:"purchase_units"`
	PaymentSource struct {
		PayPal *struct {
			ExperienceContext struct {
				ReturnURL          string `json:"return_url"`
				CancelURL          string `json:"cancel_url"`
				UserAction         string `json:"user_action"`
				ShippingPreference string `json:"shipping_preference"`
			} `json:"experience_context"`
		} `json:"paypal"`
	} `json:"payment_source"`
}

// createOrder is POST /v2/checkout/orders.
func (a *API) createOrder(w http.ResponseWriter, r *http.Request) {
	if a.replayed(w, r) {
		return
	}
	var c orderCreation
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&c); err != nil {
		writeInvalid(w, detail{Issue: "MALFORMED_REQUEST_JSON", Description: "The request JSON is not well formed: " + err.Error()})
		return
	}
	if d, bad := c.refusal(); bad {
		writeInvalid(w, d)
		return
	}
	u := c.PurchaseUnits[0]
	o := &apiOrder{
		Placement: Placement{
			RequestID: r.Header.Get("PayPal-Request-Id"), Intent: c.Intent,
			CustomID: u.CustomID, Description: u.Description, Amount: u.Amount,
		},
		id: randomID(17), status: "CREATED", created: now(),
	}
	if pp := c.PaymentSource.PayPal; pp != nil {
		ec := pp.ExperienceContext
		o.ReturnURL, o.CancelURL, o.UserAction, o.ShippingPreference = ec.ReturnURL, ec.CancelURL, ec.UserAction, ec.ShippingPreference
		o.status, o.redirectedCheckout = "PAYER_ACTION_REQUIRED", true
	}
	o.updated = o.created
	a.orders[o.id] = o
	a.remember(r, o.id, http.StatusCreated)
	writeJSON(w, http.StatusCreated, a.render(o, wantsRepresentation(r)))
}

// refusal is what PayPal would refuse in c, as the detail of its 400.
func (c orderCreation) refusal() (detail, bool) {
	const unit = "/purchase_units/@reference_id=='default'"
	switch {
	case c.Intent == "":
		return detail{Field: "/intent", Issue: "MISSING_REQUIRED_PARAMETER", Description: "A required field / parameter is missing."}, true
	case c.Intent != "CAPTURE":
		return detail{Field: "/intent", Value: c.Intent, Issue: "INVALID_PARAMETER_VALUE",
			Description: "paypaltest takes intent CAPTURE only."}, true
	case len(c.PurchaseUnits) == 0:
		return detail{Field: "/purchase_units", Issue: "MISSING_REQUIRED_PARAMETER", Description: "A required field / parameter is missing."}, true
	case len(c.PurchaseUnits) > 1:
		return detail{Field: "/purchase_units", Issue: "INVALID_ARRAY_MAX_ITEMS", Description: "paypaltest takes one purchase unit only."}, true
	}
	u := c.PurchaseUnits[0]
	cents, err := u.Amount.Cents()
	switch {
	case len(u.Amount.CurrencyCode) != 3:
		return detail{Field: unit + "/amount/currency_code", Value: u.Amount.CurrencyCode, Issue: "INVALID_PARAMETER_VALUE",
			Description: "The value of a field is invalid."}, true
	case err != nil || cents <= 0:
		return detail{Field: unit + "/amount/value", Value: u.Amount.Value, Issue: "INVALID_PARAMETER_VALUE",
			Description: "The value of a field is invalid."}, true
	case utf8.RuneCountInString(u.CustomID) > 127:
		return detail{Field: unit + "/custom_id", Value: u.CustomID, Issue: "INVALID_STRING_MAX_LENGTH",
			Description: "The value of a field is too long."}, true
	case utf8.RuneCountInString(u.Description) > 127:
		return detail{Field: unit + "/description", Value: u.Description, Issue: "INVALID_STRING_MAX_LENGTH",
			Description: "The value of a field is too long."}, true
	}
	return detail{}, false
}

// captureOrder is POST /v2/checkout/orders/{id}/capture.
func (a *API) captureOrder(w http.ResponseWriter, r *http.Request) {
	if a.replayed(w, r) {
		return
	}
	o, ok := a.orders[r.PathValue("id")]
	switch {
	case !ok:
		writeNotFound(w, r.PathValue("id"))
		return
	case o.status == "COMPLETED":
		writeUnprocessable(w, "ORDER_ALREADY_CAPTURED", "Order already captured.If 'intent=CAPTURE' only one capture per order is allowed.")
		return
	case o.status != "APPROVED":
		writeUnprocessable(w, "ORDER_NOT_APPROVED",
			"Payer has not yet approved the Order for payment. Please redirect the payer to the 'rel':'approve' url returned as part of the HATEOAS links within the Create Order call or provide a valid payment_source in the request.")
		return
	}
	o.status, o.capture, o.captured = "COMPLETED", randomID(17), now()
	o.updated = o.captured
	a.remember(r, o.id, http.StatusCreated)
	writeJSON(w, http.StatusCreated, a.render(o, wantsRepresentation(r)))
}

// getOrder is GET /v2/checkout/orders/{id}: always the whole order.
func (a *API) getOrder(w http.ResponseWriter, r *http.Request) {
	o, ok := a.orders[r.PathValue("id")]
	if !ok {
		writeNotFound(w, r.PathValue("id"))
		return
	}
	writeJSON(w, http.StatusOK, a.render(o, true))
}

// wantsRepresentation is a request's Prefer: return=representation. PayPal
// answers create and capture with a minimal order otherwise: no custom_id,
// amount or description on the purchase units.
func wantsRepresentation(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Prefer"), "return=representation")
}

// The order as PayPal writes it.
type (
	wireOrder struct {
		ID            string        `json:"id"`
		Intent        string        `json:"intent,omitempty"`
		Status        string        `json:"status"`
		PaymentSource *wireSource   `json:"payment_source,omitempty"`
		PurchaseUnits []wireUnit    `json:"purchase_units,omitempty"`
		Payer         *wirePayer    `json:"payer,omitempty"`
		CreateTime    string        `json:"create_time,omitempty"`
		UpdateTime    string        `json:"update_time,omitempty"`
		Links         []paypal.Link `json:"links"`
	}
	wireSource struct {
		PayPal struct {
			EmailAddress  string             `json:"email_address,omitempty"`
			AccountID     string             `json:"account_id,omitempty"`
			AccountStatus string             `json:"account_status,omitempty"`
			Name          *paypal.PersonName `json:"name,omitempty"`
			Address       *wireAddress       `json:"address,omitempty"`
		} `json:"paypal"`
	}
	wirePayer struct {
		Name         paypal.PersonName `json:"name"`
		EmailAddress string            `json:"email_address"`
		PayerID      string            `json:"payer_id"`
		Address      wireAddress       `json:"address"`
	}
	wireAddress struct {
		CountryCode string `json:"country_code"`
	}
	wireUnit struct {
		ReferenceID string        `json:"reference_id"`
		Amount      *paypal.Money `json:"amount,omitempty"`
		Description string        `json:"description,omitempty"`
		CustomID    string        `json:"custom_id,omitempty"`
		Payments    *wirePayments `json:"payments,omitempty"`
	}
	wirePayments struct {
		Captures []wireCapture `json:"captures"`
	}
	// wireCapture is a capture as the order lists it and, with its
	// supplementary data, as a webhook event carries it.
	wireCapture struct {
		ID               string       `json:"id"`
		Status           string       `json:"status"`
		Amount           paypal.Money `json:"amount"`
		FinalCapture     bool         `json:"final_capture"`
		SellerProtection struct {
			Status string `json:"status"`
		} `json:"seller_protection"`
		CustomID          string `json:"custom_id,omitempty"`
		InvoiceID         string `json:"invoice_id,omitempty"`
		SupplementaryData *struct {
			RelatedIDs struct {
				OrderID string `json:"order_id"`
			} `json:"related_ids"`
		} `json:"supplementary_data,omitempty"`
		CreateTime string        `json:"create_time"`
		UpdateTime string        `json:"update_time"`
		Links      []paypal.Link `json:"links"`
	}
)

// buyerName and buyerCountry are every approving buyer's.
var (
	buyerName    = paypal.PersonName{GivenName: "Test", Surname: "Buyer"}
	buyerCountry = "US"
)

// render is o as PayPal answers with it: whole, or minimal (id, status,
// payment source, payer, the captures, links).
func (a *API) render(o *apiOrder, whole bool) wireOrder {
	self := a.URL() + "/v2/checkout/orders/" + o.id
	w := wireOrder{ID: o.id, Status: o.status, Links: []paypal.Link{{Href: self, Rel: "self", Method: http.MethodGet}}}
	switch o.status {
	case "CREATED":
		w.Links = append(w.Links, paypal.Link{Href: CheckoutURL + o.id, Rel: "approve", Method: http.MethodGet},
			paypal.Link{Href: self, Rel: "update", Method: http.MethodPatch}, paypal.Link{Href: self + "/capture", Rel: "capture", Method: http.MethodPost})
	case "PAYER_ACTION_REQUIRED":
		w.Links = append(w.Links, paypal.Link{Href: CheckoutURL + o.id, Rel: "payer-action", Method: http.MethodGet})
	case "APPROVED":
		w.Links = append(w.Links, paypal.Link{Href: self, Rel: "update", Method: http.MethodPatch}, paypal.Link{Href: self + "/capture", Rel: "capture", Method: http.MethodPost})
	}
	if o.redirectedCheckout || o.payerEmail != "" {
		w.PaymentSource = &wireSource{}
	}
	if o.payerEmail != "" {
		pp := &w.PaymentSource.PayPal
		pp.EmailAddress, pp.AccountID, pp.AccountStatus = o.payerEmail, o.payer, "VERIFIED"
		pp.Name, pp.Address = &buyerName, &wireAddress{CountryCode: buyerCountry}
		w.Payer = &wirePayer{Name: buyerName, EmailAddress: o.payerEmail, PayerID: o.payer, Address: wireAddress{CountryCode: buyerCountry}}
	}
	unit := wireUnit{ReferenceID: "default"}
	if o.capture != "" {
		unit.Payments = &wirePayments{Captures: []wireCapture{captureOf(o.id, o.capture, "COMPLETED", o.Amount, o.CustomID, "", o.captured, false)}}
	}
	if whole {
		w.Intent, w.CreateTime, w.UpdateTime = o.Intent, stamp(o.created), stamp(o.updated)
		unit.Amount, unit.Description, unit.CustomID = &o.Amount, o.Description, o.CustomID
	}
	if whole || unit.Payments != nil {
		w.PurchaseUnits = []wireUnit{unit}
	}
	return w
}

// captureOf is a capture of orderID, with supplementary data as webhooks
// carry it when related.
func captureOf(orderID, id, status string, amount paypal.Money, customID, invoiceID string, at time.Time, related bool) wireCapture {
	const api = "https://api.paypal.com"
	c := wireCapture{
		ID: id, Status: status, Amount: amount, FinalCapture: true, CustomID: customID, InvoiceID: invoiceID,
		CreateTime: stamp(at), UpdateTime: stamp(at),
		Links: []paypal.Link{
			{Href: api + "/v2/payments/captures/" + id, Rel: "self", Method: http.MethodGet},
			{Href: api + "/v2/payments/captures/" + id + "/refund", Rel: "refund", Method: http.MethodPost},
			{Href: api + "/v2/checkout/orders/" + orderID, Rel: "up", Method: http.MethodGet},
		},
	}
	c.SellerProtection.Status = "ELIGIBLE"
	if related {
		c.SupplementaryData = &struct {
			RelatedIDs struct {
				OrderID string `json:"order_id"`
			} `json:"related_ids"`
		}{}
		c.SupplementaryData.RelatedIDs.OrderID = orderID
	}
	return c
}

// CaptureCompletedEvent is the PAYMENT.CAPTURE.COMPLETED webhook body
// PayPal sends once o (an order captured through the API) is paid: its
// resource is o's completed capture as the v2 Payments API writes it, with
// o's id in supplementary_data.related_ids.order_id. Sign it with
// PayPal.Sign. It panics for an order without a completed capture.
func CaptureCompletedEvent(eventID string, o paypal.Order) []byte {
	u, ok := o.Unit()
	if !ok {
		panic(fmt.Sprintf("paypaltest: order %s has no purchase unit, so no capture", o.ID))
	}
	for _, c := range u.Payments.Captures {
		if c.Status != "COMPLETED" {
			continue
		}
		customID, invoiceID, amount := c.CustomID, c.InvoiceID, c.Amount
		if customID == "" {
			customID = u.CustomID
		}
		if invoiceID == "" {
			invoiceID = u.InvoiceID
		}
		if amount == (paypal.Money{}) {
			amount = u.Amount
		}
		return Event(eventID, paypal.CaptureCompleted, "capture", captureOf(o.ID, c.ID, c.Status, amount, customID, invoiceID, now(), true))
	}
	panic(fmt.Sprintf("paypaltest: order %s (%s) has no completed capture; capture it first", o.ID, o.Status))
}

// detail is one of an error's details.
type detail struct {
	Field       string `json:"field,omitempty"`
	Value       string `json:"value,omitempty"`
	Location    string `json:"location,omitempty"`
	Issue       string `json:"issue"`
	Description string `json:"description"`
}

// writeError answers with PayPal's error JSON.
func writeError(w http.ResponseWriter, status int, name, message string, details ...detail) {
	issue := name
	if len(details) > 0 {
		issue = details[0].Issue
	}
	writeJSON(w, status, map[string]any{
		"name": name, "message": message, "details": details, "debug_id": randomDebugID(),
		"links": []paypal.Link{{Href: "https://developer.paypal.com/docs/api/orders/v2/#error-" + issue, Rel: "information_link", Method: http.MethodGet}},
	})
}

func writeInvalid(w http.ResponseWriter, d detail) {
	if d.Location == "" {
		d.Location = "body"
	}
	writeError(w, http.StatusBadRequest, "INVALID_REQUEST", "Request is not well-formed, syntactically incorrect, or violates schema.", d)
}

func writeUnprocessable(w http.ResponseWriter, issue, description string) {
	writeError(w, http.StatusUnprocessableEntity, "UNPROCESSABLE_ENTITY",
		"The requested action could not be performed, semantically incorrect, or failed business validation.",
		detail{Issue: issue, Description: description})
}

func writeNotFound(w http.ResponseWriter, id string) {
	writeError(w, http.StatusNotFound, "RESOURCE_NOT_FOUND", "The specified resource does not exist.",
		detail{Field: "order_id", Value: id, Location: "path", Issue: "INVALID_RESOURCE_ID", Description: "Specified resource ID does not exist. Please check the resource ID and try again."})
}

// writeFailure is PayPal's answer of status when it cannot serve.
func writeFailure(w http.ResponseWriter, status int) {
	switch status {
	case http.StatusTooManyRequests:
		writeError(w, status, "RATE_LIMIT_REACHED", "Too many requests. Blocked due to rate limiting.")
	case http.StatusInternalServerError:
		writeError(w, status, "INTERNAL_SERVER_ERROR", "An internal server error has occurred.")
	case http.StatusServiceUnavailable:
		writeError(w, status, "SERVICE_UNAVAILABLE", "Service Unavailable.")
	default:
		writeError(w, status, strings.ToUpper(strings.ReplaceAll(http.StatusText(status), " ", "_")), http.StatusText(status)+".")
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("paypaltest: marshal an answer: %v", err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// randomID is n capital letters and digits, the alphabet of PayPal's ids
// ("5O190127TN364715T").
func randomID(n int) string {
	var id string
	for len(id) < n {
		id += rand.Text() // 26 characters of A–Z and 2–7
	}
	return id[:n]
}

// randomDebugID is shaped like PayPal's debug ids ("f3d5a6e1b2c04").
func randomDebugID() string { return strings.ToLower(randomID(13)) }

func now() time.Time { return time.Now().UTC() }

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
