package integration

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/licensetoken"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/siteapi"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
	"github.com/licenseflow/licenseflow/worker"
	"github.com/licenseflow/licenseflow/workflows"
)

// issue buys a license and waits until it is issued.
func issue(t *testing.T, s *stack.Stack, body string) api.LicenseView {
	t.Helper()
	r := s.Call(http.MethodPost, "/api/v1/licensing/licenses", body)
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
	var v api.LicenseView
	r.JSON(t, &v)
	return s.WaitIssued(v.ID)
}

// publicKeys fetches the published verification keys.
func publicKeys(t *testing.T, s *stack.Stack) map[string]ed25519.PublicKey {
	t.Helper()
	var body struct {
		Keys []siteapi.PublicKey `json:"keys"`
	}
	s.CallAs("", http.MethodGet, "/api/v1/keys/public", nil).JSON(t, &body)
	keys := map[string]ed25519.PublicKey{}
	for _, k := range body.Keys {
		raw, err := base64.StdEncoding.DecodeString(k.PublicKey)
		require.NoError(t, err)
		keys[k.KeyID] = raw
	}
	require.NotEmpty(t, keys)
	return keys
}

// siteCall posts like an installed site and checks the answer's signature.
func siteCall(t *testing.T, s *stack.Stack, path string, req siteapi.SiteRequest) siteapi.SiteAnswer {
	t.Helper()
	r := s.CallAs("", http.MethodPost, "/api/v1/licenses/"+path, req)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.NoError(t, licensetoken.VerifyAnswer(r.Body, r.Header.Get(licensetoken.SignatureHeader), publicKeys(t, s)), "signed answer")
	var a siteapi.SiteAnswer
	r.JSON(t, &a)
	return a
}

func TestSitesValidateAndActivateWithSignedAnswers(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		s := stack.Start(t, store, stack.Options{})
		v := issue(t, s, `{"user_email":"site@example.com","tier":"pos","max_domains":2}`)
		key := v.DLID

		a := siteCall(t, s, "validate", siteapi.SiteRequest{DLID: key, Nonce: "n-1"})
		assert.True(t, a.Valid)
		assert.Equal(t, models.CodeValid, a.Code)
		assert.Equal(t, "n-1", a.Nonce)
		assert.Equal(t, 2, a.ActivationLimit)
		assert.Equal(t, []string{"MokoSuite", "MokoSuitePOS"}, a.License.Entitlements)

		a = siteCall(t, s, "validate", siteapi.SiteRequest{DLID: key, Domain: "https://www.Shop-One.com/administrator"})
		assert.Equal(t, models.CodeDomainNotActivated, a.Code)
		assert.False(t, a.Valid)
		for _, d := range []string{"shop-one.com", "http://shop-two.com:8080"} {
			a = siteCall(t, s, "activate", siteapi.SiteRequest{DLID: key, Domain: d})
			require.True(t, *a.Activated, a.Detail)
		}
		a = siteCall(t, s, "activate", siteapi.SiteRequest{DLID: key, Domain: "shop-three.com"})
		assert.False(t, *a.Activated)
		assert.Equal(t, models.CodeTooManyDomains, a.Code)
		assert.Equal(t, 2, a.ActivationUsage)
		a = siteCall(t, s, "validate", siteapi.SiteRequest{DLID: key, Domain: "WWW.SHOP-ONE.COM"})
		assert.Equal(t, models.CodeValid, a.Code)
		assert.Equal(t, []string{"shop-one.com", "shop-two.com"}, a.License.ActiveDomains)
		a = siteCall(t, s, "validate", siteapi.SiteRequest{DLID: key, Domain: "shop-three.com"})
		assert.Equal(t, models.CodeTooManyDomains, a.Code)

		a = siteCall(t, s, "validate", siteapi.SiteRequest{DLID: key, Product: "crm"})
		assert.Equal(t, models.CodeNotEntitled, a.Code)
		a = siteCall(t, s, "validate", siteapi.SiteRequest{DLID: key, Product: "MokoSuitePOS"})
		assert.Equal(t, models.CodeValid, a.Code)
		a = siteCall(t, s, "validate", siteapi.SiteRequest{DLID: "00000000000000000000000000000000"})
		assert.Equal(t, models.CodeNotFound, a.Code)
		assert.Nil(t, a.License)

		// Lowering max_domains below the active ones is refused; freeing one makes room.
		r := s.Call(http.MethodPatch, "/api/v1/licensing/licenses/"+v.ID, `{"max_domains":1}`)
		assert.Equal(t, http.StatusConflict, r.Status)
		assert.Equal(t, "domains_in_use", r.Error(t).Code)
		a = siteCall(t, s, "deactivate", siteapi.SiteRequest{DLID: key, Domain: "shop-two.com"})
		assert.True(t, *a.Deactivated)
		a = siteCall(t, s, "heartbeat", siteapi.SiteRequest{DLID: key, Domain: "shop-one.com"})
		assert.Equal(t, models.CodeValid, a.Code)
		require.Equal(t, http.StatusOK, s.Call(http.MethodPatch, "/api/v1/licensing/licenses/"+v.ID, `{"max_domains":1}`).Status)

		require.Equal(t, http.StatusOK, s.Call(http.MethodPost, "/api/v1/licensing/licenses/"+v.ID+"/suspend", nil).Status)
		assert.Equal(t, models.CodeSuspended, siteCall(t, s, "validate", siteapi.SiteRequest{DLID: key}).Code)
		require.Equal(t, http.StatusOK, s.Call(http.MethodPost, "/api/v1/licensing/licenses/"+v.ID+"/revoke", nil).Status)
		assert.Equal(t, models.CodeRevoked, siteCall(t, s, "validate", siteapi.SiteRequest{DLID: key, Product: "crm"}).Code)

		var u models.Usage
		s.WaitFor("usage to be recorded", 5*time.Second, func() bool {
			s.Call(http.MethodGet, "/api/v1/licensing/licenses/"+v.ID+"/usage", nil).JSON(t, &u)
			return u.Totals[models.UsageValidate] >= 8
		})
		assert.GreaterOrEqual(t, u.Totals[models.UsageActivate], 3)
		assert.Equal(t, 1, u.Totals[models.UsageHeartbeat])
	})
}

