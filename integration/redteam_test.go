package integration

// Each test here is an attack a pirate or a dishonest buyer tried on an
// earlier licenseflow; it passes only when the attack fails.

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/app"
	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/licensetoken"
	"github.com/licenseflow/licenseflow/lifecycle"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments"
	"github.com/licenseflow/licenseflow/siteapi"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
)

// Guessing keys: once an address is limited for unknown keys, a right key
// is answered 429 like a wrong one, so the limit tells a guesser nothing.
func TestRedTeamKeyGuessingIsLimitedBeforeTheLookup(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		s := stack.Start(t, st, stack.Options{})
		v := issue(t, s, crmOrder)
		limited := 0
		var retryAfter string
		for i := range 40 {
			r := s.CallAs("", http.MethodPost, "/api/v1/licenses/validate", siteapi.SiteRequest{DLID: fmt.Sprintf("%032x", i+1)})
			if r.Status == http.StatusTooManyRequests {
				limited++
				retryAfter = r.Header.Get("Retry-After")
			}
		}
		require.Positive(t, limited, "guessing keys is slowed down")
		assert.Equal(t, "60", retryAfter)
		for _, path := range []string{"/api/v1/licenses/validate", "/api/v1/licenses/activate"} {
			r := s.CallAs("", http.MethodPost, path, siteapi.SiteRequest{DLID: v.DLID, Domain: "guess.example.com"})
			assert.Equal(t, http.StatusTooManyRequests, r.Status, "%s: the right key gets the same answer as a wrong one: %s", path, r.Body)
			assert.Equal(t, "too_many_unknown_keys", r.Error(t).Code)
		}
		r := s.CallAs("", http.MethodGet, "/updates/pos/latest?dlid="+v.DLID, nil)
		assert.Equal(t, http.StatusTooManyRequests, r.Status, "feeds too: %s", r.Body)
	})
}

// committingNonce makes a nonce as the PHP client does: random, then a
// commitment to the key, domain and product of the question.
func committingNonce(random, dlid, domain, product string) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{"licenseflow-nonce-v1", random, dlid, domain, product}, "\n")))
	return random + "." + base64.RawURLEncoding.EncodeToString(sum[:16])
}

// The relay: a pirate's DNS sends the site's question to a relay, which
// keeps the site's nonce and asks about another, valid key with no domain
// and no product. licenseflow refuses the mismatch, and every answer names
// the key, domain and product it answers.
func TestRedTeamRelayedNonceWithAnotherKeyIsRefused(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		s := stack.Start(t, st, stack.Options{})
		v := issue(t, s, crmOrder)
		pirateKey := strings.Repeat("f", 32)
		siteNonce := committingNonce("r4nd0m", pirateKey, "pirate-shop.com", "MokoSuiteERP")

		for name, relayed := range map[string]siteapi.SiteRequest{
			"another key, no domain, no product":   {DLID: v.DLID, Nonce: siteNonce},
			"another key, same domain and product": {DLID: v.DLID, Domain: "pirate-shop.com", Product: "MokoSuiteERP", Nonce: siteNonce},
		} {
			r := s.CallAs("", http.MethodPost, "/api/v1/licenses/validate", relayed)
			assert.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s: %s", name, r.Body)
			assert.Equal(t, "nonce_mismatch", r.Error(t).Code, name)
		}
		own := committingNonce("r4nd0m", v.DLID, "https://www.Shop.example.com/", "MokoSuitePOS")
		r := s.CallAs("", http.MethodPost, "/api/v1/licenses/validate",
			siteapi.SiteRequest{DLID: v.DLID, Domain: "https://www.Shop.example.com/", Product: "MokoSuitePOS", Nonce: own})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		var a siteapi.SiteAnswer
		r.JSON(t, &a)
		key := sha256.Sum256([]byte(v.DLID))
		assert.Equal(t, siteapi.Scope{KeySHA256: hex.EncodeToString(key[:]), Domain: "shop.example.com", Product: "MokoSuitePOS"}, a.Scope,
			"the signed answer names its question")
		assert.Equal(t, own, a.Nonce)
	})
}

