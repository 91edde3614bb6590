package models

import (
	"fmt"
	"maps"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// EUVATRates are the standard VAT rates of the EU member states in basis
// points (1900 = 19 %), as of 1 August 2025 (Estonia 24 % since July 2025,
// Romania 21 % since August 2025, Slovakia 23 % and Finland 25.5 % before
// that). LICENSEFLOW_TAX_RATES overrides and extends them.
var EUVATRates = map[string]int{
	"AT": 2000, "BE": 2100, "BG": 2000, "CY": 1900, "CZ": 2100, "DE": 1900, "DK": 2500, "EE": 2400,
	"ES": 2100, "FI": 2550, "FR": 2000, "GR": 2400, "HR": 2500, "HU": 2700, "IE": 2300, "IT": 2200,
	"LT": 2100, "LU": 1700, "LV": 2100, "MT": 1800, "NL": 2100, "PL": 2300, "PT": 2300, "RO": 2100,
	"SE": 2500, "SI": 2200, "SK": 2300,
}

// InEU reports whether an ISO 3166 country is an EU member state.
func InEU(country string) bool { _, ok := EUVATRates[country]; return ok }

// ReverseChargeNotice is printed on an invoice whose VAT the business
// customer accounts for in its own EU country.
const ReverseChargeNotice = "Reverse charge: VAT to be accounted for by the recipient, Article 196 Council Directive 2006/112/EC"

// OutsideEUNotice is printed on an invoice to a customer outside the EU.
const OutsideEUNotice = "Not subject to EU VAT: the customer is established outside the EU"

// TaxTreatment says why an invoice carries the tax it carries.
type TaxTreatment string

const (
	// TaxNotConfigured: no seller country is configured, no VAT is computed.
	TaxNotConfigured TaxTreatment = ""
	// TaxDomestic: the seller's own country's rate.
	TaxDomestic TaxTreatment = "domestic"
	// TaxDestination: a consumer in another EU country pays its country's
	// rate (electronically supplied services are taxed where the consumer is).
	TaxDestination TaxTreatment = "eu_destination"
	// TaxReverseCharge: a business in another EU country, 0 %.
	TaxReverseCharge TaxTreatment = "reverse_charge"
	// TaxOutsideEU: a customer outside the EU, 0 %.
	TaxOutsideEU TaxTreatment = "outside_eu"
	// TaxStripe: Stripe Checkout computed the tax; its amount is used.
	TaxStripe TaxTreatment = "stripe"
)

// TaxPolicy is the catalog-wide tax configuration: the seller's country,
// whether catalog prices include tax, and the rate of each customer country.
// The zero policy computes no tax (invoices show 0 tax, as before tax was
// configured).
type TaxPolicy struct {
	SellerCountry    string
	PricesIncludeTax bool
	// Rates are basis points by ISO 3166 country; nil means EUVATRates.
	Rates map[string]int
}

// ParseTaxRates reads "DE=19,FR=20,CH=8.1" (percent, up to two decimals)
// over the built-in EU table.
func ParseTaxRates(raw string) (map[string]int, error) {
	rates := maps.Clone(EUVATRates)
	for _, part := range strings.Split(raw, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		country, pct, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("%q: write COUNTRY=PERCENT, e.g. DE=19 or CH=8.1", part)
		}
		c, err := NormalizeCountry(country, "country")
		if err != nil {
			return nil, fmt.Errorf("%q: %s is not an ISO 3166 country code", part, strings.TrimSpace(country))
		}
		bp, err := percentToBasisPoints(strings.TrimSpace(pct))
		if err != nil {
			return nil, fmt.Errorf("%q: %w", part, err)
		}
		rates[c] = bp
	}
	return rates, nil
}

// percentToBasisPoints reads an exact decimal percent ("8.1", "25.5", "0").
func percentToBasisPoints(s string) (int, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 || whole == "" {
		return 0, fmt.Errorf("rate %q must be a percent with at most two decimals, e.g. 8.1", s)
	}
	frac += strings.Repeat("0", 2-len(frac))
	w, err1 := strconv.Atoi(whole)
	f, err2 := strconv.Atoi(frac)
	if err1 != nil || err2 != nil || w < 0 || f < 0 || w > 100 || (w == 100 && f > 0) {
		return 0, fmt.Errorf("rate %q must be a percent between 0 and 100, e.g. 8.1", s)
	}
	return w*100 + f, nil
}

// Rate is the rate of a country in basis points.
func (p TaxPolicy) Rate(country string) (int, bool) {
	rates := p.Rates
	if rates == nil {
		rates = EUVATRates
	}
	bp, ok := rates[country]
	return bp, ok
}

