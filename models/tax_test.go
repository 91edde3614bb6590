package models

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTaxQuoteByCountryAndCase pins every treatment to exact cents, with
// odd amounts where the rounding rule (half away from zero, once per
// invoice) decides a cent, and checks that subtotal + tax = total.
func TestTaxQuoteByCountryAndCase(t *testing.T) {
	rates, err := ParseTaxRates("CH=8.1")
	require.NoError(t, err)
	de := TaxPolicy{SellerCountry: "DE", Rates: rates}
	deGross := TaxPolicy{SellerCountry: "DE", Rates: rates, PricesIncludeTax: true}
	ch := TaxPolicy{SellerCountry: "CH", Rates: rates}
	cases := []struct {
		name      string
		policy    TaxPolicy
		amount    int64
		gross     bool
		buyer     TaxBuyer
		net, tax  int64
		total     int64
		rate      int
		treatment TaxTreatment
		notice    string
	}{
		{"domestic consumer, net", de, 10000, false, TaxBuyer{Country: "DE"}, 10000, 1900, 11900, 1900, TaxDomestic, ""},
		{"domestic business keeps domestic VAT", de, 10000, false, TaxBuyer{Country: "DE", VATID: "DE123456789"}, 10000, 1900, 11900, 1900, TaxDomestic, ""},
		{"unknown country is taxed as at home", de, 10000, false, TaxBuyer{}, 10000, 1900, 11900, 1900, TaxDomestic, ""},
		{"other-EU consumer pays their country's rate", de, 10000, false, TaxBuyer{Country: "FR"}, 10000, 2000, 12000, 2000, TaxDestination, ""},
		{"other-EU consumer, decimal rate", de, 10000, false, TaxBuyer{Country: "FI"}, 10000, 2550, 12550, 2550, TaxDestination, ""},
		{"other-EU business with VAT ID: reverse charge", de, 10000, false, TaxBuyer{Country: "FR", VATID: "FR40303265045"}, 10000, 0, 10000, 0, TaxReverseCharge, ReverseChargeNotice},
		{"Greek business (EL prefix): reverse charge", de, 10000, false, TaxBuyer{Country: "GR", VATID: "EL123456789"}, 10000, 0, 10000, 0, TaxReverseCharge, ReverseChargeNotice},
		{"a malformed VAT ID is no business", de, 10000, false, TaxBuyer{Country: "FR", VATID: "FR123"}, 10000, 2000, 12000, 2000, TaxDestination, ""},
		{"outside the EU: no VAT", de, 10000, false, TaxBuyer{Country: "US"}, 10000, 0, 10000, 0, TaxOutsideEU, OutsideEUNotice},
		{"Switzerland is outside the EU even with a rate", de, 10000, false, TaxBuyer{Country: "CH"}, 10000, 0, 10000, 0, TaxOutsideEU, OutsideEUNotice},
		{"non-EU seller at home", ch, 10000, false, TaxBuyer{Country: "CH"}, 10000, 810, 10810, 810, TaxDomestic, ""},
		{"gross price, domestic", deGross, 11900, true, TaxBuyer{Country: "DE"}, 10000, 1900, 11900, 1900, TaxDomestic, ""},
		{"gross price, odd amount", deGross, 14900, true, TaxBuyer{Country: "DE"}, 12521, 2379, 14900, 1900, TaxDomestic, ""},
		{"gross price, half a cent rounds up", deGross, 1503, true, TaxBuyer{Country: "FR"}, 1252, 251, 1503, 2000, TaxDestination, ""},
		{"gross price, reverse charge keeps the price", deGross, 11900, true, TaxBuyer{Country: "AT", VATID: "ATU12345678"}, 11900, 0, 11900, 0, TaxReverseCharge, ReverseChargeNotice},
		{"net price, odd amount", de, 999, false, TaxBuyer{Country: "DE"}, 999, 190, 1189, 1900, TaxDomestic, ""},
		{"net price, half a cent rounds away from zero", de, 150, false, TaxBuyer{Country: "DE"}, 150, 29, 179, 1900, TaxDomestic, ""},
		{"Stripe computed the tax", de, 11900, true, TaxBuyer{Country: "FR", StripeTaxCents: 1900}, 10000, 1900, 11900, 0, TaxStripe, ""},
		{"no seller country: no tax", TaxPolicy{}, 10000, false, TaxBuyer{Country: "FR"}, 10000, 0, 10000, 0, TaxNotConfigured, ""},
		{"zero amount", de, 0, false, TaxBuyer{Country: "DE"}, 0, 0, 0, 1900, TaxDomestic, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, err := c.policy.Quote(c.amount, c.gross, c.buyer)
			require.NoError(t, err)
			assert.Equal(t, c.net, q.SubtotalCents, "net")
			assert.Equal(t, c.tax, q.TaxCents, "tax")
			assert.Equal(t, c.total, q.TotalCents, "total")
			assert.Equal(t, q.TotalCents, q.SubtotalCents+q.TaxCents, "subtotal + tax = total")
			assert.Equal(t, c.rate, q.RateBP)
			assert.Equal(t, c.treatment, q.Treatment)
			assert.Equal(t, c.notice, q.Notice)
		})
	}
}

