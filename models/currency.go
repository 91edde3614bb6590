package models

import "strings"

// iso4217 lists the active ISO 4217 currency codes (funds and precious
// metals left out: nothing is sold in them).
var iso4217 = func() map[string]bool {
	codes := `AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD
HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD
MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG
QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD
TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG`
	m := map[string]bool{}
	for _, c := range strings.Fields(codes) {
		m[c] = true
	}
	return m
}()

// ValidCurrency reports whether code is an active ISO 4217 currency code in
// upper case (EUR, USD, CHF): three ASCII letters that name a currency.
func ValidCurrency(code string) bool { return iso4217[code] }

// NormalizeCurrency upper-cases and checks a currency code given for field.
func NormalizeCurrency(raw, field string) (string, error) {
	code := upperASCII(strings.TrimSpace(raw))
	if !ValidCurrency(code) {
		return code, Invalid("invalid_currency", field, "%s %s must be an ISO 4217 currency code such as EUR, USD or CHF", field, quoted(raw))
	}
	return code, nil
}

// upperASCII upper-cases ASCII letters only (strings.ToUpper would turn
// "ınr", with a dotless i, into "INR").
func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
