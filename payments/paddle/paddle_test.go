package paddle_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/payments/paddle"
)

const (
	secret = "pdl_ntfset_01jtestonlyk3y5ecretf0rpaddletests_aGVsbG8gcGFkZGxl"
	// retired is the destination's previous secret, kept during a rotation.
	retired = "pdl_ntfset_01jretiredk3yfromthelastrotation_b2xkIGtleSBpbiB1c2U"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// verified is a testdata notification as it arrives from Paddle, verified.
func verified(t *testing.T, name string) paddle.Event {
	t.Helper()
	body := sample(t, name)
	ev, err := paddle.Verify(body, paddle.Sign(body, secret, now), []string{secret}, now)
	require.NoError(t, err)
	return ev
}

// hmacHex is Paddle's documented signature, computed here independently of
// the package: HMAC-SHA256 of message under key, in hex.
func hmacHex(key, message string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(message))
	return hex.EncodeToString(m.Sum(nil))
}

func TestSignBuildsTheHeaderPaddleSends(t *testing.T) {
	body := sample(t, "customer_created.json")
	ts := strconv.FormatInt(now.Unix(), 10)
	assert.Equal(t, "ts="+ts+";h1="+hmacHex(secret, ts+":"+string(body)), paddle.Sign(body, secret, now))
}

func TestASignedNotificationVerifiesAndReadsItsEnvelope(t *testing.T) {
	ev := verified(t, "transaction_completed_first_purchase.json")
	assert.Equal(t, "evt_01jj99grz61ddttq24cf6gc6at", ev.ID)
	assert.Equal(t, paddle.TransactionCompleted, ev.Type)
	assert.Equal(t, "ntf_01jmfq9d4zwrfqbv36gh6d1e2g", ev.NotificationID)
	assert.True(t, ev.OccurredAt.Equal(time.Date(2026, 2, 14, 9, 31, 7, 204118000, time.UTC)), ev.OccurredAt)
	assert.Contains(t, string(ev.Data), `"txn_01jhnsxag6kbg7nbeshra89et4"`)
}

