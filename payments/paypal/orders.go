package paypal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// PayPal's REST API hosts, for ClientConfig.BaseURL.
const (
	LiveAPIURL    = "https://api-m.paypal.com"
	SandboxAPIURL = "https://api-m.sandbox.paypal.com"
)

var (
	// ErrUnavailable is PayPal not answering (a network error, a timeout),
	// answering 5xx, or asking to slow down (429). It is transient: the
	// same call may succeed later, and with the same request id it does not
	// pay twice.
	ErrUnavailable = errors.New("PayPal is unavailable")
	// ErrNotApproved is a capture of an order the buyer has not approved
	// (yet): send them to the order's ApproveURL first.
	ErrNotApproved = errors.New("the buyer has not approved the PayPal order")
)

const (
	// maxAnswer bounds what is read of any PayPal answer: an order is a few
	// KiB, and the body is read into memory.
	maxAnswer = 1 << 20
	// maxUnitText is PayPal's limit on a purchase unit's custom_id and
	// description, in characters.
	maxUnitText = 127
	// maxRequestID is PayPal's limit on PayPal-Request-Id for orders.
	maxRequestID = 108
	// tokenMargin is how long before PayPal's expiry a token stops being
	// used, so that one does not expire between being picked and arriving.
	tokenMargin = time.Minute
	// maxTokenLifetime (seconds) bounds an expires_in that would overflow
	// a time.Duration; PayPal's tokens live 32400.
	maxTokenLifetime = 7 * 24 * 3600
)

// orderID is what an order id may look like before it goes into a path
// ("5O190127TN364715T"); anything else could reach another endpoint.
var orderID = regexp.MustCompile(`^[A-Z0-9]{1,64}$`)

// currencyCode is an ISO 4217 code as PayPal spells it ("EUR").
var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// ClientConfig is how a Client reaches PayPal's REST API.
type ClientConfig struct {
	// BaseURL is the API's origin (PAYPAL_API_URL): LiveAPIURL if "",
	// SandboxAPIURL for sandbox credentials. It must be https; plain http
	// is accepted for 127.0.0.1 and localhost only (test servers).
	BaseURL string
	// ClientID and ClientSecret are the REST app's credentials
	// (PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET).
	ClientID, ClientSecret string
	// HTTP makes the requests; nil means a client that gives up after 30
	// seconds. It is copied, and redirects are not followed: they would
	// carry the credentials to wherever PayPal's answer points.
	HTTP *http.Client
}

// Client calls PayPal's Orders API v2 with an OAuth token it fetches and
// keeps. It is safe for concurrent use.
type Client struct {
	base       string
	id, secret string
	http       http.Client

	mu    sync.Mutex
	token *tokenFetch
}

// tokenFetch is a fetched (or being fetched) access token. Whoever creates
// it fetches; calls arriving meanwhile wait for its ready, so a burst of
// calls fetches one token.
type tokenFetch struct {
	ready   chan struct{} // closed once the fields below are set
	value   string
	expires time.Time
	err     error
	// abandoned is a fetch that failed because its caller gave up, not
	// because of PayPal: those who waited for it fetch again.
	abandoned bool
}

// NewClient is a Client for c, refused when c cannot work: credentials
// missing, or a BaseURL that would send them in clear text.
func NewClient(c ClientConfig) (*Client, error) {
	switch {
	case strings.TrimSpace(c.ClientID) == "":
		return nil, errors.New("PAYPAL_CLIENT_ID is not set; copy the client id of the REST app from the PayPal developer dashboard (Apps & Credentials)")
	case strings.TrimSpace(c.ClientSecret) == "":
		return nil, errors.New("PAYPAL_CLIENT_SECRET is not set; copy the secret of the REST app from the PayPal developer dashboard (Apps & Credentials)")
	}
	base, err := apiOrigin(c.BaseURL)
	if err != nil {
		return nil, err
	}
	hc := http.Client{Timeout: 30 * time.Second}
	if c.HTTP != nil {
		hc = *c.HTTP
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Client{base: base, id: c.ClientID, secret: c.ClientSecret, http: hc}, nil
}

// apiOrigin is rawURL checked and without a trailing slash.
func apiOrigin(rawURL string) (string, error) {
	if rawURL == "" {
		return LiveAPIURL, nil
	}
	hint := fmt.Sprintf("use %s, or %s for sandbox credentials", LiveAPIURL, SandboxAPIURL)
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("PAYPAL_API_URL %q is not a URL; %s", rawURL, hint)
	}
	loopback := u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost" || u.Hostname() == "::1"
	switch {
	case u.Scheme != "https" && !(u.Scheme == "http" && loopback):
		return "", fmt.Errorf("PAYPAL_API_URL %q is not https (plain http is accepted for 127.0.0.1 and localhost only); %s", rawURL, hint)
	case u.Host == "":
		return "", fmt.Errorf("PAYPAL_API_URL %q names no host; %s", rawURL, hint)
	case u.User != nil:
		return "", fmt.Errorf("PAYPAL_API_URL carries user info; put the credentials in PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET, and %s", hint)
	case strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("PAYPAL_API_URL %q is more than the API's origin (no path or query); %s", rawURL, hint)
	}
	return u.Scheme + "://" + u.Host, nil
}

