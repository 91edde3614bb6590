package api_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
)

// A trial is bought like a license, with "type":"trial": its term is the
// tier's trial length and it costs nothing; anything that would make it a
// paid or longer purchase is refused before anything is recorded.
func TestATrialIsStartedForTheTiersTrialLengthAndCostsNothing(t *testing.T) {
	a := newAPITest(t)
	before := time.Now().UTC().Truncate(time.Second)
	w := a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses",
		`{"user_email":"taster@example.com","tier":"suite","order_id":"trial-1","type":"trial"}`)
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	starts := a.flows.Starts()
	require.Len(t, starts, 1)
	o := starts[0].Order
	assert.Equal(t, models.OrderTrial, o.Kind)
	assert.Zero(t, o.AmountCents, "a trial is free")
	require.NotNil(t, o.ExpiresAt)
	assert.WithinDuration(t, before.Add(14*24*time.Hour), *o.ExpiresAt, 5*time.Second, "the suite's trial lasts 14 days")
	assert.Equal(t, models.TypeTrial, starts[0].License.Type)

	for _, c := range []struct{ body, code, field string }{
		{`"tier":"pos"`, "trial_unavailable", "type"},
		{`"tier":"suite","expires_months":12`, "trial_term", "type"},
		{`"tier":"suite","expires_at":"` + time.Now().AddDate(0, 1, 0).UTC().Format(time.RFC3339) + `"`, "trial_term", "type"},
		{`"tier":"suite","amount_cents":100`, "trial_is_free", "amount_cents"},
	} {
		w := a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses",
			`{"user_email":"refused@example.com","order_id":"refused-1","type":"trial",`+c.body+`}`)
		require.Equal(t, http.StatusUnprocessableEntity, w.Code, c.body)
		e := errorOf(t, w)
		assert.Equal(t, c.code, e.Code, c.body)
		assert.Equal(t, c.field, e.Field, c.body)
	}
	_, err := a.store.GetOrder(context.Background(), "refused-1")
	assert.ErrorIs(t, err, models.ErrNotFound, "nothing recorded")

	w = a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses",
		`{"user_email":"TASTER@example.com","tier":"suite","order_id":"trial-again","type":"trial"}`)
	require.Equal(t, http.StatusConflict, w.Code, w.Body.String())
	assert.Equal(t, "trial_used", errorOf(t, w).Code, "one trial per customer and tier")
	w = a.call(adminToken, http.MethodPost, "/api/v1/licensing/licenses",
		`{"user_email":"taster@example.com","tier":"suite","order_id":"trial-1","type":"trial"}`)
	assert.Equal(t, http.StatusOK, w.Code, "retrying the trial's own order is no second trial: %s", w.Body.String())
	assert.Len(t, a.flows.Starts(), 2, "the retry starts (finds) the same workflow; the refused trial starts none")
}

// The catalog sells trials per tier, within bounds, never on a lifetime
// tier (a trial converts by a renewal, which a lifetime license has not).
func TestTiersOfferTrialsWithinBounds(t *testing.T) {
	a := newAPITest(t)
	tier := func(key, term string, days int) string {
		return `{"key":"` + key + `","name":"T","products":["base"],"max_domains":1,"term":"` + term +
			`","price_cents":100,"currency":"EUR","channels":["stable"],"trial_days":` + strconv.Itoa(days) + `}`
	}
	w := a.call(adminToken, http.MethodPost, "/api/v1/tiers", tier("tryme", "annual", 30))
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	assert.Contains(t, w.Body.String(), `"trial_days":30`)
	for body, code := range map[string]string{
		tier("toolong", "annual", models.MaxTrialDays+1): "invalid_trial_days",
		tier("negative", "annual", -1):                   "invalid_trial_days",
		tier("forever", "lifetime", 14):                  "lifetime_trial",
	} {
		w := a.call(adminToken, http.MethodPost, "/api/v1/tiers", body)
		require.Equal(t, http.StatusUnprocessableEntity, w.Code, body)
		assert.Equal(t, code, errorOf(t, w).Code, body)
	}
}