// Every way a Paddle-Signature can be wrong is refused with ErrBadSignature
// and a message that says which; rotations (several h1, several secrets)
// are accepted.
func TestSignatureRules(t *testing.T) {
	body := sample(t, "customer_created.json")
	ts := strconv.FormatInt(now.Unix(), 10)
	valid := hmacHex(secret, ts+":"+string(body))
	old := strconv.FormatInt(now.Add(-time.Hour).Unix(), 10)
	validAnHourAgo := hmacHex(secret, old+":"+string(body))
	fresh := paddle.Sign(body, secret, now)
	cases := []struct {
		name    string
		body    []byte // the body received, when not the one signed
		header  string
		secrets []string // {secret} when nil and not noSecrets
		none    bool     // no secret configured at all
		accept  bool
		says    string
	}{
		{name: "Paddle's own header", header: fresh, accept: true},
		{name: "signed exactly at the tolerance", header: paddle.Sign(body, secret, now.Add(-paddle.SignatureTolerance)), accept: true},
		{name: "several h1 during a rotation, one valid", header: "ts=" + ts + ";h1=" + hmacHex(retired, ts+":"+string(body)) + ";h1=" + valid, accept: true},
		{name: "two secrets configured, the second signs", header: fresh, secrets: []string{retired, secret}, accept: true},
		{name: "an unknown key beside h1", header: fresh + ";h2=" + strings.Repeat("ab", 40), accept: true},
		{name: "upper-case hex", header: "ts=" + ts + ";h1=" + strings.ToUpper(valid), accept: true},

		{name: "a tampered body", body: []byte(strings.Replace(string(body), "jana@bistro.example", "mallory@evil.example", 1)), header: fresh, says: "no h1 signature matches"},
		{name: "another destination's secret", header: paddle.Sign(body, "pdl_ntfset_someoneelse", now), says: "no h1 signature matches"},
		{name: "a signature over the body without ts", header: "ts=" + ts + ";h1=" + hmacHex(secret, string(body)), says: "no h1 signature matches"},
		{name: "a signature over ts and body without the colon", header: "ts=" + ts + ";h1=" + hmacHex(secret, ts+string(body)), says: "no h1 signature matches"},
		{name: "an old signature under a new ts", header: "ts=" + ts + ";h1=" + validAnHourAgo, says: "no h1 signature matches"},
		{name: "stale by 6 minutes", header: paddle.Sign(body, secret, now.Add(-6*time.Minute)), says: "the signature is 6m0s old (at most 5m0s is tolerated)"},
		{name: "6 minutes in the future", header: paddle.Sign(body, secret, now.Add(6*time.Minute)), says: "timestamped 6m0s ahead of this server's clock"},
		{name: "no header", header: "", says: "the Paddle-Signature header is missing"},
		{name: "a garbled header", header: "garbage", says: `part 1 ("garbage") is not key=value`},
		{name: "a trailing semicolon", header: fresh + ";", says: `part 3 ("") is not key=value`},
		{name: "a Stripe header", header: "t=" + ts + ",v1=" + valid, says: "has no timestamp (ts=)"},
		{name: "upper-case keys", header: "TS=" + ts + ";H1=" + valid, says: "has no timestamp (ts=)"},
		{name: "no ts", header: "h1=" + valid, says: "has no timestamp (ts=)"},
		{name: "a ts that is not a number", header: "ts=soon;h1=" + valid, says: `ts="soon" is not a Unix time in seconds`},
		{name: "an empty ts", header: "ts=;h1=" + valid, says: `ts="" is not a Unix time in seconds`},
		{name: "a ts with a plus sign", header: "ts=+" + ts + ";h1=" + hmacHex(secret, "+"+ts+":"+string(body)), says: "is not a Unix time in seconds"},
		{name: "a negative ts", header: "ts=-" + ts + ";h1=" + valid, says: "is not a Unix time in seconds"},
		{name: "a ts past any date", header: "ts=99999999999999999999;h1=" + valid, says: "is not a Unix time in seconds"},
		{name: "a ts in milliseconds", header: "ts=" + strconv.FormatInt(now.UnixMilli(), 10) + ";h1=" + valid, says: "is not a Unix time in seconds"},
		{name: "no h1", header: "ts=" + ts, says: "has no signature (h1=)"},
		{name: "an empty h1", header: "ts=" + ts + ";h1=", says: "h1 number 1 is not 64 hex digits"},
		{name: "a short h1", header: "ts=" + ts + ";h1=" + valid[:62], says: "h1 number 1 is not 64 hex digits"},
		{name: "a long h1", header: "ts=" + ts + ";h1=" + valid + "00", says: "h1 number 1 is not 64 hex digits"},
		{name: "an h1 that is not hex", header: "ts=" + ts + ";h1=" + strings.Repeat("zz", 32), says: "h1 number 1 is not 64 hex digits"},
		{name: "a bad h1 beside a valid one", header: fresh + ";h1=abc", says: "h1 number 2 is not 64 hex digits"},
		{name: "a second ts after an old signature", header: "ts=" + old + ";h1=" + validAnHourAgo + ";ts=" + ts, says: "has 2 timestamps (ts=)"},
		{name: "a second ts before an old signature", header: "ts=" + ts + ";ts=" + old + ";h1=" + validAnHourAgo, says: "has 2 timestamps (ts=)"},
		{name: "the same ts twice", header: "ts=" + ts + ";" + fresh, says: "has 2 timestamps (ts=)"},
		{name: "a space after the semicolon", header: "ts=" + ts + "; h1=" + valid, says: "contains whitespace or a non-ASCII character at byte"},
		{name: "a space inside ts", header: "ts= " + ts + ";h1=" + valid, says: "contains whitespace"},
		{name: "a tab", header: "ts=" + ts + ";\th1=" + valid, says: "contains whitespace"},
		{name: "a trailing newline", header: fresh + "\n", says: "contains whitespace"},
		{name: "a non-breaking space", header: "ts=" + ts + ";\u00a0h1=" + valid, says: "non-ASCII character"},
		{name: "no secret configured", header: fresh, none: true, says: "set PADDLE_WEBHOOK_SECRETS"},
		{name: "only blank secrets, signed with the empty key", header: paddle.Sign(body, "", now), secrets: []string{"", "  "}, says: "set PADDLE_WEBHOOK_SECRETS"},
		{name: "a blank secret beside a real one, signed with the empty key", header: paddle.Sign(body, "", now), secrets: []string{"", secret}, says: "no h1 signature matches"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			received := body
			if c.body != nil {
				received = c.body
			}
			secrets := c.secrets
			if secrets == nil && !c.none {
				secrets = []string{secret}
			}
			ev, err := paddle.Verify(received, c.header, secrets, now)
			if c.accept {
				require.NoError(t, err)
				assert.Equal(t, paddle.CustomerCreated, ev.Type)
				return
			}
			require.ErrorIs(t, err, paddle.ErrBadSignature)
			assert.NotErrorIs(t, err, paddle.ErrInvalidEvent)
			assert.Contains(t, err.Error(), c.says)
			assert.Zero(t, ev)
		})
	}
}