// OrderRequest is an order to create: one purchase unit, paid through
// PayPal's checkout page.
type OrderRequest struct {
	// RequestID is sent as PayPal-Request-Id: the same request id gets the
	// same order back (PayPal's idempotency), so a retried creation does
	// not make a second order. Required, at most 108 characters.
	RequestID string
	// CustomID is the purchase unit's custom_id, which PayPal hands back on
	// the order, its capture and their webhooks. At most 127 characters: a
	// longer one is refused, since a clipped one would match nothing.
	CustomID string
	// Description is the purchase unit's description the buyer sees,
	// clipped to 127 characters.
	Description string
	// Amount is what the buyer pays; above zero.
	Amount Money
	// ReturnURL and CancelURL are where PayPal sends the buyer after they
	// approve or cancel; absolute http(s) URLs.
	ReturnURL, CancelURL string
}

// CreatedOrder is an order PayPal made.
type CreatedOrder struct {
	ID string
	// Status is "PAYER_ACTION_REQUIRED" (or "CREATED") for a new order; a
	// repeated RequestID answers with the order's latest status.
	Status string
	// ApproveURL is where the buyer approves the payment (the link with rel
	// "payer-action", "approve" in older answers); "" once the order no
	// longer waits for the buyer (a repeated RequestID after approval).
	ApproveURL string
}

// orderCreation is the body of POST /v2/checkout/orders.
type orderCreation struct {
	Intent        string         `json:"intent"`
	PurchaseUnits []unitCreation `json:"purchase_units"`
	PaymentSource struct {
		PayPal struct {
			ExperienceContext experienceContext `json:"experience_context"`
		} `json:"paypal"`
	} `json:"payment_source"`
}

type unitCreation struct {
	CustomID    string `json:"custom_id,omitempty"`
	Description string `json:"description,omitempty"`
	Amount      Money  `json:"amount"`
}

type experienceContext struct {
	ReturnURL          string `json:"return_url"`
	CancelURL          string `json:"cancel_url"`
	UserAction         string `json:"user_action"`
	ShippingPreference string `json:"shipping_preference"`
}

// CreateOrder creates an order to capture once the buyer approves it at
// the answer's ApproveURL. The buyer pays now (user_action PAY_NOW) and is
// asked for no shipping address (licenses ship nothing).
func (c *Client) CreateOrder(ctx context.Context, r OrderRequest) (CreatedOrder, error) {
	body, err := r.creation()
	if err != nil {
		return CreatedOrder{}, err
	}
	var answer struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Links  []Link `json:"links"`
	}
	if err := c.call(ctx, http.MethodPost, "/v2/checkout/orders", r.RequestID, body, &answer); err != nil {
		return CreatedOrder{}, fmt.Errorf("create the PayPal order for request %s: %w", r.RequestID, err)
	}
	if !orderID.MatchString(answer.ID) {
		return CreatedOrder{}, fmt.Errorf("create the PayPal order for request %s: PayPal answered with order id %q, which is no order id", r.RequestID, answer.ID)
	}
	created := CreatedOrder{ID: answer.ID, Status: answer.Status}
	for _, rel := range []string{"payer-action", "approve"} {
		if href := linkHref(answer.Links, rel); href != "" {
			created.ApproveURL = href
			break
		}
	}
	if created.ApproveURL != "" {
		if u, err := url.Parse(created.ApproveURL); err != nil || u.Scheme != "https" || u.Host == "" {
			return CreatedOrder{}, fmt.Errorf("create the PayPal order for request %s: order %s's approve link %q is no https URL", r.RequestID, answer.ID, created.ApproveURL)
		}
	}
	return created, nil
}