func TestSignatureFailsWhenTheAnswerIsTamperedWith(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	v := issue(t, s, crmOrder)
	r := s.CallAs("", http.MethodPost, "/api/v1/licenses/validate", siteapi.SiteRequest{DLID: v.DLID})
	header := r.Header.Get(licensetoken.SignatureHeader)
	keys := publicKeys(t, s)
	require.NoError(t, licensetoken.VerifyAnswer(r.Body, header, keys))
	for i := range r.Body {
		tampered := bytes.Clone(r.Body)
		tampered[i] ^= 0x01
		require.ErrorIs(t, licensetoken.VerifyAnswer(tampered, header, keys), licensetoken.ErrInvalid, "byte %d", i)
	}
	// After a rotation, old answers still verify and new ones use the new key.
	require.Equal(t, http.StatusCreated, s.Call(http.MethodPost, "/api/v1/keys/rotate", nil).Status)
	keys = publicKeys(t, s)
	require.NoError(t, licensetoken.VerifyAnswer(r.Body, header, keys))
	fresh := s.CallAs("", http.MethodPost, "/api/v1/licenses/validate", siteapi.SiteRequest{DLID: v.DLID})
	assert.NotEqual(t, header[:20], fresh.Header.Get(licensetoken.SignatureHeader)[:20], "a new key id")
	require.NoError(t, licensetoken.VerifyAnswer(fresh.Body, fresh.Header.Get(licensetoken.SignatureHeader), keys))
}

func TestExpiredLicenseValidatesDuringGrace(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	v := issue(t, s, crmOrder)
	soon := time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339)
	require.Equal(t, http.StatusOK, s.Call(http.MethodPatch, "/api/v1/licensing/licenses/"+v.ID, `{"expires_at":"`+soon+`"}`).Status)
	// Wait for the expiry itself (as a site sees it), not for a guess at how
	// long it takes.
	var a siteapi.SiteAnswer
	s.WaitFor("the license to expire", 10*time.Second, func() bool {
		a = siteCall(t, s, "validate", siteapi.SiteRequest{DLID: v.DLID})
		return a.Code != models.CodeValid
	})
	assert.True(t, a.Valid, "sites keep working during the grace period")
	assert.Equal(t, models.CodeExpired, a.Code)
	assert.Equal(t, models.DetailInGrace, a.Detail)
}

func TestTenParallelActivationsOfAFiveDomainLicense(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		s := stack.Start(t, store, stack.Options{})
		v := issue(t, s, `{"user_email":"par@example.com","tier":"pos","max_domains":5}`)
		var wg sync.WaitGroup
		var mu sync.Mutex
		activated := 0
		for i := range 10 {
			wg.Go(func() {
				r := s.CallAs("", http.MethodPost, "/api/v1/licenses/activate", siteapi.SiteRequest{DLID: v.DLID, Domain: fmt.Sprintf("site-%d.example.com", i)})
				require.Equal(t, http.StatusOK, r.Status, string(r.Body))
				var a siteapi.SiteAnswer
				r.JSON(t, &a)
				if *a.Activated {
					mu.Lock()
					activated++
					mu.Unlock()
				} else {
					assert.Equal(t, models.CodeTooManyDomains, a.Code)
				}
			})
		}
		wg.Wait()
		assert.Equal(t, 5, activated)
		n, err := store.CountActiveDomains(ctx, v.ID)
		require.NoError(t, err)
		assert.Equal(t, 5, n)
	})
}