// Paddle signed it, so it is no forgery, but a body that is not a Paddle
// event is refused as ErrInvalidEvent, never handed on half-read.
func TestEnvelopeRules(t *testing.T) {
	envelope := func(id, typ string) string {
		return `{"event_id":` + strconv.Quote(id) + `,"event_type":` + strconv.Quote(typ) +
			`,"occurred_at":"2026-03-01T11:59:58.123456Z","notification_id":"ntf_01jtest","data":{"id":"ctm_01jtest"}}`
	}
	cases := []struct {
		name, body string
		accept     bool
		says       string
	}{
		{"a Paddle event", envelope("evt_01jvrjz7cptgqmw5121gqp0c02", paddle.CustomerCreated), true, ""},
		{"an upper-case id", envelope("EVT_01JVRJZ7CPTGQMW5121GQP0C02", paddle.CustomerCreated), true, ""},
		{"60 characters after evt_", envelope("evt_"+strings.Repeat("a1", 30), paddle.CustomerCreated), true, ""},
		{"a 100-character type", envelope("evt_01j", strings.Repeat("x", 100)), true, ""},
		{"not JSON", `event_type=customer.created`, false, "not a JSON event envelope"},
		{"JSON that is not an object", `["evt_01j"]`, false, "not a JSON event envelope"},
		{"JSON with trailing data", envelope("evt_01j", "customer.created") + `{}`, false, "not a JSON event envelope"},
		{"a number for an id", `{"event_id":42,"event_type":"customer.created"}`, false, "not a JSON event envelope"},
		{"a time that is not RFC 3339", `{"event_id":"evt_01j","event_type":"customer.created","occurred_at":"yesterday"}`, false, "not a JSON event envelope"},
		{"no event_id", `{"event_type":"customer.created","data":{}}`, false, `event_id "" is not a Paddle event id`},
		{"just the prefix", envelope("evt_", paddle.CustomerCreated), false, `event_id "evt_" is not a Paddle event id`},
		{"a notification id", envelope("ntf_01jmfq9d4zwrfqbv36gh6d1e2g", paddle.CustomerCreated), false, "is not a Paddle event id"},
		{"no prefix", envelope("01jvrjz7cptgqmw5121gqp0c02", paddle.CustomerCreated), false, "is not a Paddle event id"},
		{"punctuation", envelope("evt_01jv-rjz7", paddle.CustomerCreated), false, "is not a Paddle event id"},
		{"a newline after the id", envelope("evt_01jvrjz7\n", paddle.CustomerCreated), false, "is not a Paddle event id"},
		{"61 characters after evt_", envelope("evt_"+strings.Repeat("a", 61), paddle.CustomerCreated), false, "is not a Paddle event id"},
		{"non-ASCII letters", envelope("evt_01jé", paddle.CustomerCreated), false, "is not a Paddle event id"},
		{"no event_type", `{"event_id":"evt_01j","data":{}}`, false, "event evt_01j has no event_type"},
		{"a 101-character type", envelope("evt_01j", strings.Repeat("x", 101)), false, "an event_type of 101 characters (at most 100)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := []byte(c.body)
			ev, err := paddle.Verify(body, paddle.Sign(body, secret, now), []string{secret}, now)
			if c.accept {
				require.NoError(t, err)
				assert.NotEmpty(t, ev.ID)
				return
			}
			require.ErrorIs(t, err, paddle.ErrInvalidEvent)
			assert.NotErrorIs(t, err, paddle.ErrBadSignature, "the signature was good")
			assert.Contains(t, err.Error(), c.says)
			assert.Zero(t, ev)
		})
	}
}

func TestAnEventWithoutDataDoesNotDecodeToAnEmptyEntity(t *testing.T) {
	for _, data := range []string{`,"data":null`, ``} {
		body := []byte(`{"event_id":"evt_01j","event_type":"transaction.completed"` + data + `}`)
		ev, err := paddle.Verify(body, paddle.Sign(body, secret, now), []string{secret}, now)
		require.NoError(t, err)
		var tx paddle.Transaction
		err = ev.Decode(&tx)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "read transaction.completed event evt_01j: it has no data")
	}
}