// creation is r checked and written as PayPal's request body.
func (r OrderRequest) creation() ([]byte, error) {
	switch n := utf8.RuneCountInString(r.CustomID); {
	case strings.TrimSpace(r.RequestID) == "":
		return nil, errors.New("a PayPal order needs a RequestID (PayPal-Request-Id), so that a retry gets the same order instead of a second one")
	case len(r.RequestID) > maxRequestID:
		return nil, fmt.Errorf("request id %q has %d characters; PayPal takes at most %d", r.RequestID, len(r.RequestID), maxRequestID)
	case n > maxUnitText:
		return nil, fmt.Errorf("custom id %q has %d characters; PayPal keeps at most %d", r.CustomID, n, maxUnitText)
	}
	if err := r.Amount.check(); err != nil {
		return nil, err
	}
	for _, u := range []struct{ name, url string }{{"return", r.ReturnURL}, {"cancel", r.CancelURL}} {
		if p, err := url.Parse(u.url); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return nil, fmt.Errorf("the %s URL %q of a PayPal order must be an absolute http(s) URL", u.name, u.url)
		}
	}
	body := orderCreation{
		Intent: "CAPTURE",
		PurchaseUnits: []unitCreation{{
			CustomID: r.CustomID, Description: clip(r.Description, maxUnitText), Amount: r.Amount,
		}},
	}
	body.PaymentSource.PayPal.ExperienceContext = experienceContext{
		ReturnURL: r.ReturnURL, CancelURL: r.CancelURL, UserAction: "PAY_NOW", ShippingPreference: "NO_SHIPPING",
	}
	return json.Marshal(body)
}

// check refuses an amount PayPal would not take for an order.
func (m Money) check() error {
	if !currencyCode.MatchString(m.CurrencyCode) {
		return fmt.Errorf("currency %q is not a three-letter ISO 4217 code such as EUR", m.CurrencyCode)
	}
	cents, err := m.Cents()
	if err != nil {
		return err
	}
	if cents == 0 {
		return fmt.Errorf("a PayPal order of %s %s pays nothing; its amount must be above zero", m.Value, m.CurrencyCode)
	}
	return nil
}

