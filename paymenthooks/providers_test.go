package paymenthooks_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/lifecycle/lifecyclefake"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/paymenthooks"
	"github.com/licenseflow/licenseflow/payments/paypal"
	"github.com/licenseflow/licenseflow/payments/paypal/paypaltest"
	"github.com/licenseflow/licenseflow/testsupport"
)

// PayPal's and Paddle's webhooks are tested like Stripe's: deliveries
// signed as the provider signs them, posted to the router, on a real SQLite
// store with the workflows faked. PayPal's certificate host is
// paypaltest's loopback stand-in.

const (
	paypalWebhookID = "8PT597110X687430LKGECATA"
	paddleSecret    = "pdl_ntfset_01providerstest_secret"
	providersAdmin  = "lft_providers-test-admin-token"
)

// providerTest is hookTest with PayPal and Paddle configured (and credit
// notes laid out), plus the stand-in for PayPal's certificate host.
type providerTest struct {
	*hookTest
	pp *paypaltest.PayPal
}

// newProviderTest mounts the webhooks with PayPal verified for
// paypalWebhookID and Paddle for paddleSecret; configure changes the
// dependencies first (to unset a provider, say).
func newProviderTest(t *testing.T, configure ...func(*paymenthooks.Deps)) *providerTest {
	t.Helper()
	gin.SetMode(gin.TestMode)
	st := testsupport.SQLite(t)
	_, err := st.EnsureToken(t.Context(), "admin", providersAdmin, models.StringList{string(models.ScopeAdmin)})
	require.NoError(t, err)
	pp := paypaltest.New(t)
	flows := &lifecyclefake.Fake{}
	d := paymenthooks.Deps{Store: st, Lifecycle: flows, PayPal: pp.Verifier(paypalWebhookID), PaddleSecrets: []string{paddleSecret},
		RenderCreditNote: func(models.CreditNote, models.Invoice) ([]byte, error) { return []byte("%PDF-1.3"), nil }}
	for _, c := range configure {
		c(&d)
	}
	r := httpx.NewRouter(httpx.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Database: st})
	paymenthooks.Mount(r, d)
	return &providerTest{hookTest: &hookTest{t: t, store: st, flows: flows, router: r}, pp: pp}
}

// post sends payload to a provider's webhook with the given headers.
func (h *providerTest) post(provider models.PaymentProvider, payload []byte, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/api/v1/webhooks/"+string(provider), strings.NewReader(string(payload)))
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	w := httptest.NewRecorder()
	h.router.ServeHTTP(w, req)
	return w
}

// answer is the receipt of a delivery that must have been acknowledged.
func (h *providerTest) answer(w *httptest.ResponseRecorder) hookAnswer {
	h.t.Helper()
	require.Equal(h.t, http.StatusOK, w.Code, w.Body.String())
	return decode(h.t, w)
}

// events is the operators' listing of a provider's received events.
func (h *providerTest) events(provider models.PaymentProvider) []paymenthooks.EventView {
	h.t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/api/v1/webhooks/"+string(provider)+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+providersAdmin)
	w := httptest.NewRecorder()
	h.router.ServeHTTP(w, req)
	require.Equal(h.t, http.StatusOK, w.Code, w.Body.String())
	var page httpx.Page[paymenthooks.EventView]
	require.NoError(h.t, json.Unmarshal(w.Body.Bytes(), &page))
	return page.Data
}

// reviewNotices are the payment.needs_review webhook events written so
// far (whether or not an endpoint subscribes to them).
func (h *providerTest) reviewNotices() []models.WebhookData {
	h.t.Helper()
	var events []models.WebhookEvent
	require.NoError(h.t, h.store.DB().Where("type = ?", models.EventPaymentNeedsReview).Order("seq").Find(&events).Error)
	out := make([]models.WebhookData, len(events))
	for i, e := range events {
		out[i] = e.Data.V
	}
	return out
}

// tier is a tier of the seeded example catalog.
func (h *providerTest) tier(key string) models.Tier {
	h.t.Helper()
	tier, err := h.store.GetTier(h.t.Context(), key)
	require.NoError(h.t, err)
	return tier
}

func (h *providerTest) license(id string) models.License {
	h.t.Helper()
	l, err := h.store.GetLicense(h.t.Context(), id)
	require.NoError(h.t, err)
	return l
}

func (h *providerTest) order(id string) models.Order {
	h.t.Helper()
	o, err := h.store.GetOrder(h.t.Context(), id)
	require.NoError(h.t, err)
	return o
}