func TestAFirstPurchaseReadsItsTotalsCustomDataAndPrice(t *testing.T) {
	ev := verified(t, "transaction_completed_first_purchase.json")
	var tx paddle.Transaction
	require.NoError(t, ev.Decode(&tx))
	assert.Equal(t, "txn_01jhnsxag6kbg7nbeshra89et4", tx.ID)
	assert.Equal(t, "completed", tx.Status)
	assert.Equal(t, "ctm_01jw2jd2c5dxk14h5fj5f83vg6", tx.CustomerID)
	assert.Empty(t, tx.SubscriptionID, "a one-time purchase (null)")
	assert.Equal(t, "web", tx.Origin)
	assert.Equal(t, "inv_01jdn7eh0fyrep87r4anja29tx", tx.InvoiceID)
	assert.Equal(t, "4091-10042", tx.InvoiceNumber)
	assert.Equal(t, "EUR", tx.CurrencyCode)
	assert.False(t, tx.Recurring())

	totals, err := tx.Totals()
	require.NoError(t, err)
	assert.Equal(t, paddle.Totals{Subtotal: 49000, Discount: 4900, Tax: 8379, Total: 52479, GrandTotal: 52479}, totals)

	assert.Equal(t, "ord-7f3a", tx.Custom("order_id"))
	assert.Equal(t, "pos", tx.Custom("tier"))
	assert.Equal(t, "12", tx.Custom("months"))
	assert.Equal(t, "3", tx.Custom("max_domains"))
	assert.Empty(t, tx.Custom("domains"), "a list is no string")
	assert.Empty(t, tx.Custom("trial"), "nor a bool")

	require.Len(t, tx.Items, 1)
	assert.Equal(t, "pro_01jtcmczc905a49b568gmgczzj", tx.Items[0].Price.ProductID)
	assert.Equal(t, 1, tx.Items[0].Quantity)
	assert.True(t, tx.HasPrice("pri_01jxgnrf30q9ycw5b2sn6fxd97"))

	_, ok := tx.PeriodEnd()
	assert.False(t, ok, "a one-time purchase has no billing period")
}

func TestARenewalIsRecurringAndPaysUntilItsPeriodEnd(t *testing.T) {
	ev := verified(t, "transaction_completed_renewal.json")
	var tx paddle.Transaction
	require.NoError(t, ev.Decode(&tx))
	assert.Equal(t, "subscription_recurring", tx.Origin)
	assert.True(t, tx.Recurring())
	assert.Equal(t, "sub_01jscpsst10a2ct09p45wb0b42", tx.SubscriptionID)
	assert.Equal(t, "4711", tx.Custom("license_id"))
	assert.True(t, tx.HasPrice("pri_01j9ywr2xh1bpvd8p0dqrrwv5s"))
	assert.False(t, tx.HasPrice("pri_01jxgnrf30q9ycw5b2sn6fxd97"), "the first purchase's price")

	end, ok := tx.PeriodEnd()
	require.True(t, ok)
	assert.Equal(t, time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), end)
	require.NotNil(t, tx.BillingPeriod)
	assert.Equal(t, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), tx.BillingPeriod.StartsAt.UTC())

	totals, err := tx.Totals()
	require.NoError(t, err)
	assert.Equal(t, int64(35581), totals.GrandTotal)
}

func TestAFullRefundIsFullAndAPartialOneIsNot(t *testing.T) {
	var full paddle.Adjustment
	ev := verified(t, "adjustment_created_refund_full.json")
	assert.Equal(t, paddle.AdjustmentCreated, ev.Type)
	require.NoError(t, ev.Decode(&full))
	assert.Equal(t, "adj_01j2zy3p7c16m8cswzvrts6qcx", full.ID)
	assert.Equal(t, "refund", full.Action)
	assert.Equal(t, "full", full.Type)
	assert.Equal(t, "txn_01jr1qnqxvgmwjkzna0bsb3sa2", full.TransactionID)
	assert.Equal(t, "sub_01jscpsst10a2ct09p45wb0b42", full.SubscriptionID)
	assert.Equal(t, "ctm_01jw2jd2c5dxk14h5fj5f83vg6", full.CustomerID)
	assert.Equal(t, "pending_approval", full.Status)
	assert.Equal(t, "EUR", full.CurrencyCode)
	assert.NotEmpty(t, full.Reason)
	assert.Equal(t, "27671", full.Totals.Earnings)
	total, err := full.Total()
	require.NoError(t, err)
	assert.Equal(t, int64(35581), total)
	assert.True(t, full.Full(35581))

	var partial paddle.Adjustment
	require.NoError(t, verified(t, "adjustment_created_refund_partial.json").Decode(&partial))
	assert.Equal(t, "partial", partial.Type)
	assert.Equal(t, "approved", partial.Status)
	assert.Empty(t, partial.SubscriptionID, "a one-time purchase (null)")
	total, err = partial.Total()
	require.NoError(t, err)
	assert.Equal(t, int64(11900), total)
	assert.False(t, partial.Full(52479))
}