// EDD's sample plugin urlencodes item_name before wp_remote_post encodes
// the form again: licenseflow receives "Moko+Forms+for+WordPress" and must
// compare it as EDD does, sanitize_title(urldecode(item_name)).
func TestRedTeamEDDSamplePluginDoubleEncodedItemNameActivates(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		s := stack.Start(t, st, stack.Options{})
		r := s.Call(http.MethodPost, "/api/v1/products", `{"code":"wpforms","repo":"MokoForms","name":"Moko Forms for WordPress","platform":"wordpress"}`)
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		r = s.Call(http.MethodPost, "/api/v1/tiers", `{"key":"wp","name":"WordPress","products":["wpforms"],"max_domains":1,"term":"annual","price_cents":4900,"currency":"EUR","channels":["stable"]}`)
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		key := issue(t, s, `{"user_email":"wp@example.com","tier":"wp","max_domains":1}`).DLID

		samplePlugin := func(action string) map[string]any {
			// $api_params = ['edd_action' => …, 'license' => $license,
			// 'item_name' => urlencode(EDD_SAMPLE_ITEM_NAME), 'url' => home_url()];
			// wp_remote_post(EDD_SAMPLE_STORE_URL, ['body' => $api_params]).
			body := "edd_action=" + action + "&license=" + key +
				"&item_name=" + url.QueryEscape(url.QueryEscape("Moko Forms for WordPress")) +
				"&url=" + url.QueryEscape("https://wp-shop.example.com")
			resp, err := http.Post(s.API.URL+siteapi.EDDPath, "application/x-www-form-urlencoded; charset=UTF-8", strings.NewReader(body))
			require.NoError(t, err)
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode, string(raw))
			var out map[string]any
			require.NoError(t, json.Unmarshal(raw, &out), string(raw))
			return out
		}
		a := samplePlugin("activate_license")
		assert.Equal(t, true, a["success"], a)
		assert.Equal(t, "valid", a["license"], a)
		c := samplePlugin("check_license")
		assert.Equal(t, "valid", c["license"], c)
	})
}

// The staging farm: on a 1-domain license, staging names in front of other
// people's domains and private addresses used to activate without a slot.
// Now they need a slot like any site, and real staging copies are capped.
func TestRedTeamStagingFarmOnAOneDomainLicenseFails(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		s := stack.Start(t, st, stack.Options{})
		v := issue(t, s, `{"user_email":"farm@example.com","tier":"pos","max_domains":1}`)
		a := siteCall(t, s, "activate", siteapi.SiteRequest{DLID: v.DLID, Domain: "shop.com"})
		require.True(t, *a.Activated, a.Detail)

		for _, farmed := range []string{"staging.other-customer.com", "dev.anything.org", "stage.x.y", "10.1.2.3", "192.168.1.1:8080", "::ffff:10.1.2.3"} {
			a = siteCall(t, s, "activate", siteapi.SiteRequest{DLID: v.DLID, Domain: farmed})
			assert.False(t, *a.Activated, "%s must take a slot, and the only one is in use", farmed)
			assert.False(t, a.Staging, farmed)
			assert.Equal(t, models.CodeTooManyDomains, a.Code, farmed)
		}
		a = siteCall(t, s, "activate", siteapi.SiteRequest{DLID: v.DLID, Domain: "staging.shop.com"})
		require.True(t, *a.Activated, "a staging copy of the license's own site: %s", a.Detail)
		assert.True(t, a.Staging)
		a = siteCall(t, s, "activate", siteapi.SiteRequest{DLID: v.DLID, Domain: "dev.shop.com"})
		assert.False(t, *a.Activated, "staging copies are capped at max_domains")
		assert.Equal(t, models.CodeTooManyDomains, a.Code)
		assert.Equal(t, []string{"shop.com", "staging.shop.com"}, a.License.ActiveDomains)
	})
}