// clip is s cut to at most n characters.
func clip(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// linkHref is the href of the first link with rel, "" without one.
func linkHref(links []Link, rel string) string {
	for _, l := range links {
		if l.Rel == rel {
			return l.Href
		}
	}
	return ""
}

// CaptureOrder takes the payment of an order the buyer approved and
// returns the order as PayPal has it then, with its capture (see
// Order.CaptureID; a capture PayPal holds as PENDING or DECLINED has no
// CaptureID yet). The request id is "capture-"+orderID, so capturing again
// is safe: PayPal answers the same, and an order captured long ago
// (ORDER_ALREADY_CAPTURED) is read back instead.
//
// An order the buyer has not approved is ErrNotApproved.
func (c *Client) CaptureOrder(ctx context.Context, id string) (Order, error) {
	if err := checkOrderID(id); err != nil {
		return Order{}, err
	}
	var o Order
	err := c.call(ctx, http.MethodPost, "/v2/checkout/orders/"+id+"/capture", "capture-"+id, []byte("{}"), &o)
	var apiErr *APIError
	switch {
	case err == nil:
		return o, nil
	case errors.As(err, &apiErr) && apiErr.Has("ORDER_ALREADY_CAPTURED"):
		return c.GetOrder(ctx, id)
	case errors.As(err, &apiErr) && apiErr.Has("ORDER_NOT_APPROVED"):
		return Order{}, fmt.Errorf("capture PayPal order %s: %w; send the buyer to its approve URL first: %w", id, ErrNotApproved, err)
	}
	return Order{}, fmt.Errorf("capture PayPal order %s: %w", id, err)
}

// GetOrder is the order as PayPal has it now.
func (c *Client) GetOrder(ctx context.Context, id string) (Order, error) {
	if err := checkOrderID(id); err != nil {
		return Order{}, err
	}
	var o Order
	if err := c.call(ctx, http.MethodGet, "/v2/checkout/orders/"+id, "", nil, &o); err != nil {
		return Order{}, fmt.Errorf("read PayPal order %s: %w", id, err)
	}
	return o, nil
}

// checkOrderID refuses an id that is no PayPal order id before it becomes
// part of a path.
func checkOrderID(id string) error {
	if !orderID.MatchString(id) {
		return fmt.Errorf("%q is not a PayPal order id (1 to 64 capital letters and digits, such as 5O190127TN364715T)", id)
	}
	return nil
}

// APIError is an answer of PayPal's other than 2xx, with what PayPal said
// about it. One that wraps ErrUnavailable (5xx, 429) is transient.
type APIError struct {
	// Call is the request, "POST /v2/checkout/orders".
	Call       string
	StatusCode int
	// Name, Message and DebugID are PayPal's (name, message, debug_id; an
	// OAuth error's error and error_description are Name and Message).
	// Quote DebugID to PayPal's support.
	Name, Message, DebugID string
	// Details are details[].issue and description: "ORDER_NOT_APPROVED".
	Details []ErrorDetail
}

// ErrorDetail is one of an APIError's details.
type ErrorDetail struct {
	Issue       string `json:"issue"`
	Description string `json:"description"`
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "PayPal answered %s with %d %s", e.Call, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Name != "" {
		b.WriteString(": " + e.Name)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	for _, d := range e.Details {
		b.WriteString(" [" + d.Issue)
		if d.Description != "" {
			b.WriteString(": " + d.Description)
		}
		b.WriteString("]")
	}
	if e.DebugID != "" {
		b.WriteString(" (debug id " + e.DebugID + ")")
	}
	return b.String()
}

// Unwrap is ErrUnavailable for an answer worth trying again later.
func (e *APIError) Unwrap() error {
	if e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests {
		return ErrUnavailable
	}
	return nil
}

// Has reports whether PayPal named issue among the details.
func (e *APIError) Has(issue string) bool {
	for _, d := range e.Details {
		if d.Issue == issue {
			return true
		}
	}
	return false
}

// apiError reads PayPal's error body, which is JSON in one of two shapes
// (the REST APIs' and OAuth's), or anything at all from a proxy.
func apiError(call string, status int, h http.Header, body []byte) *APIError {
	var wire struct {
		Name             string        `json:"name"`
		Message          string        `json:"message"`
		DebugID          string        `json:"debug_id"`
		Details          []ErrorDetail `json:"details"`
		Error            string        `json:"error"`
		ErrorDescription string        `json:"error_description"`
	}
	e := &APIError{Call: call, StatusCode: status, DebugID: h.Get("Paypal-Debug-Id")}
	if json.Unmarshal(body, &wire) != nil {
		e.Message = clip(strings.Join(strings.Fields(string(body)), " "), 200)
		return e
	}
	e.Name, e.Message, e.Details = wire.Name, wire.Message, wire.Details
	if e.Name == "" {
		e.Name, e.Message = wire.Error, wire.ErrorDescription
	}
	if wire.DebugID != "" {
		e.DebugID = wire.DebugID
	}
	return e
}

// call sends one API request with an access token and reads a 2xx answer
// into out. A 401 means the token expired or was revoked before its time:
// it is dropped, and the call made once more with a new one.
func (c *Client) call(ctx context.Context, method, path, requestID string, body []byte, out any) error {
	for retried := false; ; retried = true {
		token, err := c.accessToken(ctx)
		if err != nil {
			return err
		}
		req, err := c.request(ctx, method, path, body)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
			// The whole order, not PayPal's minimal answer, which has no
			// custom_id or amount on its purchase units.
			req.Header.Set("Prefer", "return=representation")
		}
		if requestID != "" {
			req.Header.Set("PayPal-Request-Id", requestID)
		}
		status, header, answer, err := c.send(req)
		if err != nil {
			return err
		}
		if status == http.StatusUnauthorized && !retried {
			c.dropToken(token)
			continue
		}
		if status/100 != 2 {
			return apiError(method+" "+path, status, header, answer)
		}
		if err := json.Unmarshal(answer, out); err != nil {
			return fmt.Errorf("PayPal's answer to %s %s is not what the Orders API sends: %v", method, path, err)
		}
		return nil
	}
}

// request is a request to the API at path, answered in JSON.
func (c *Client) request(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return nil, fmt.Errorf("PayPal request %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// send makes req and reads its answer, at most maxAnswer of it. A network
// error is ErrUnavailable.
func (c *Client) send(req *http.Request) (status int, header http.Header, body []byte, err error) {
	call := req.Method + " " + req.URL.Path
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%w: %s: %w", ErrUnavailable, call, err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%w: read the answer to %s: %w", ErrUnavailable, call, err)
	}
	if len(body) > maxAnswer {
		return 0, nil, nil, fmt.Errorf("PayPal's answer to %s is larger than %d MiB, which is no answer of PayPal's", call, maxAnswer>>20)
	}
	return resp.StatusCode, resp.Header, body, nil
}

// accessToken is a token that is good for a minute at least: the kept one,
// or a new one.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	for {
		t, fetcher := c.tokenEntry()
		if fetcher {
			t.value, t.expires, t.err = c.fetchToken(ctx)
			t.abandoned = t.err != nil && ctx.Err() != nil
			close(t.ready)
			return t.value, t.err
		}
		select {
		case <-t.ready:
		case <-ctx.Done():
			return "", fmt.Errorf("%w: gave up waiting for a PayPal access token: %w", ErrUnavailable, ctx.Err())
		}
		if !t.abandoned {
			return t.value, t.err
		}
	}
}