func TestACanceledSubscriptionSaysWhenAndHasNoCurrentPeriod(t *testing.T) {
	ev := verified(t, "subscription_canceled.json")
	assert.Equal(t, paddle.SubscriptionCanceled, ev.Type)
	var sub paddle.Subscription
	require.NoError(t, ev.Decode(&sub))
	assert.Equal(t, "sub_01jscpsst10a2ct09p45wb0b42", sub.ID)
	assert.Equal(t, "canceled", sub.Status)
	assert.Equal(t, "ctm_01jw2jd2c5dxk14h5fj5f83vg6", sub.CustomerID)
	assert.Equal(t, "4711", sub.Custom("license_id"))
	assert.Nil(t, sub.CurrentBillingPeriod)
	require.NotNil(t, sub.CanceledAt)
	assert.Equal(t, time.Date(2026, 3, 3, 15, 40, 0, 0, time.UTC), sub.CanceledAt.UTC())
}

func TestACreatedCustomerReadsItsNameAndEmail(t *testing.T) {
	ev := verified(t, "customer_created.json")
	var c paddle.Customer
	require.NoError(t, ev.Decode(&c))
	assert.Equal(t, paddle.Customer{ID: "ctm_01jw2jd2c5dxk14h5fj5f83vg6", Name: "Jana Novak", Email: "jana@bistro.example", Status: "active"}, c)
}

// Paddle's amounts are digit strings in the lowest denomination; anything
// else is refused, naming the field, rather than read as a guess.
func TestAmountRules(t *testing.T) {
	cases := []struct {
		raw  string
		want int64
		says string
	}{
		{"4900", 4900, ""},
		{"0", 0, ""},
		{"000049", 49, ""},
		{"999999999999999", 999999999999999, ""},
		{"", 0, "the amount is missing"},
		{"-4900", 0, `"-4900" is negative`},
		{"49.00", 0, "not a whole number"},
		{"4,900", 0, "not a whole number"},
		{"+4900", 0, "not a whole number"},
		{" 4900", 0, "not a whole number"},
		{"4900 ", 0, "not a whole number"},
		{"1e3", 0, "not a whole number"},
		{"0x10", 0, "not a whole number"},
		{"４９", 0, "not a whole number"},
		{"1000000000000000", 0, "has 16 digits (at most 15)"},
		{"99999999999999999999999", 0, "has 23 digits (at most 15)"},
	}
	for _, c := range cases {
		t.Run(c.raw, func(t *testing.T) {
			var tx paddle.Transaction
			tx.ID = "txn_01jrule"
			tx.Details.Totals.Subtotal, tx.Details.Totals.Discount, tx.Details.Totals.Tax, tx.Details.Totals.Total = "1", "2", "3", "4"
			tx.Details.Totals.GrandTotal = c.raw
			var adj paddle.Adjustment
			adj.ID = "adj_01jrule"
			adj.Totals.Total = c.raw

			totals, err := tx.Totals()
			total, adjErr := adj.Total()
			if c.says == "" {
				require.NoError(t, err)
				require.NoError(t, adjErr)
				assert.Equal(t, paddle.Totals{Subtotal: 1, Discount: 2, Tax: 3, Total: 4, GrandTotal: c.want}, totals)
				assert.Equal(t, c.want, total)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "transaction txn_01jrule details.totals.grand_total: ")
			assert.Contains(t, err.Error(), c.says)
			require.Error(t, adjErr)
			assert.Contains(t, adjErr.Error(), "adjustment adj_01jrule totals.total: ")
			assert.Contains(t, adjErr.Error(), c.says)
		})
	}
}