// This is the offline verification example of docs/sites.md, run against a real answer.
func TestOfflineTokenVerifiesWithThePublicKeyAlone(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	v := issue(t, s, `{"user_email":"offline@example.com","tier":"suite"}`)
	r := s.CallAs("", http.MethodPost, "/api/v1/licenses/token", siteapi.SiteRequest{DLID: v.DLID})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var tok siteapi.LicenseToken
	r.JSON(t, &tok)
	claims, err := licensetoken.Verify(tok.Token, publicKeys(t, s))
	require.NoError(t, err)
	assert.Equal(t, v.DLID, claims.DLID)
	assert.Equal(t, "suite", claims.Tier)
	assert.Len(t, claims.Entitlements, 11)
	assert.True(t, claims.UsableAt(time.Now()))
	assert.Equal(t, *v.GraceUntil, *claims.GraceUntil)

	admin := s.Call(http.MethodPost, "/api/v1/licenses/"+v.ID+"/token", nil)
	require.Equal(t, http.StatusOK, admin.Status, string(admin.Body))
	unknown := s.CallAs("", http.MethodPost, "/api/v1/licenses/token", siteapi.SiteRequest{DLID: "ffffffffffffffffffffffffffffffff"})
	assert.Equal(t, http.StatusForbidden, unknown.Status)
}

