package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/lifecycle/lifecyclefake"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/web"
)

// Asking for a sign-in link told who is a customer or an operator: a known
// address started the email on the request path (a Temporal round trip
// longer), and after five links within 15 minutes it answered 429 where an
// unknown one never did. Now known and unknown addresses get the same page,
// the same status and the same time, from the portal and the dashboard,
// while the known ones still get their links (five per 15 minutes, the
// cap applied silently).
func TestSignInAnswersKnownAndUnknownAddressesAlike(t *testing.T) {
	const roundTrip = 40 * time.Millisecond // what starting the sign-in workflow costs
	st := testsupport.SQLite(t)
	tier, err := st.GetTier(context.Background(), "pos")
	require.NoError(t, err)
	_, _, _, err = st.RecordPurchase(context.Background(), models.Purchase{OrderID: "enum-1", Email: "customer@example.com", Tier: tier,
		MaxDomains: 1, Months: 12, Type: models.TypeCommercial, PaidAt: time.Now()})
	require.NoError(t, err)
	flows := &lifecyclefake.Fake{Before: func(call string) error {
		if call == "sign-in" {
			time.Sleep(roundTrip)
		}
		return nil
	}}
	gin.SetMode(gin.TestMode)
	r := httpx.NewRouter(httpx.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Database: st,
		TrustedProxies: []string{"127.0.0.1"}}) // each request from an address of its own, under the per-address limit
	web.Mount(r, web.Deps{Store: st, Lifecycle: flows, PublicURL: "http://localhost", AdminEmails: []string{"ops@example.com"}})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)

	for _, area := range []struct{ path, known, unknown string }{
		{"/portal", "customer@example.com", "nobody@example.com"},
		{"/admin", "ops@example.com", "intruder@example.com"},
	} {
		t.Run(strings.TrimPrefix(area.path, "/"), func(t *testing.T) {
			jar, _ := cookiejar.New(nil)
			client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := client.Get(srv.URL + area.path)
			require.NoError(t, err)
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			m := csrfField.FindStringSubmatch(string(page))
			require.NotNil(t, m)
			ask := func(i int, email string) (int, string, time.Duration) {
				form := url.Values{"csrf": {m[1]}, "email": {email}}
				req, err := http.NewRequest(http.MethodPost, srv.URL+area.path+"/signin", strings.NewReader(form.Encode()))
				require.NoError(t, err)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", len(area.path), i/250, i%250))
				start := time.Now()
				resp, err := client.Do(req)
				require.NoError(t, err)
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				return resp.StatusCode, string(body), time.Since(start)
			}
			var known, unknown []time.Duration
			var knownPage, unknownPage string
			for i := range 60 { // interleaved, so both see the same load
				status, page, took := ask(2*i, area.known)
				require.Equal(t, http.StatusOK, status, "request %d for a known address", i)
				known, knownPage = append(known, took), page
				status, page, took = ask(2*i+1, area.unknown)
				require.Equal(t, http.StatusOK, status, "request %d for an unknown address", i)
				unknown, unknownPage = append(unknown, took), page
			}
			assert.Equal(t, knownPage, unknownPage, "the same page")
			medianKnown, medianUnknown := median(known), median(unknown)
			t.Logf("median answer: known %s, unknown %s", medianKnown, medianUnknown)
			assert.Less(t, (medianKnown - medianUnknown).Abs(), roundTrip/2, "the same time")

			sent := func(to string) int {
				n := 0
				for _, s := range flows.SignIns() {
					if s.To == to {
						n++
					}
				}
				return n
			}
			require.Eventually(t, func() bool { return sent(area.known) == 60 }, 10*time.Second, 10*time.Millisecond,
				"the known address gets its links (the worker makes them; none were stored here)")
			assert.Zero(t, sent(area.unknown))

			// Five links within 15 minutes, then none, silently.
			aud := models.AudienceCustomer
			if area.path == "/admin" {
				aud = models.AudienceAdmin
			}
			for range 5 {
				_, err := st.CreateMagicLink(context.Background(), area.known, aud, time.Now())
				require.NoError(t, err)
			}
			status, capped, _ := ask(1000, area.known)
			assert.Equal(t, http.StatusOK, status, "capped, and still answered like any address")
			assert.Equal(t, unknownPage, capped)
			require.Never(t, func() bool { return sent(area.known) > 60 }, 4*roundTrip, 10*time.Millisecond, "no link past the cap")
		})
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