func TestCustomDataRules(t *testing.T) {
	cases := []struct {
		name, customData, key, want string
	}{
		{"a string", `{"k":"ord-7f3a"}`, "k", "ord-7f3a"},
		{"an empty string", `{"k":""}`, "k", ""},
		{"an integer", `{"k":12}`, "k", "12"},
		{"a negative integer", `{"k":-3}`, "k", "-3"},
		{"an integer written with a fraction", `{"k":12.0}`, "k", "12"},
		{"an integer written with an exponent", `{"k":1e3}`, "k", "1000"},
		{"the largest int64, exactly", `{"k":9223372036854775807}`, "k", "9223372036854775807"},
		{"an integer past int64", `{"k":12345678901234567890}`, "k", ""},
		{"a fraction", `{"k":12.5}`, "k", ""},
		{"a bool", `{"k":true}`, "k", ""},
		{"null", `{"k":null}`, "k", ""},
		{"an object", `{"k":{"id":1}}`, "k", ""},
		{"a list", `{"k":[1]}`, "k", ""},
		{"another key", `{"other":"x"}`, "k", ""},
		{"no custom data", `null`, "k", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := paddle.Event{ID: "evt_01j", Type: paddle.TransactionCompleted, Data: []byte(`{"id":"txn_01j","custom_data":` + c.customData + `}`)}
			var tx paddle.Transaction
			require.NoError(t, ev.Decode(&tx))
			assert.Equal(t, c.want, tx.Custom(c.key))
			var sub paddle.Subscription
			require.NoError(t, ev.Decode(&sub))
			assert.Equal(t, c.want, sub.Custom(c.key), "a subscription reads it alike")
		})
	}

	built := paddle.Transaction{CustomData: paddle.CustomData{"n": float64(7), "half": 7.5, "huge": 1e300}}
	assert.Equal(t, "7", built.Custom("n"), "built in Go, not decoded")
	assert.Empty(t, built.Custom("half"))
	assert.Empty(t, built.Custom("huge"))

	var tx paddle.Transaction
	err := (paddle.Event{ID: "evt_01j", Type: paddle.TransactionCompleted, Data: []byte(`{"custom_data":"text"}`)}).Decode(&tx)
	require.Error(t, err, "custom_data is an object or null")
	assert.Contains(t, err.Error(), "custom_data")
}

func TestHasPriceRules(t *testing.T) {
	ev := paddle.Event{ID: "evt_01j", Type: paddle.TransactionCompleted, Data: []byte(`{"items":[
		{"price":{"id":"pri_01ja","product_id":"pro_01ja"},"quantity":1},
		{"price":{"id":"pri_01jb","product_id":"pro_01jb"},"quantity":2}]}`)}
	var tx paddle.Transaction
	require.NoError(t, ev.Decode(&tx))
	cases := map[string]bool{
		"pri_01ja": true,
		"pri_01jb": true,
		"pri_01jc": false,
		"pro_01ja": false, // a product is not a price
		"PRI_01JA": false, // ids are compared as Paddle sends them
		"":         false, // an unconfigured price matches nothing
	}
	for id, want := range cases {
		assert.Equal(t, want, tx.HasPrice(id), "HasPrice(%q)", id)
	}
	assert.False(t, paddle.Transaction{}.HasPrice(""), "no items, no price")
}

func TestPeriodEndRules(t *testing.T) {
	cases := []struct {
		name, period string
		want         time.Time
		ok           bool
	}{
		{"a yearly period", `{"starts_at":"2026-03-01T00:00:00Z","ends_at":"2027-03-01T00:00:00Z"}`, time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), true},
		{"an offset and fractions", `{"starts_at":"2026-03-01T02:00:00+02:00","ends_at":"2026-04-01T02:00:00.5+02:00"}`, time.Date(2026, 4, 1, 0, 0, 0, 500000000, time.UTC), true},
		{"a one-time purchase", `null`, time.Time{}, false},
		{"no end", `{"starts_at":"2026-03-01T00:00:00Z"}`, time.Time{}, false},
		{"a null end", `{"starts_at":"2026-03-01T00:00:00Z","ends_at":null}`, time.Time{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var tx paddle.Transaction
			require.NoError(t, (paddle.Event{Data: []byte(`{"billing_period":` + c.period + `}`)}).Decode(&tx))
			end, ok := tx.PeriodEnd()
			assert.Equal(t, c.ok, ok)
			assert.Equal(t, c.want, end)
		})
	}
	var tx paddle.Transaction
	err := (paddle.Event{Data: []byte(`{"billing_period":{"ends_at":"next March"}}`)}).Decode(&tx)
	assert.Error(t, err, "a period end that is not RFC 3339")
}