// One key, every site: feeds, latest and downloads used to take only the
// key. A site that names a domain not active on the license now gets the
// empty feed and 403, like an unlicensed key; for a product marked
// domain_required, so does one that names no domain.
func TestRedTeamFeedAndDownloadForAnUnlicensedDomainFail(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		s := stack.Start(t, st, stack.Options{})
		var pos api.ProductView
		s.Call(http.MethodGet, "/api/v1/products/pos", nil).JSON(t, &pos)
		// A site that names no domain gets nothing either:
		put := s.Call(http.MethodPut, "/api/v1/products/pos", api.ProductRequest{Code: pos.Code, Repo: pos.Repo, Name: pos.Name,
			Platform: pos.Platform, RequiresKey: &pos.RequiresKey, DomainRequired: true})
		require.Equal(t, http.StatusOK, put.Status, string(put.Body))
		v := issue(t, s, `{"user_email":"feeds@example.com","tier":"pos","max_domains":1}`)
		a := siteCall(t, s, "activate", siteapi.SiteRequest{DLID: v.DLID, Domain: "shop.com"})
		require.True(t, *a.Activated, a.Detail)
		require.Equal(t, http.StatusCreated, publish(t, s, "pos", "2.0.0", "stable", []byte("release 2.0.0")).Status)

		feed := func(domain string) siteapi.JoomlaUpdates {
			r := s.CallAs("", http.MethodGet, "/updates/pos.xml?dlid="+v.DLID+"&domain="+url.QueryEscape(domain), nil)
			require.Equal(t, http.StatusOK, r.Status, string(r.Body))
			var doc siteapi.JoomlaUpdates
			require.NoError(t, xml.Unmarshal(r.Body, &doc))
			return doc
		}
		assert.Len(t, feed("https://www.shop.com").Updates, 1, "the licensed site sees the release")
		assert.Empty(t, feed("pirate-shop.com").Updates, "another site with the same key sees nothing")
		assert.Empty(t, feed("").Updates, "a site that names no domain sees nothing")
		answer := siteCall(t, s, "validate", siteapi.SiteRequest{DLID: v.DLID, Product: "pos"})
		assert.Equal(t, models.CodeDomainRequired, answer.Code, "nor is a key valid for the product without its site")

		latest := s.CallAs("", http.MethodGet, "/updates/pos/latest?dlid="+v.DLID+"&domain=pirate-shop.com", nil)
		assert.NotEqual(t, "2.0.0", string(latest.Body))
		latest = s.CallAs("", http.MethodGet, "/updates/pos/latest?dlid="+v.DLID+"&domain=shop.com", nil)
		assert.Equal(t, "2.0.0", string(latest.Body))

		download := s.CallAs("", http.MethodGet, "/downloads/pos/2.0.0?dlid="+v.DLID+"&domain=pirate-shop.com", nil)
		assert.Equal(t, http.StatusForbidden, download.Status, string(download.Body))
		download = s.CallAs("", http.MethodGet, "/downloads/pos/2.0.0?dlid="+v.DLID, nil)
		assert.Equal(t, http.StatusForbidden, download.Status, string(download.Body))
		download = s.CallAs("", http.MethodGet, "/downloads/pos/2.0.0?dlid="+v.DLID+"&domain=shop.com", nil)
		assert.Equal(t, http.StatusOK, download.Status, string(download.Body))
	})
}

// Offline tokens used to never expire and to outlive revocation: a revoked
// lifetime license's token still passed checkToken. Tokens now end at
// valid_until (30 days), and a revoked license gets no fresh one.
func TestRedTeamExpiredTokenAndRevokedLicenseTokenFail(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		s := stack.Start(t, st, stack.Options{})
		v := issue(t, s, `{"user_email":"lifetime@example.com","tier":"suite-lifetime","max_domains":1}`)
		tok := siteToken(t, s, v.DLID)
		claims, err := licensetoken.Verify(tok.Token, publicKeys(t, s))
		require.NoError(t, err)
		require.NotNil(t, claims.ValidUntil)
		assert.WithinDuration(t, claims.IssuedAt.AddDate(0, 0, 30), *claims.ValidUntil, time.Second)
		assert.True(t, claims.UsableAt(time.Now()))
		assert.False(t, claims.UsableAt(claims.ValidUntil.Add(time.Second)), "an expired token is refused, lifetime license or not")

		require.Equal(t, http.StatusOK, s.Call(http.MethodPost, "/api/v1/licensing/licenses/"+v.ID+"/revoke", nil).Status)
		s.WaitFor("the revocation to reach sites", 10*time.Second, func() bool {
			return s.CallAs("", http.MethodPost, "/api/v1/licenses/token", siteapi.SiteRequest{DLID: v.DLID}).Status == http.StatusForbidden
		})
		admin := s.Call(http.MethodPost, "/api/v1/licenses/"+v.ID+"/token", nil)
		assert.Equal(t, http.StatusForbidden, admin.Status, "no operator token for a revoked license either: %s", admin.Body)
	})
}

