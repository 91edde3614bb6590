package store_test

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
)

var (
	issued   = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	fakePDF  = func(models.Invoice) ([]byte, error) { return []byte("%PDF-1.3"), nil }
	notePDF  = func(models.CreditNote, models.Invoice) ([]byte, error) { return []byte("%PDF-1.3 note"), nil }
	sellerDE = models.TaxPolicy{SellerCountry: "DE"}
)

// taxedInvoice records a purchase by a customer of country/vatID for
// amount and invoices it under policy.
func taxedInvoice(t *testing.T, st *store.Store, orderID, country, vatID string, amount int64, policy models.TaxPolicy) models.Invoice {
	t.Helper()
	tier, err := st.GetTier(ctx, "pos")
	require.NoError(t, err)
	_, _, _, err = st.RecordPurchase(ctx, models.Purchase{
		OrderID: orderID, Email: orderID + "@example.com", Tier: tier, MaxDomains: tier.MaxDomains, Months: 12,
		Type: models.TypeCommercial, AmountCents: amount, Currency: "EUR", PaidAt: issued, Country: country, VATID: vatID,
	})
	require.NoError(t, err)
	inv, _, err := st.IssueInvoice(ctx, orderID, issued, policy, fakePDF)
	require.NoError(t, err)
	return inv
}

func TestInvoiceCarriesTheCustomersTax(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		gross := models.TaxPolicy{SellerCountry: "DE", PricesIncludeTax: true}
		cases := []struct {
			order, country, vatID string
			amount                int64
			policy                models.TaxPolicy
			net, tax, total       int64
			treatment             models.TaxTreatment
			notice                string
		}{
			{"t-domestic", "DE", "", 14900, sellerDE, 14900, 2831, 17731, models.TaxDomestic, ""},
			{"t-fr-consumer", "FR", "", 14900, sellerDE, 14900, 2980, 17880, models.TaxDestination, ""},
			{"t-fr-business", "FR", "FR40303265045", 14900, sellerDE, 14900, 0, 14900, models.TaxReverseCharge, models.ReverseChargeNotice},
			{"t-us", "US", "", 14900, sellerDE, 14900, 0, 14900, models.TaxOutsideEU, models.OutsideEUNotice},
			{"t-gross", "DE", "", 14900, gross, 12521, 2379, 14900, models.TaxDomestic, ""},
			{"t-gross-odd", "FR", "", 1503, gross, 1252, 251, 1503, models.TaxDestination, ""},
		}
		for _, c := range cases {
			inv := taxedInvoice(t, st, c.order, c.country, c.vatID, c.amount, c.policy)
			assert.Equal(t, []int64{c.net, c.tax, c.total}, []int64{inv.SubtotalCents, inv.TaxCents, inv.TotalCents}, c.order)
			assert.Equal(t, inv.TotalCents, inv.SubtotalCents+inv.TaxCents, c.order)
			var lines int64
			for _, l := range inv.Lines.V {
				lines += l.TotalCents
			}
			assert.Equal(t, inv.SubtotalCents, lines, "%s: the lines are the subtotal", c.order)
			assert.Equal(t, c.treatment, inv.TaxTreatment, c.order)
			assert.Equal(t, c.notice, inv.TaxNotice, c.order)
			assert.Equal(t, c.country, inv.CustomerCountry)
			assert.Equal(t, c.vatID, inv.CustomerVATID)
			stored, err := st.GetInvoice(ctx, inv.Number)
			require.NoError(t, err)
			assert.Equal(t, inv.TaxCents, stored.TaxCents)
		}
	})
}