// Check says whether the policy can tax anything: the seller's country
// must be known and have a rate.
func (p TaxPolicy) Check() error {
	if p.SellerCountry == "" {
		return nil
	}
	if _, err := NormalizeCountry(p.SellerCountry, "seller_country"); err != nil {
		return err
	}
	if _, ok := p.Rate(p.SellerCountry); !ok {
		return Invalid("tax_rate_missing", "seller_country", "the seller's country %s has no VAT rate; add it to LICENSEFLOW_TAX_RATES, e.g. %s=8.1", p.SellerCountry, p.SellerCountry)
	}
	return nil
}

// TaxQuote is how an amount splits into net, tax and total, and why.
type TaxQuote struct {
	SubtotalCents int64
	TaxCents      int64
	TotalCents    int64
	// RateBP is the rate applied in basis points (0 under reverse charge,
	// outside the EU, or when Stripe computed the tax).
	RateBP    int
	Treatment TaxTreatment
	// Notice is the legal line the invoice must carry ("" for none).
	Notice string
}

// TaxBuyer is who the tax depends on: the customer's country, its VAT ID
// (a business when set) and, for a Stripe payment, Stripe's own tax.
type TaxBuyer struct {
	Country string
	VATID   string
	// StripeTaxCents > 0 means Stripe Checkout computed the tax: it is used
	// instead of the table, and the amount is the total paid.
	StripeTaxCents int64
}

// Quote splits amountCents for a buyer. includesTax says the amount is
// tax-inclusive (gross): the catalog's setting for catalog prices, always
// for what Stripe charged. One rounding, half away from zero, per invoice:
// net prices: tax = round(net × rate); gross prices: tax = round(gross ×
// rate / (1 + rate)) and net = gross - tax. So subtotal + tax = total to
// the cent either way.
func (p TaxPolicy) Quote(amountCents int64, includesTax bool, b TaxBuyer) (TaxQuote, error) {
	q := TaxQuote{SubtotalCents: amountCents, TotalCents: amountCents}
	if b.StripeTaxCents > 0 && b.StripeTaxCents <= amountCents {
		q.SubtotalCents, q.TaxCents, q.Treatment = amountCents-b.StripeTaxCents, b.StripeTaxCents, TaxStripe
		return q, nil
	}
	if p.SellerCountry == "" {
		return q, nil
	}
	country := b.Country
	if country == "" { // unknown: taxed as at home
		country = p.SellerCountry
	}
	switch {
	case country == p.SellerCountry:
		q.Treatment = TaxDomestic
	case !InEU(p.SellerCountry) || !InEU(country):
		q.Treatment, q.Notice = TaxOutsideEU, OutsideEUNotice
		return q, nil
	case validVATID(b.VATID, country):
		q.Treatment, q.Notice = TaxReverseCharge, ReverseChargeNotice
		return q, nil
	default:
		q.Treatment = TaxDestination
	}
	bp, ok := p.Rate(country)
	if !ok {
		return q, Invalid("tax_rate_missing", "country", "no VAT rate is configured for %s; add it to LICENSEFLOW_TAX_RATES", country)
	}
	q.RateBP = bp
	if includesTax {
		q.TaxCents = MulDivRound(amountCents, int64(bp), 10000+int64(bp))
		q.SubtotalCents = amountCents - q.TaxCents
	} else {
		q.TaxCents = MulDivRound(amountCents, int64(bp), 10000)
		q.TotalCents = amountCents + q.TaxCents
	}
	return q, nil
}

// MulDivRound is a × b / d rounded half away from zero (d > 0), computed
// exactly however large a × b grows.
func MulDivRound(a, b, d int64) int64 {
	n, den := new(big.Int).Mul(big.NewInt(a), big.NewInt(b)), big.NewInt(d)
	q, r := new(big.Int).QuoRem(n, den, new(big.Int))
	if twice := new(big.Int).Abs(new(big.Int).Lsh(r, 1)); twice.Cmp(den) >= 0 {
		if n.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q.Int64()
}

// FormatRate shows basis points as a percent: 1900 → "19%", 810 → "8.1%".
func FormatRate(bp int) string {
	s := fmt.Sprintf("%d.%02d", bp/100, bp%100)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + "%"
}

// countries are the ISO 3166-1 alpha-2 codes.
var countries = strings.Fields(`AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL
BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR
HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU
LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU
NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO
SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU
WF WS YE YT ZA ZM ZW`)

// NormalizeCountry checks an ISO 3166-1 alpha-2 code and returns it upper case.
func NormalizeCountry(raw, field string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(raw))
	if _, found := slices.BinarySearch(countries, c); !found {
		return "", Invalid("invalid_country", field, "%s %s is not an ISO 3166 country code such as DE, FR or US", field, Clip(strconv.Quote(raw), 40))
	}
	return c, nil
}