// siteToken asks for an offline token as an installed site does.
func siteToken(t *testing.T, s *stack.Stack, dlid string) siteapi.LicenseToken {
	t.Helper()
	r := s.CallAs("", http.MethodPost, "/api/v1/licenses/token", siteapi.SiteRequest{DLID: dlid})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var tok siteapi.LicenseToken
	r.JSON(t, &tok)
	return tok
}

// stripeEventAt builds an event as an endpoint on the given API version
// receives it.
func stripeEventAt(version, id, typ string, livemode bool, object map[string]any) []byte {
	raw, err := json.Marshal(map[string]any{
		"id": id, "object": "event", "type": typ, "api_version": version, "created": time.Now().Unix(),
		"livemode": livemode, "pending_webhooks": 1, "data": map[string]any{"object": object},
	})
	if err != nil {
		panic(err)
	}
	return raw
}

// A paid renewal on a current Stripe API version used to be lost: the
// basil invoice names its subscription only under parent.subscription_details,
// and licenseflow answered "failed: no license is linked to Stripe
// subscription ". It must renew the license, on the same DLID.
func TestRedTeamBasilShapedRenewalRenews(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		s := stripeStack(t, st)
		v := purchaseByCheckout(t, s, "cs_basil")
		periodEnd := models.Instant(time.Now().AddDate(1, 1, 0))
		inv := map[string]any{
			"id": "in_basil", "object": "invoice", "customer": "cus_cs_basil", "billing_reason": "subscription_cycle",
			"amount_paid": 14900, "amount_due": 14900, "currency": "eur",
			"parent": map[string]any{"type": "subscription_details", "quote_details": nil,
				"subscription_details": map[string]any{"subscription": "sub_cs_basil", "metadata": map[string]any{}}},
			"lines": map[string]any{"data": []any{map[string]any{
				"parent": map[string]any{"type": "subscription_item_details",
					"subscription_item_details": map[string]any{"subscription": "sub_cs_basil"}},
				"period": map[string]any{"start": time.Now().Unix(), "end": periodEnd.Unix()}}}},
		}
		a := answer(t, deliver(s, stripeEventAt("2025-03-31.basil", "evt_basil", payments.InvoicePaid, false, inv)))
		require.Equal(t, models.PaymentEventProcessed, a.Outcome, a.Reason)
		var after api.LicenseView
		s.WaitFor("the renewal", 10*time.Second, func() bool {
			after = s.License(v.ID)
			return after.ExpiresAt != nil && after.ExpiresAt.Equal(periodEnd)
		})
		assert.Equal(t, v.DLID, after.DLID)
		assert.Equal(t, models.StatusActive, after.Status)
	})
}

// A signed checkout paying 1 cent, its metadata asking for the complete
// suite, 10,000 domains and 120 months, was issued as such (expiry 2036).
// It must issue nothing, be held for review and be acknowledged.
func TestRedTeamUnpaidCheckoutIssuesNothing(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		s := stripeStack(t, st)
		session := checkoutSession("cs_one_cent", map[string]any{"tier": "suite", "max_domains": "10000", "months": "120"})
		session["amount_total"] = 1
		a := answer(t, deliver(s, stripeEvent("evt_one_cent", payments.CheckoutCompleted, session)))
		assert.Equal(t, models.PaymentEventNeedsReview, a.Outcome, a.Reason)
		assert.Contains(t, a.Reason, "nothing is issued")
		assertNothingIssued(t, s, "stripe:cs_one_cent", "evt_one_cent")
	})
}

// A signed test-mode event (test cards: no money) issued a real license.
// With STRIPE_MODE=live it issues nothing.
func TestRedTeamTestModeEventIssuesNothingInLiveMode(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		s := stack.Start(t, st, stack.Options{WebhookSecrets: []string{webhookSecret}, StripeLivemode: true})
		a := answer(t, deliver(s, stripeEventAt("2024-06-20", "evt_test_card", payments.CheckoutCompleted, false,
			checkoutSession("cs_test_card", map[string]any{"tier": "pos"}))))
		assert.Equal(t, models.PaymentEventNeedsReview, a.Outcome, a.Reason)
		assertNothingIssued(t, s, "stripe:cs_test_card", "evt_test_card")
	})
}