// Only subscription_recurring renews; a one-time charge or a change billed
// now does not extend a license.
func TestRecurringRules(t *testing.T) {
	cases := map[string]bool{
		"subscription_recurring":             true,
		"web":                                false,
		"api":                                false,
		"subscription_charge":                false,
		"subscription_update":                false,
		"subscription_payment_method_change": false,
		"":                                   false,
	}
	for origin, want := range cases {
		assert.Equal(t, want, paddle.Transaction{Origin: origin}.Recurring(), "origin %q", origin)
	}
}

func TestFullRules(t *testing.T) {
	cases := []struct {
		name, typ, total string
		paid             int64
		want             bool
	}{
		{"typed full", "full", "35581", 35581, true},
		{"typed full, whatever the total", "full", "", 0, true},
		{"typed partial, even for the whole amount", "partial", "35581", 35581, false},
		{"untyped, the whole amount", "", "35581", 35581, true},
		{"untyped, more than paid", "", "40000", 35581, true},
		{"untyped, one cent short", "", "35580", 35581, false},
		{"untyped, the payment unknown", "", "35581", 0, false},
		{"untyped, an unreadable total", "", "35581.00", 35581, false},
		{"untyped, no total", "", "", 35581, false},
		{"an unknown type", "most", "35581", 35581, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := paddle.Adjustment{Type: c.typ}
			a.Totals.Total = c.total
			assert.Equal(t, c.want, a.Full(c.paid))
		})
	}
}

// FuzzPaddleNotification: any body, correctly signed or not, and any
// Paddle-Signature header are verified without panicking; a refusal is
// ErrBadSignature or ErrInvalidEvent; a signature more than the tolerance
// off is refused; a verified event decodes (or fails to) into every struct
// licenseflow reads without panicking.
func FuzzPaddleNotification(f *testing.F) {
	for _, name := range []string{"transaction_completed_first_purchase.json", "transaction_completed_renewal.json",
		"adjustment_created_refund_full.json", "adjustment_created_refund_partial.json", "subscription_canceled.json", "customer_created.json"} {
		f.Add(sample(f, name), int64(0), "")
	}
	f.Add([]byte(`{"event_id":"evt_1","event_type":"transaction.completed","data":{"custom_data":{"n":1e400}}}`), int64(0), "")
	f.Add([]byte(`{"event_id":"evt_1","event_type":"adjustment.created","data":[]}`), int64(-301), "")
	f.Add([]byte(`not json`), int64(301), "")
	f.Add([]byte(`{}`), int64(0), "ts=1;h1=00")
	f.Add([]byte(`{}`), int64(0), "ts=;ts=;h1=;;=")
	f.Fuzz(func(t *testing.T, payload []byte, skew int64, header string) {
		offset := time.Duration(skew%100000) * time.Second
		signedHere := header == ""
		if signedHere {
			header = paddle.Sign(payload, secret, now.Add(offset))
		}
		ev, err := paddle.Verify(payload, header, []string{retired, secret}, now)
		if err == nil && signedHere && (offset > paddle.SignatureTolerance || offset < -paddle.SignatureTolerance) {
			t.Fatalf("a signature %s off was accepted", offset)
		}
		if err != nil {
			if !errors.Is(err, paddle.ErrBadSignature) && !errors.Is(err, paddle.ErrInvalidEvent) {
				t.Fatalf("refused without ErrBadSignature or ErrInvalidEvent: %v", err)
			}
			return
		}
		var tx paddle.Transaction
		if ev.Decode(&tx) == nil {
			_, _ = tx.Totals()
			_ = tx.Custom("order_id")
			_ = tx.HasPrice("pri_01j")
			_, _ = tx.PeriodEnd()
		}
		var adj paddle.Adjustment
		if ev.Decode(&adj) == nil {
			_ = adj.Full(100)
		}
		var sub paddle.Subscription
		if ev.Decode(&sub) == nil {
			_ = sub.Custom("license_id")
		}
		_ = ev.Decode(&paddle.Customer{})
	})
}