// publish uploads a release the way a build pipeline does.
// publish uploads a release; extra are more form fields as name, value pairs.
func publish(t *testing.T, s *stack.Stack, product, version, channel string, content []byte, extra ...string) stack.Response {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	fields := map[string]string{"version": version, "channel": channel, "notes": "Fixes and speed-ups.", "target_platform": "5.*", "php_minimum": "8.1"}
	for i := 0; i+1 < len(extra); i += 2 {
		fields[extra[i]] = extra[i+1]
	}
	for k, v := range fields {
		require.NoError(t, w.WriteField(k, v))
	}
	f, err := w.CreateFormFile("file", "pkg_"+product+"-"+version+".zip")
	require.NoError(t, err)
	_, _ = f.Write(content)
	require.NoError(t, w.Close())
	req, err := http.NewRequest(http.MethodPost, s.API.URL+"/api/v1/products/"+product+"/releases", &body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return stack.Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

func joomlaFeed(t *testing.T, s *stack.Stack, product, dlid string) siteapi.JoomlaUpdates {
	t.Helper()
	r := s.CallAs("", http.MethodGet, "/updates/"+product+".xml?dlid="+dlid, nil)
	require.Equal(t, http.StatusOK, r.Status, "Joomla always gets a document")
	assert.Contains(t, r.Header.Get("Content-Type"), "xml")
	var doc siteapi.JoomlaUpdates
	require.NoError(t, xml.Unmarshal(r.Body, &doc), string(r.Body))
	return doc
}

func TestJoomlaFeedsAndDownloadsFollowEntitlementsAndChannels(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		s := stack.Start(t, store, stack.Options{})
		pos := issue(t, s, `{"user_email":"pos@example.com","tier":"pos"}`)     // stable only
		suite := issue(t, s, `{"user_email":"all@example.com","tier":"suite"}`) // stable and beta
		crm := issue(t, s, `{"user_email":"crm@example.com","tier":"crm"}`)     // not entitled to pos

		stable := bytes.Repeat([]byte("stable build "), 1000)
		r := publish(t, s, "pos", "1.0.0", "stable", stable)
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		var rel models.Release
		r.JSON(t, &rel)
		sum := sha256.Sum256(stable)
		assert.Equal(t, hex.EncodeToString(sum[:]), rel.SHA256)
		require.Equal(t, http.StatusCreated, publish(t, s, "pos", "1.1.0-beta.1", "beta", []byte("beta build")).Status)
		dup := publish(t, s, "pos", "1.0.0", "stable", []byte("again"))
		assert.Equal(t, http.StatusConflict, dup.Status)
		bad := publish(t, s, "pos", "one", "stable", []byte("x"))
		assert.Equal(t, "version", bad.Error(t).Field)

		doc := joomlaFeed(t, s, "pos", pos.DLID)
		require.Len(t, doc.Updates, 1, "the beta channel is hidden from a stable-only license")
		u := doc.Updates[0]
		assert.Equal(t, "1.0.0", u.Version)
		assert.Equal(t, "mokosuitepos", u.Element)
		assert.Equal(t, "package", u.Type)
		assert.Equal(t, rel.SHA256, u.SHA256)
		assert.Equal(t, []string{"stable"}, u.Tags.Tags)
		assert.Equal(t, siteapi.JoomlaPlatform{Name: "joomla", Version: "5.*"}, u.TargetPlatform)
		assert.Equal(t, "8.1", u.PHPMinimum)
		require.Len(t, u.Downloads.URLs, 1)
		assert.Contains(t, u.Downloads.URLs[0].URL, "/downloads/pos/1.0.0?dlid="+pos.DLID)

		assert.Len(t, joomlaFeed(t, s, "pos", suite.DLID).Updates, 2, "suite sees beta too")
		assert.Empty(t, joomlaFeed(t, s, "pos", crm.DLID).Updates, "not entitled")
		assert.Empty(t, joomlaFeed(t, s, "pos", "ffffffffffffffffffffffffffffffff").Updates, "unknown key")
		assert.Empty(t, joomlaFeed(t, s, "pos", "").Updates, "no key")
		empty := s.CallAs("", http.MethodGet, "/updates/pos.xml?dlid=nonsense", nil)
		assert.Contains(t, string(empty.Body), "<updates></updates>")

		latest := s.CallAs("", http.MethodGet, "/updates/pos/latest?dlid="+suite.DLID, nil)
		assert.Equal(t, "1.1.0-beta.1", string(latest.Body))
		latest = s.CallAs("", http.MethodGet, "/updates/pos/latest?dlid="+pos.DLID, nil)
		assert.Equal(t, "1.0.0", string(latest.Body))
		latest = s.CallAs("", http.MethodGet, "/updates/pos/latest?dlid="+crm.DLID, nil)
		assert.Equal(t, http.StatusOK, latest.Status)
		assert.Empty(t, latest.Body)

		dl := s.CallAs("", http.MethodGet, "/downloads/pos/1.0.0?dlid="+pos.DLID, nil)
		require.Equal(t, http.StatusOK, dl.Status, string(dl.Body))
		got := sha256.Sum256(dl.Body)
		assert.Equal(t, rel.SHA256, hex.EncodeToString(got[:]), "the file is the file that was published")
		assert.Equal(t, rel.SHA256, dl.Header.Get("X-Checksum-SHA256"))
		for _, key := range []string{crm.DLID, "", "ffffffffffffffffffffffffffffffff"} {
			denied := s.CallAs("", http.MethodGet, "/downloads/pos/1.0.0?dlid="+key, nil)
			assert.Equal(t, http.StatusForbidden, denied.Status)
			assert.Equal(t, "not_entitled", denied.Error(t).Code)
		}
		beta := s.CallAs("", http.MethodGet, "/downloads/pos/1.1.0-beta.1?dlid="+pos.DLID, nil)
		assert.Equal(t, http.StatusForbidden, beta.Status, "wrong channel")

		var u2 models.Usage
		s.WaitFor("feed and download usage", 5*time.Second, func() bool {
			s.Call(http.MethodGet, "/api/v1/licensing/licenses/"+pos.ID+"/usage", nil).JSON(t, &u2)
			return u2.Totals[models.UsageFeed] >= 2 && u2.Totals[models.UsageDownload] >= 2
		})
	})
}

func TestPublishingAReleaseNotifiesEntitledCustomersOnce(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	pos := issue(t, s, `{"user_email":"n1@example.com","tier":"pos"}`)
	suite := issue(t, s, `{"user_email":"n2@example.com","tier":"suite"}`)
	crm := issue(t, s, `{"user_email":"n3@example.com","tier":"crm"}`)
	require.Equal(t, http.StatusCreated, publish(t, s, "pos", "2.0.0", "stable", []byte("v2")).Status)

	run := s.Temporal.GetWorkflow(ctx, workflows.ReleaseWorkflowID("pos", "2.0.0"), "")
	var res workflows.ReleaseResult
	require.NoError(t, run.Get(ctx, &res))
	assert.Equal(t, 2, res.Sent)
	for id, want := range map[string]int{pos.ID: 1, suite.ID: 1, crm.ID: 0} {
		msgs, err := s.Store.ListEmails(ctx, models.EmailFilter{LicenseID: id, Template: "new-release"})
		require.NoError(t, err)
		assert.Len(t, msgs, want, id)
		if want == 1 {
			assert.Contains(t, msgs[0].Subject, "MokoSuite POS 2.0.0")
			assert.Contains(t, msgs[0].TextBody, "Fixes and speed-ups.")
		}
	}
}