// tokenEntry is the kept token if it is still good or being fetched, or a
// new entry that the caller (fetcher) must fill.
func (c *Client) tokenEntry() (t *tokenFetch, fetcher bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.token; t != nil {
		select {
		case <-t.ready:
			if t.err == nil && time.Now().Before(t.expires) {
				return t, false
			}
		default:
			return t, false // being fetched: wait for it
		}
	}
	c.token = &tokenFetch{ready: make(chan struct{})}
	return c.token, true
}

// dropToken forgets token after PayPal refused it, unless another call has
// already replaced it.
func (c *Client) dropToken(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.token; t != nil {
		select {
		case <-t.ready:
			if t.value == token {
				c.token = nil
			}
		default:
		}
	}
}

// fetchToken asks PayPal for a client-credentials token and when to stop
// using it: tokenMargin before it expires.
func (c *Client) fetchToken(ctx context.Context) (string, time.Time, error) {
	const path = "/v1/oauth2/token"
	req, err := c.request(ctx, http.MethodPost, path, []byte(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	if err != nil {
		return "", time.Time{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.id, c.secret)
	asked := time.Now()
	status, header, answer, err := c.send(req)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("get a PayPal access token: %w", err)
	}
	if status != http.StatusOK {
		err := apiError(http.MethodPost+" "+path, status, header, answer)
		if status == http.StatusUnauthorized {
			return "", time.Time{}, fmt.Errorf("get a PayPal access token: %w; check PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET, and that PAYPAL_API_URL is the sandbox (%s) for sandbox credentials", err, SandboxAPIURL)
		}
		return "", time.Time{}, fmt.Errorf("get a PayPal access token: %w", err)
	}
	var token struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	switch err := json.Unmarshal(answer, &token); {
	case err != nil:
		return "", time.Time{}, fmt.Errorf("get a PayPal access token: the answer is not PayPal's token JSON: %v", err)
	case token.AccessToken == "" || !strings.EqualFold(token.TokenType, "Bearer"):
		return "", time.Time{}, fmt.Errorf("get a PayPal access token: the answer holds no bearer token (token_type %q)", token.TokenType)
	}
	// A token living no longer than the margin serves the call that fetched
	// it only (expires is then already past); PayPal's live nine hours.
	lifetime := time.Duration(min(max(token.ExpiresIn, 0), maxTokenLifetime)) * time.Second
	return token.AccessToken, asked.Add(lifetime - tokenMargin), nil
}