// assertNothingIssued checks that a Stripe event left no order and no
// license behind and is listed for review.
func assertNothingIssued(t *testing.T, s *stack.Stack, orderID, eventID string) {
	t.Helper()
	_, err := s.Store.GetOrder(t.Context(), orderID)
	assert.Error(t, err, "no order is recorded")
	_, err = s.Store.GetLicense(t.Context(), models.LicenseIDForOrder(orderID))
	assert.Error(t, err, "no license exists")
	var review httpx.Page[models.PaymentEvent]
	s.Call(http.MethodGet, "/api/v1/webhooks/stripe/events?outcome=needs_review", nil).JSON(t, &review)
	require.Len(t, review.Data, 1)
	assert.Equal(t, eventID, review.Data[0].ID)
}

// Signing keys used to sit in clear in signing_keys, and rotation kept
// every old key published forever: a dumped private key forged a lifetime
// suite token for 10,000 domains that sites accepted, and a leaked key
// could not be withdrawn. Now a copy of the database holds no key that
// signs, a token forged under a published key id fails, and a retired key
// is published no more, so what it signed fails too.
func TestRedTeamDumpedForgedAndRetiredSigningKeysSignNothing(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		s := stack.Start(t, st, stack.Options{})
		v := issue(t, s, `{"user_email":"keys@example.com","tier":"pos","max_domains":1}`)
		genuine := siteToken(t, s, v.DLID)
		published := publicKeys(t, s)
		claims, err := licensetoken.Verify(genuine.Token, published)
		require.NoError(t, err)
		leaked := claims.KeyID

		// A dump of the database: no private half that signs.
		var rows []models.SigningKey
		require.NoError(t, st.DB().Find(&rows).Error)
		require.NotEmpty(t, rows)
		for _, row := range rows {
			assert.True(t, strings.HasPrefix(string(row.SealedPrivateKey), "sealed:v1:") || string(row.SealedPrivateKey) == string(models.PrivateKeyDeleted),
				"key %s is stored sealed or deleted, not in clear", row.ID)
			if len(row.SealedPrivateKey) == ed25519.PrivateKeySize {
				forged, err := licensetoken.Sign(licensetoken.Claims{DLID: v.DLID, Tier: "suite", MaxDomains: 10000}, row.ID, ed25519.PrivateKey(row.SealedPrivateKey))
				require.NoError(t, err)
				_, err = licensetoken.Verify(forged, published)
				assert.Error(t, err, "a token signed with what the database holds for key %s verifies", row.ID)
			}
		}

		// A token forged under the published key id with a key of the forger's own.
		_, forgerKey, err := ed25519.GenerateKey(nil)
		require.NoError(t, err)
		forged, err := licensetoken.Sign(licensetoken.Claims{DLID: v.DLID, Tier: "suite", MaxDomains: 10000}, leaked, forgerKey)
		require.NoError(t, err)
		_, err = licensetoken.Verify(forged, published)
		assert.ErrorIs(t, err, licensetoken.ErrInvalid)

		// The key leaked anyway (a backup with LICENSEFLOW_SECRET_KEYS): retired.
		retire := s.Call(http.MethodPost, "/api/v1/keys/"+leaked+"/retire", nil)
		require.Equal(t, http.StatusOK, retire.Status, string(retire.Body))
		var retired siteapi.RetiredKey
		retire.JSON(t, &retired)
		assert.Equal(t, leaked, retired.Retired.KeyID)
		assert.NotEqual(t, leaked, retired.Active.KeyID, "a new key signs in its place")
		after := publicKeys(t, s)
		assert.NotContains(t, after, leaked, "a retired key is published no more")
		_, err = licensetoken.Verify(genuine.Token, after)
		assert.ErrorIs(t, err, licensetoken.ErrInvalid, "what the retired key signed verifies no more")
		a := siteCall(t, s, "validate", siteapi.SiteRequest{DLID: v.DLID}) // verified against the keys published now
		assert.True(t, a.Valid)
		var row models.SigningKey
		require.NoError(t, st.DB().First(&row, "id = ?", leaked).Error)
		assert.Equal(t, models.PrivateKeyDeleted, row.SealedPrivateKey, "the retired key's private half is deleted")

		unknown := s.Call(http.MethodPost, "/api/v1/keys/0123456789abcdef/retire", nil)
		assert.Equal(t, http.StatusNotFound, unknown.Status, string(unknown.Body))
	})
}