// Issue 9, item 4: a beta release was emailed as "included in your
// license" to stable-only licenses. It is announced only to licenses whose
// channels include beta.
func TestABetaReleaseIsAnnouncedOnlyOnItsChannel(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	pos := issue(t, s, `{"user_email":"b1@example.com","tier":"pos"}`)     // stable only
	suite := issue(t, s, `{"user_email":"b2@example.com","tier":"suite"}`) // stable and beta
	require.Equal(t, http.StatusCreated, publish(t, s, "pos", "3.0.0-beta.1", "beta", []byte("beta")).Status)

	run := s.Temporal.GetWorkflow(ctx, workflows.ReleaseWorkflowID("pos", "3.0.0-beta.1"), "")
	var res workflows.ReleaseResult
	require.NoError(t, run.Get(ctx, &res))
	assert.Equal(t, 1, res.Sent)
	for id, want := range map[string]int{pos.ID: 0, suite.ID: 1} {
		msgs, err := s.Store.ListEmails(ctx, models.EmailFilter{LicenseID: id, Template: "new-release"})
		require.NoError(t, err)
		assert.Len(t, msgs, want, id)
	}
}

func TestScheduleReleasesSilentDomains(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	v := issue(t, s, `{"user_email":"quiet@example.com","tier":"pos"}`)
	_, _, err := s.Store.Activate(ctx, v.ID, "quiet.example.com", time.Now().Add(-3*time.Hour))
	require.NoError(t, err)
	_, _, err = s.Store.Activate(ctx, v.ID, "busy.example.com", time.Now())
	require.NoError(t, err)

	require.NoError(t, worker.EnsureSilentDomainsSchedule(ctx, s.Temporal, time.Hour))
	require.NoError(t, worker.EnsureSilentDomainsSchedule(ctx, s.Temporal, time.Hour), "setting it up again is harmless")
	require.NoError(t, s.Temporal.ScheduleClient().GetHandle(ctx, workflows.SilentDomainsSchedule).Trigger(ctx, client.ScheduleTriggerOptions{}))
	s.WaitFor("the silent domain to be released", 15*time.Second, func() bool {
		n, err := s.Store.CountActiveDomains(ctx, v.ID)
		require.NoError(t, err)
		return n == 1
	})
	sl, err := s.Store.LookupSiteLicense(ctx, v.DLID)
	require.NoError(t, err)
	assert.Equal(t, []string{"busy.example.com"}, sl.ActiveDomains)
}

func TestDatabaseOutageAnswers503NeverInvalid(t *testing.T) {
	store := testsupport.SQLite(t)
	s := stack.Start(t, store, stack.Options{})
	v := issue(t, s, crmOrder)
	sqlDB, err := store.DB().DB()
	require.NoError(t, err)
	require.NoError(t, sqlDB.Close())
	for _, path := range []string{"validate", "activate", "heartbeat"} {
		r := s.CallAs("", http.MethodPost, "/api/v1/licenses/"+path, siteapi.SiteRequest{DLID: v.DLID, Domain: "x.example.com"})
		assert.Equal(t, http.StatusServiceUnavailable, r.Status, "%s: %s", path, r.Body)
		assert.Equal(t, "database_unavailable", r.Error(t).Code)
	}
	r := s.CallAs("", http.MethodGet, "/downloads/pos/1.0.0?dlid="+v.DLID, nil)
	assert.Equal(t, http.StatusServiceUnavailable, r.Status)
}

func TestMalformedSiteRequestsAreClear4xx(t *testing.T) {
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	cases := []struct{ body, code, field string }{
		{`{}`, "missing_dlid", "dlid"},
		{`{"dlid":42}`, "invalid_type", "dlid"},
		{`{"dlid":"abc","domain":"exa mple.com"}`, "invalid_domain", "domain"},
		{`{"dlid":"abc"}`, "missing_domain", "domain"},
	}
	for i, c := range cases {
		path := "validate"
		if i == 3 {
			path = "activate"
		}
		r := s.CallAs("", http.MethodPost, "/api/v1/licenses/"+path, c.body)
		assert.True(t, r.Status >= 400 && r.Status < 500, "%s -> %d", c.body, r.Status)
		e := r.Error(t)
		assert.Equal(t, c.code, e.Code, c.body)
		assert.Equal(t, c.field, e.Field, c.body)
	}
}
