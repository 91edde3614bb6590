package integration

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
)

// TestOwnerAndSupportUseTheDashboardInABrowser: an owner sells a license
// and publishes a release from the dashboard's forms; a support operator
// (signed in with a token made for the support role) sets and deactivates
// the license's domains, and is refused the catalog editor.
func TestOwnerAndSupportUseTheDashboardInABrowser(t *testing.T) {
	ctx := browser(t)
	s := stack.Start(t, testsupport.SQLite(t), stack.Options{})
	background := context.Background()

	signInWith := func(token string) {
		require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(s.API.URL+"/admin"), chromedp.SendKeys(`#token-signin input[name="token"]`, token)))
		submit(t, ctx, chromedp.Submit(`#token-signin input[name="token"]`))
	}
	signInWith(s.Token)

	// The owner sells a license by hand.
	var notice, location string
	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(s.API.URL+"/admin/licenses/new"),
		chromedp.SetValue(`#new-license-form input[name="user_email"]`, "margaret@example.com"),
		chromedp.SetValue(`#new-license-form select[name="tier"]`, "pos")))
	submit(t, ctx, chromedp.Submit(`#new-license-form input[name="user_email"]`))
	require.NoError(t, chromedp.Run(ctx, text(`.notice`, &notice), chromedp.Location(&location)))
	assert.Contains(t, notice, "License created")
	licenseID := location[strings.LastIndex(location, "/")+1:]
	assert.Equal(t, "margaret@example.com", s.License(licenseID).Customer.Email)

	// The owner publishes a release with the upload form.
	artifact := filepath.Join(t.TempDir(), "pos-9.1.0.zip")
	require.NoError(t, os.WriteFile(artifact, []byte("PK release artifact"), 0o644))
	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(s.API.URL+"/admin/catalog/products/pos/release"),
		chromedp.SetValue(`#release-form input[name="version"]`, "9.1.0"),
		chromedp.SetUploadFiles(`#release-form input[name="file"]`, []string{artifact})))
	submit(t, ctx, chromedp.Submit(`#release-form input[name="version"]`))
	require.NoError(t, chromedp.Run(ctx, text(`.notice`, &notice)))
	assert.Contains(t, notice, "Published pos 9.1.0")
	releases, err := s.Store.ListReleases(background, "pos")
	require.NoError(t, err)
	require.Len(t, releases, 1)
	assert.EqualValues(t, len("PK release artifact"), releases[0].Size)

	// Support: a token made for the role, then the domains of that license.
	made := s.Call("POST", "/api/v1/tokens", `{"name":"desk","role":"support"}`)
	require.Equal(t, 201, made.Status, string(made.Body))
	var created api.TokenCreated
	require.NoError(t, json.Unmarshal(made.Body, &created))
	submit(t, ctx, chromedp.Click(`form[action="/admin/signout"] button`))
	signInWith(created.Token)
	var role string
	require.NoError(t, chromedp.Run(ctx, text(`#operator-role`, &role)))
	assert.Equal(t, "support", role)

	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(s.API.URL+"/admin/licenses/"+licenseID),
		chromedp.SetValue(`#set-domains-form input[name="domains"]`, "shop.example.com")))
	submit(t, ctx, chromedp.Submit(`#set-domains-form input[name="domains"]`))
	require.NoError(t, chromedp.Run(ctx, text(`.notice`, &notice)))
	assert.Contains(t, notice, "shop.example.com")
	n, err := s.Store.CountActiveDomains(background, licenseID)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	submit(t, ctx, chromedp.Click(`#domains button`))
	require.NoError(t, chromedp.Run(ctx, text(`.notice`, &notice)))
	assert.Contains(t, notice, "deactivated")
	n, err = s.Store.CountActiveDomains(background, licenseID)
	require.NoError(t, err)
	assert.Equal(t, 0, n)

	// The catalog is read-only for support: no editor links, and the
	// editor's URL answers 403.
	var editorLinks int
	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(s.API.URL+"/admin/catalog"),
		chromedp.Evaluate(`document.querySelectorAll("#new-tier, #new-product, .publish-release").length`, &editorLinks)))
	assert.Zero(t, editorLinks)
	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(s.API.URL+"/admin/catalog/tier?key=pos"))
	require.NoError(t, err)
	assert.EqualValues(t, 403, resp.Status)
	var refusal string
	require.NoError(t, chromedp.Run(ctx, text(`[role="alert"]`, &refusal)))
	assert.Contains(t, refusal, "Only an owner")
}