func TestStripeTaxOnTheOrderIsUsedAsIs(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		tier, err := st.GetTier(ctx, "pos")
		require.NoError(t, err)
		_, _, _, err = st.RecordPurchase(ctx, models.Purchase{
			OrderID: "stripe:cs_1", Email: "s@example.com", Tier: tier, MaxDomains: 1, Months: 12, Type: models.TypeCommercial,
			AmountCents: 17880, Currency: "EUR", PaidAt: issued, Country: "FR", AmountIncludesTax: true, StripeTaxCents: 2980,
		})
		require.NoError(t, err)
		inv, _, err := st.IssueInvoice(ctx, "stripe:cs_1", issued, sellerDE, fakePDF)
		require.NoError(t, err)
		assert.Equal(t, []int64{14900, 2980, 17880}, []int64{inv.SubtotalCents, inv.TaxCents, inv.TotalCents})
		assert.Equal(t, models.TaxStripe, inv.TaxTreatment)
	})
}

func TestFullCreditCancelsTheInvoiceToTheCent(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		inv := taxedInvoice(t, st, "c-full", "DE", "", 14900, models.TaxPolicy{SellerCountry: "DE", PricesIncludeTax: true})
		part, created, err := st.IssueCreditNote(ctx, models.CreditRequest{InvoiceNumber: inv.Number, AmountCents: 3333, Reason: "goodwill"}, issued, notePDF)
		require.NoError(t, err)
		require.True(t, created)
		assert.Equal(t, "CN-2026-000001", part.Number)
		assert.Equal(t, inv.Number, part.InvoiceNumber)
		got, err := st.GetInvoice(ctx, inv.Number)
		require.NoError(t, err)
		assert.Equal(t, models.InvoicePartiallyCredited, got.Status)
		rest, created, err := st.IssueCreditNote(ctx, models.CreditRequest{InvoiceNumber: inv.Number, Full: true, Reason: "refund"}, issued, notePDF)
		require.NoError(t, err)
		require.True(t, created)
		assert.Equal(t, inv.TotalCents, part.TotalCents+rest.TotalCents)
		assert.Equal(t, inv.TaxCents, part.TaxCents+rest.TaxCents, "the notes take back the invoice's tax exactly")
		assert.Equal(t, inv.SubtotalCents, part.SubtotalCents+rest.SubtotalCents)
		got, err = st.GetInvoice(ctx, inv.Number)
		require.NoError(t, err)
		assert.Equal(t, models.InvoiceCredited, got.Status)
		assert.Equal(t, inv.TotalCents, got.CreditedCents)

		// Nothing is left: more is refused, and a full credit issues nothing.
		_, _, err = st.IssueCreditNote(ctx, models.CreditRequest{InvoiceNumber: inv.Number, AmountCents: 1, Reason: "again"}, issued, notePDF)
		p, ok := models.AsProblem(err)
		require.True(t, ok, "%v", err)
		assert.Equal(t, "credit_exceeds_invoice", p.Code)
		none, created, err := st.IssueCreditNote(ctx, models.CreditRequest{InvoiceNumber: inv.Number, Full: true}, issued, notePDF)
		require.NoError(t, err)
		assert.False(t, created)
		assert.Empty(t, none.Number)

		lines, err := st.LicenseLedger(ctx, models.LedgerFilter{LicenseID: inv.LicenseID})
		require.NoError(t, err)
		var noted []string
		for _, l := range lines {
			if l.Action == models.LedgerCreditNote {
				noted = append(noted, l.New)
			}
		}
		assert.ElementsMatch(t, []string{part.Number, rest.Number}, noted, "each note has its ledger line")
	})
}

func TestCreditNoteForMoreThanTheInvoiceIsRefused(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		inv := taxedInvoice(t, st, "c-over", "DE", "", 10000, sellerDE)
		_, _, err := st.IssueCreditNote(ctx, models.CreditRequest{InvoiceNumber: inv.Number, AmountCents: inv.TotalCents + 1, Reason: "x"}, issued, notePDF)
		p, ok := models.AsProblem(err)
		require.True(t, ok, "%v", err)
		assert.Equal(t, "credit_exceeds_invoice", p.Code)
		notes, err := st.InvoiceCreditNotes(ctx, inv.Number)
		require.NoError(t, err)
		assert.Empty(t, notes)
		got, err := st.GetInvoice(ctx, inv.Number)
		require.NoError(t, err)
		assert.Equal(t, models.InvoiceIssued, got.Status)
	})
}

