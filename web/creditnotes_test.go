package web_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
)

// creditedPurchase records a purchase by email, invoices it and credits 10.00.
func creditedPurchase(t *testing.T, st *store.Store, order, email string) models.CreditNote {
	t.Helper()
	ctx := context.Background()
	tier, err := st.GetTier(ctx, "pos")
	require.NoError(t, err)
	_, _, _, err = st.RecordPurchase(ctx, models.Purchase{OrderID: order, Email: email, Tier: tier, MaxDomains: 2, Months: 12,
		Type: models.TypeCommercial, AmountCents: 14900, Currency: "EUR", PaidAt: time.Now()})
	require.NoError(t, err)
	inv, _, err := st.IssueInvoice(ctx, order, time.Now(), models.TaxPolicy{SellerCountry: "DE"}, func(models.Invoice) ([]byte, error) { return []byte("%PDF-1.4"), nil })
	require.NoError(t, err)
	cn, _, err := st.IssueCreditNote(ctx, models.CreditRequest{InvoiceNumber: inv.Number, AmountCents: 1000, Reason: "goodwill"}, time.Now(),
		func(models.CreditNote, models.Invoice) ([]byte, error) { return []byte("%PDF-1.4 " + order), nil })
	require.NoError(t, err)
	return cn
}

// TestThePortalListsCreditNotesAndServesOnlyTheCustomersOwn: a customer
// sees their credit notes beside their invoices and downloads them; the
// note of another customer is not found.
func TestThePortalListsCreditNotesAndServesOnlyTheCustomersOwn(t *testing.T) {
	st := testsupport.SQLite(t)
	site := dashboard(t, st, "ops@example.com")
	mine := creditedPurchase(t, st, "cn-web-1", "buyer@example.com")
	theirs := creditedPurchase(t, st, "cn-web-2", "other@example.com")

	token, err := st.CreateMagicLink(context.Background(), "buyer@example.com", models.AudienceCustomer, time.Now())
	require.NoError(t, err)
	jar, _ := cookiejar.New(nil)
	b := &operatorBrowser{t: t, url: site, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	csrf := b.csrf("/portal/auth?token=" + url.QueryEscape(token))
	resp, _ := b.post("/portal/auth", url.Values{"csrf": {csrf}, "token": {token}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)

	status, page := b.get("/portal")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "Credit notes")
	assert.Contains(t, page, "/portal/credit-notes/"+mine.Number+".pdf")
	assert.Contains(t, page, "(partially credited)")
	assert.NotContains(t, page, theirs.InvoiceNumber+"<")

	status, pdf := b.get("/portal/credit-notes/" + mine.Number + ".pdf")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "%PDF-1.4 cn-web-1", pdf)
	status, pdf = b.get("/portal/credit-notes/" + theirs.Number + ".pdf")
	assert.Equal(t, http.StatusNotFound, status, "another customer's credit note")
	assert.NotContains(t, pdf, "%PDF")
}