// vatIDFormats are the formats of EU VAT IDs after their country prefix
// (Greece's prefix is EL), as the Commission's VIES service describes them.
var vatIDFormats = map[string]*regexp.Regexp{
	"AT": regexp.MustCompile(`^U\d{8}$`),
	"BE": regexp.MustCompile(`^[01]\d{9}$`),
	"BG": regexp.MustCompile(`^\d{9,10}$`),
	"CY": regexp.MustCompile(`^\d{8}[A-Z]$`),
	"CZ": regexp.MustCompile(`^\d{8,10}$`),
	"DE": regexp.MustCompile(`^\d{9}$`),
	"DK": regexp.MustCompile(`^\d{8}$`),
	"EE": regexp.MustCompile(`^\d{9}$`),
	"ES": regexp.MustCompile(`^[A-Z0-9]\d{7}[A-Z0-9]$`),
	"FI": regexp.MustCompile(`^\d{8}$`),
	"FR": regexp.MustCompile(`^[A-HJ-NP-Z0-9]{2}\d{9}$`),
	"GR": regexp.MustCompile(`^\d{9}$`),
	"HR": regexp.MustCompile(`^\d{11}$`),
	"HU": regexp.MustCompile(`^\d{8}$`),
	"IE": regexp.MustCompile(`^(\d{7}[A-W][A-IW]?|\d[A-Z+*]\d{5}[A-W])$`),
	"IT": regexp.MustCompile(`^\d{11}$`),
	"LT": regexp.MustCompile(`^(\d{9}|\d{12})$`),
	"LU": regexp.MustCompile(`^\d{8}$`),
	"LV": regexp.MustCompile(`^\d{11}$`),
	"MT": regexp.MustCompile(`^\d{8}$`),
	"NL": regexp.MustCompile(`^\d{9}B\d{2}$`),
	"PL": regexp.MustCompile(`^\d{10}$`),
	"PT": regexp.MustCompile(`^\d{9}$`),
	"RO": regexp.MustCompile(`^[1-9]\d{1,9}$`),
	"SE": regexp.MustCompile(`^\d{10}01$`),
	"SI": regexp.MustCompile(`^[1-9]\d{7}$`),
	"SK": regexp.MustCompile(`^[1-9]\d{9}$`),
}

// vatPrefix is the prefix of a country's VAT IDs.
func vatPrefix(country string) string {
	if country == "GR" {
		return "EL"
	}
	return country
}

var taxIDPattern = regexp.MustCompile(`^[A-Z0-9]{2,32}$`)

// NormalizeVATID checks a customer's VAT ID against its country and
// returns it without spaces, dots or dashes, upper case ("" stays "").
// An EU country's ID must carry the country's prefix (EL for Greece) and
// match its format; elsewhere a tax ID of 2 to 32 letters and digits is
// kept for the invoice and has no effect on tax.
func NormalizeVATID(raw, country, field string) (string, error) {
	id := strings.ToUpper(strings.NewReplacer(" ", "", ".", "", "-", "").Replace(strings.TrimSpace(raw)))
	if id == "" {
		return "", nil
	}
	if country == "" {
		return "", Invalid("country_required", "country", "a VAT ID needs the customer's country: set country too")
	}
	format, eu := vatIDFormats[country]
	if !eu {
		if !taxIDPattern.MatchString(id) {
			return "", Invalid("invalid_vat_id", field, "%s must be 2 to 32 letters and digits", field)
		}
		return id, nil
	}
	prefix := vatPrefix(country)
	if !strings.HasPrefix(id, prefix) {
		if len(id) >= 2 && id[0] >= 'A' && id[0] <= 'Z' && id[1] >= 'A' && id[1] <= 'Z' {
			return "", Invalid("vat_id_country_mismatch", field, "%s %s is not a VAT ID of %s (those start with %s); give the country the VAT ID belongs to", field, Clip(strconv.Quote(id), 40), country, prefix)
		}
		id = prefix + id
	}
	if !format.MatchString(id[len(prefix):]) {
		return "", Invalid("invalid_vat_id", field, "%s %s does not have the format of a VAT ID of %s", field, Clip(strconv.Quote(id), 40), country)
	}
	return id, nil
}

// validVATID says whether a business's VAT ID has its EU country's format.
func validVATID(id, country string) bool {
	if id == "" {
		return false
	}
	norm, err := NormalizeVATID(id, country, "vat_id")
	return err == nil && norm == id
}

// TaxIdentity is a customer's country and VAT ID, checked together.
func TaxIdentity(country, vatID, countryField, vatField string) (string, string, error) {
	var err error
	if strings.TrimSpace(country) != "" {
		if country, err = NormalizeCountry(country, countryField); err != nil {
			return "", "", err
		}
	} else {
		country = ""
	}
	if vatID, err = NormalizeVATID(vatID, country, vatField); err != nil {
		return "", "", err
	}
	return country, vatID, nil
}
