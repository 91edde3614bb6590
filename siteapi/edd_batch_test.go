package siteapi_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/siteapi"
)

// One get_version request naming 37,000 products held the single SQLite
// connection for 14 s. A batch is bounded: more than maxEDDBatch products
// is refused before any is looked up; a site's real batch is answered.
func TestAnEDDBatchIsBounded(t *testing.T) {
	s := newSiteTest(t)
	ask := func(products int) (int, string) {
		t.Helper()
		form := url.Values{"edd_action": {"get_version"}}
		for i := range products {
			form.Set(fmt.Sprintf("products[plugin-%d][item_name]", i), "MokoSuitePOS")
		}
		resp, err := http.PostForm(s.srv.URL+siteapi.EDDPath, form)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	status, body := ask(101)
	assert.Equal(t, http.StatusUnprocessableEntity, status, body)
	assert.Contains(t, body, `"too_many_products"`)
	status, body = ask(100)
	assert.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"plugin-99"`)
}