// TestStripeRefundsCreditWhatIsNewlyRefunded: amount_refunded is
// cumulative per charge; each event credits the new part, a redelivered
// event nothing, and the total never passes the invoice.
func TestStripeRefundsCreditWhatIsNewlyRefunded(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		inv := taxedInvoice(t, st, "c-stripe", "DE", "", 10000, sellerDE) // 11900 gross
		refund := func(event string, cumulative int64, full bool) (models.CreditNote, bool) {
			cn, created, err := st.IssueCreditNote(ctx, models.CreditRequest{InvoiceNumber: inv.Number, Source: "stripe:" + event,
				RefundedPaymentID: "ch_1", RefundedCents: cumulative, Full: full, Reason: "refund"}, issued, notePDF)
			require.NoError(t, err)
			return cn, created
		}
		a, created := refund("evt_1", 2000, false)
		require.True(t, created)
		assert.Equal(t, int64(2000), a.TotalCents)
		again, created := refund("evt_1", 2000, false)
		assert.False(t, created, "a redelivered event issues nothing")
		assert.Equal(t, a.Number, again.Number)
		b, created := refund("evt_2", 5000, false)
		require.True(t, created)
		assert.Equal(t, int64(3000), b.TotalCents, "only the newly refunded part")
		_, created = refund("evt_late", 2000, false)
		assert.False(t, created, "an older event arriving late credits nothing")
		c, created := refund("evt_3", 99999, false)
		require.True(t, created)
		assert.Equal(t, int64(11900-5000), c.TotalCents, "never beyond the invoice")
		_, created = refund("evt_4", 11900, true)
		assert.False(t, created)
		notes, err := st.InvoiceCreditNotes(ctx, inv.Number)
		require.NoError(t, err)
		var sum, tax int64
		for _, n := range notes {
			sum, tax = sum+n.TotalCents, tax+n.TaxCents
		}
		assert.Equal(t, inv.TotalCents, sum)
		assert.Equal(t, inv.TaxCents, tax)
	})
}

func TestCreditNoteNumbersAreGaplessUnderConcurrency(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, st *store.Store) {
		const n = 8
		invoices := make([]string, n)
		for i := range invoices {
			invoices[i] = taxedInvoice(t, st, fmt.Sprintf("cc-%02d", i), "DE", "", 10000, sellerDE).Number
		}
		var wg sync.WaitGroup
		numbers := make([]string, n*3)
		errs := make([]error, n*3)
		for i := range numbers { // three notes of 5000 on each invoice of 11900: the third is refused
			wg.Go(func() {
				cn, _, err := st.IssueCreditNote(ctx, models.CreditRequest{InvoiceNumber: invoices[i%n], AmountCents: 5000, Reason: "r"}, issued, notePDF)
				numbers[i], errs[i] = cn.Number, err
			})
		}
		wg.Wait()
		var got []string
		refused := 0
		for i := range numbers {
			if errs[i] != nil {
				p, ok := models.AsProblem(errs[i])
				require.True(t, ok, "%v", errs[i])
				assert.Equal(t, "credit_exceeds_invoice", p.Code)
				refused++
				continue
			}
			got = append(got, numbers[i])
		}
		assert.Equal(t, n, refused, "one note per invoice would pass its total")
		sort.Strings(got)
		for i := range got {
			assert.Equal(t, models.CreditNoteNumber(2026, i+1), got[i])
		}
		for _, num := range invoices {
			inv, err := st.GetInvoice(ctx, num)
			require.NoError(t, err)
			assert.Equal(t, int64(10000), inv.CreditedCents)
		}
	})
}