// claim records an event as another delivery being handled right now.
func (h *providerTest) claim(provider models.PaymentProvider, id, typ string) {
	h.t.Helper()
	_, claimed, err := h.store.ClaimPaymentEvent(h.t.Context(), models.PaymentEvent{
		ID: models.PaymentEventKey(provider, id), Provider: provider, Type: typ, Payload: "{}",
	}, time.Now())
	require.NoError(h.t, err)
	require.True(h.t, claimed)
}

// signalled are the signals of type T sent to license workflows so far
// (*models.SuspendRequest, *models.RenewRequest).
func signalled[T models.LicenseSignal](h *providerTest) []T {
	var out []T
	for _, s := range h.flows.Signals() {
		if m, ok := s.Msg.(T); ok {
			out = append(out, m)
		}
	}
	return out
}

// assertListed checks the operators' listing of the provider's events: id
// alone, finished with the outcome for the license and order.
func (h *providerTest) assertListed(provider models.PaymentProvider, id, typ string, outcome models.PaymentEventOutcome, o models.Order) {
	h.t.Helper()
	events := h.events(provider)
	require.Len(h.t, events, 1)
	require.NotNil(h.t, events[0].FinishedAt)
	assert.Equal(h.t, paymenthooks.EventView{ID: id, Provider: provider, Type: typ, Livemode: true, Outcome: outcome,
		LicenseID: o.LicenseID, OrderID: o.ID, ReceivedAt: events[0].ReceivedAt, FinishedAt: events[0].FinishedAt}, events[0])
}

// assertRefused checks that a delivery was answered status and code and
// that nothing was recorded since before.
func (h *providerTest) assertRefused(w *httptest.ResponseRecorder, status int, code string, before map[string]int64, what string) {
	h.t.Helper()
	assert.Equal(h.t, status, w.Code, "%s: %s", what, w.Body.String())
	assert.Equal(h.t, code, errorCode(h.t, w), what)
	assert.Equal(h.t, before, testsupport.RowCounts(h.t, h.store), "%s: nothing recorded", what)
}

// assertAnnounced checks that each held payment, and nothing else, was
// announced by a payment.needs_review naming the provider's event.
func (h *providerTest) assertAnnounced(provider models.PaymentProvider, typ string, held map[string]bool) {
	h.t.Helper()
	notices := h.reviewNotices()
	require.Len(h.t, notices, len(held), "one payment.needs_review per held payment")
	for _, n := range notices {
		require.NotNil(h.t, n.Payment)
		assert.Equal(h.t, provider, n.Payment.Provider)
		assert.Equal(h.t, typ, n.Payment.Type)
		assert.True(h.t, held[n.Payment.EventID], "names the event: %+v", n.Payment)
		assert.Empty(h.t, n.Payment.StripeEventID)
		assert.NotEmpty(h.t, n.Reason)
	}
}

// assertOneLicense checks that deliveries recorded one order and one
// license and started its workflow once.
func (h *providerTest) assertOneLicense() {
	h.t.Helper()
	counts := testsupport.RowCounts(h.t, h.store)
	assert.Equal(h.t, []int64{1, 1}, []int64{counts["orders"], counts["licenses"]}, "one order, one license")
	assert.Len(h.t, h.flows.Starts(), 1)
}

// The events listing is per provider: an unknown provider is a 404, not
// an empty list.
func TestTheEventsListingNamesOnlyKnownProviders(t *testing.T) {
	h := newProviderTest(t)
	h.paddleBuy("evt_01buy", "txn_01buy")
	pp := paypaltest.Event("WH-IGNORED-1", paypal.CaptureCompleted, "capture", map[string]any{"id": "CAPTURE-1", "status": "COMPLETED"})
	assert.Equal(t, models.PaymentEventIgnored, h.answer(h.paypalDeliver(pp)).Outcome)

	assert.Len(t, h.events(models.ProviderPaddle), 1)
	assert.Len(t, h.events(models.ProviderPayPal), 1)
	req := httptest.NewRequest(http.MethodGet, "/api/v1/webhooks/adyen/events", nil)
	req.Header.Set("Authorization", "Bearer "+providersAdmin)
	w := httptest.NewRecorder()
	h.router.ServeHTTP(w, req)
	assert.Equal(t, http.StatusNotFound, w.Code)
	req = httptest.NewRequest(http.MethodGet, "/api/v1/webhooks/paddle/events", nil)
	w = httptest.NewRecorder()
	h.router.ServeHTTP(w, req)
	assert.Equal(t, http.StatusUnauthorized, w.Code, "operators only")
}