func TestTaxQuoteAddsUpForEveryAmount(t *testing.T) {
	for _, gross := range []bool{false, true} {
		p := TaxPolicy{SellerCountry: "DE", PricesIncludeTax: gross}
		for amount := int64(0); amount < 3000; amount++ {
			q, err := p.Quote(amount, gross, TaxBuyer{Country: "FI"})
			require.NoError(t, err)
			require.Equal(t, q.TotalCents, q.SubtotalCents+q.TaxCents, amount)
			if gross {
				require.Equal(t, amount, q.TotalCents)
			} else {
				require.Equal(t, amount, q.SubtotalCents)
			}
		}
	}
}

func TestMulDivRoundIsHalfAwayFromZero(t *testing.T) {
	for _, c := range []struct{ a, b, d, want int64 }{
		{150, 1900, 10000, 29}, {-150, 1900, 10000, -29}, {149, 1900, 10000, 28}, {5, 1, 10, 1}, {-5, 1, 10, -1}, {4, 1, 10, 0},
		{1 << 62, 2500, 10000, 1 << 60},
	} {
		assert.Equal(t, c.want, MulDivRound(c.a, c.b, c.d), "%d×%d/%d", c.a, c.b, c.d)
	}
}

func TestVATIDFormatsAreCheckedPerCountry(t *testing.T) {
	ok := []struct{ country, raw, want string }{
		{"DE", "DE123456789", "DE123456789"},
		{"DE", "de 123.456-789", "DE123456789"},
		{"DE", "123456789", "DE123456789"},
		{"GR", "123456789", "EL123456789"},
		{"GR", "EL123456789", "EL123456789"},
		{"NL", "NL123456789B01", "NL123456789B01"},
		{"AT", "ATU12345678", "ATU12345678"},
		{"IE", "IE1234567FA", "IE1234567FA"},
		{"FR", "FR40303265045", "FR40303265045"},
		{"US", "12-3456789", "123456789"},
		{"DE", "", ""},
	}
	for _, c := range ok {
		got, err := NormalizeVATID(c.raw, c.country, "vat_id")
		require.NoError(t, err, c.raw)
		assert.Equal(t, c.want, got)
	}
	refused := []struct{ country, raw, code string }{
		{"DE", "DE12345678", "invalid_vat_id"},
		{"DE", "DE1234567890", "invalid_vat_id"},
		{"AT", "AT12345678", "invalid_vat_id"},
		{"NL", "NL123456789", "invalid_vat_id"},
		{"FR", "DE123456789", "vat_id_country_mismatch"},
		{"GR", "GR123456789", "vat_id_country_mismatch"},
		{"", "DE123456789", "country_required"},
		{"US", "<script>", "invalid_vat_id"},
	}
	for _, c := range refused {
		_, err := NormalizeVATID(c.raw, c.country, "vat_id")
		var p *Problem
		require.True(t, errors.As(err, &p), "%s %s must be refused", c.country, c.raw)
		assert.Equal(t, c.code, p.Code, c.raw)
		assert.True(t, errors.Is(err, ErrInvalid))
	}
	_, _, err := TaxIdentity("XX", "", "country", "vat_id")
	var p *Problem
	require.True(t, errors.As(err, &p))
	assert.Equal(t, "invalid_country", p.Code)
	country, vatID, err := TaxIdentity(" fr ", "fr40303265045", "country", "vat_id")
	require.NoError(t, err)
	assert.Equal(t, []string{"FR", "FR40303265045"}, []string{country, vatID})
}

func TestParseTaxRates(t *testing.T) {
	rates, err := ParseTaxRates("de=19, CH=8.1 ,FR=0")
	require.NoError(t, err)
	assert.Equal(t, 1900, rates["DE"])
	assert.Equal(t, 810, rates["CH"])
	assert.Equal(t, 0, rates["FR"])
	assert.Equal(t, 2200, rates["IT"], "the built-in table stays under the override")
	assert.Len(t, EUVATRates, 27)
	for _, bad := range []string{"DE", "XX=19", "DE=19.123", "DE=101", "DE=-1", "DE=abc"} {
		_, err := ParseTaxRates(bad)
		assert.Error(t, err, bad)
	}
	assert.Error(t, TaxPolicy{SellerCountry: "CH"}.Check(), "a seller country without a rate is refused")
	assert.Equal(t, "8.1%", FormatRate(810))
	assert.Equal(t, "19%", FormatRate(1900))
}

// TestCreditNotesCancelTheInvoiceToTheCent: however an invoice is
// credited in parts, the notes' tax and net add up to the invoice's.
func TestCreditNotesCancelTheInvoiceToTheCent(t *testing.T) {
	inv := Invoice{SubtotalCents: 12521, TaxCents: 2379, TotalCents: 14900}
	for _, parts := range [][]int64{{14900}, {1, 14899}, {3333, 3333, 8234}, {7, 7, 7, 14879}, {4967, 4967, 4966}} {
		var credited, net, tax int64
		for _, amount := range parts {
			n, x := CreditSplit(inv, credited, tax, amount)
			assert.Equal(t, amount, n+x)
			credited, net, tax = credited+amount, net+n, tax+x
		}
		assert.Equal(t, inv.TaxCents, tax, "%v", parts)
		assert.Equal(t, inv.SubtotalCents, net, "%v", parts)
	}
}