// A key shared with other sites went unnoticed: nothing counted who used
// it. A day of a key used by more unactivated domains (or addresses) than
// its slots explain is now reported: a ledger line, a
// license.suspicious_usage event to the CRM and a flag on the license's
// page, once per day; the license itself is not suspended.
func TestRedTeamSharedKeyIsReportedOnceAndNotSuspended(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		s := stack.Start(t, st, stack.Options{})
		v := issue(t, s, `{"user_email":"shared@example.com","tier":"pos","max_domains":1}`)
		require.True(t, *siteCall(t, s, "activate", siteapi.SiteRequest{DLID: v.DLID, Domain: "shop.com"}).Activated)
		for i := range 4 { // the key pasted into four other sites' update settings
			r := s.CallAs("", http.MethodGet, fmt.Sprintf("/updates/pos.xml?dlid=%s&domain=site%d.example.org", v.DLID, i), nil)
			require.Equal(t, http.StatusOK, r.Status)
		}
		s.WaitFor("the feed hits to be recorded", 10*time.Second, func() bool {
			u, err := s.Store.UsageSince(ctx, v.ID, time.Now().Add(-time.Hour))
			require.NoError(t, err)
			return u.Totals[models.UsageFeed] == 4
		})

		checks := make(chan []string, 100)
		watch := app.WatchKeySharing(s.Store, lifecycle.New(s.Temporal, lifecycle.Options{}),
			app.KeySharing{Every: 50 * time.Millisecond, Checked: func(reported []string, err error) {
				assert.NoError(t, err)
				select {
				case checks <- reported:
				default: // nobody reads any more: the watch must not wait on the test
				}
			}}, nil)
		t.Cleanup(watch.Close)
		require.Equal(t, []string{v.ID}, <-checks, "the license is reported")
		for range 3 {
			assert.Empty(t, <-checks, "and not again the same day")
		}

		var line models.LicenseEvent
		s.WaitFor("the ledger to note it", 10*time.Second, func() bool {
			ledger, err := s.Store.LicenseLedger(ctx, models.LedgerFilter{LicenseID: v.ID, Limit: 50})
			require.NoError(t, err)
			for _, e := range ledger {
				if e.Action == models.LedgerSuspiciousUsage {
					line = e
					return true
				}
			}
			return false
		})
		assert.Equal(t, "watch:key-sharing", line.Actor)
		assert.Contains(t, line.Note, "by 4 domains not activated (the license has 1 domain slots)")
		assert.Contains(t, line.Note, "site0.example.org")
		var events []models.WebhookEvent
		require.NoError(t, s.Store.DB().Where("license_id = ? AND type = ?", v.ID, models.EventLicenseSuspiciousUsage).Find(&events).Error)
		require.Len(t, events, 1, "the CRM is told once")
		assert.Equal(t, line.Note, events[0].Data.V.Reason)

		l, err := s.Store.GetLicense(ctx, v.ID)
		require.NoError(t, err)
		assert.Equal(t, models.StatusActive, l.Status, "reported, not suspended")
		assert.True(t, siteCall(t, s, "validate", siteapi.SiteRequest{DLID: v.DLID, Domain: "shop.com"}).Valid)

		ops := newBrowserless(t, s)
		_, page := ops.get("/admin")
		ops.post("/admin/signin", url.Values{"csrf": {csrfOf(t, page)}, "email": {stack.OperatorEmail}})
		require.Equal(t, http.StatusSeeOther, ops.openSignInLink(signInLink(t, s, stack.OperatorEmail)))
		status, page := ops.get("/admin/licenses/" + v.ID)
		require.Equal(t, http.StatusOK, status)
		assert.Contains(t, page, `id="suspicious-usage"`, "the license's page flags it")
	})
}
