package paypal

import (
	"fmt"
	"strconv"
	"strings"
)

// Money is the amount of PayPal's v2 APIs (orders, captures, refunds,
// disputes): a decimal string and its currency.
type Money struct {
	CurrencyCode string `json:"currency_code"`
	Value        string `json:"value"`
}

// Cents is the amount in hundredths of the currency unit (see ParseAmount).
func (m Money) Cents() (int64, error) { return ParseAmount(m.Value, m.CurrencyCode) }

// SaleAmount is the amount of PayPal's v1 APIs (sales and their refunds):
// the same decimal string, named total, beside currency.
type SaleAmount struct {
	Total    string `json:"total"`
	Currency string `json:"currency"`
}

// maxAmountDigits keeps every amount well inside int64 once scaled to
// hundredths; PayPal's own limit is far below it.
const maxAmountDigits = 15

// ParseAmount reads a PayPal decimal amount ("49.00", "49", "49.5") as
// hundredths of the currency unit, the way licenseflow keeps every amount
// (models.FormatMoney prints cents/100 with two decimals for every
// currency). So the currency does not change the scale: "1000" JPY is
// 100000. It only names the amount in errors.
//
// Only plain decimals are read: no sign, exponent, spaces, grouping or more
// than two decimals, since a money amount that PayPal did not write that way
// is better refused than guessed.
func ParseAmount(value, currency string) (int64, error) {
	name := strconv.Quote(value)
	if currency != "" {
		name += " " + currency
	}
	whole, frac, dotted := strings.Cut(value, ".")
	switch {
	case value == "":
		return 0, fmt.Errorf("PayPal amount is empty")
	case strings.HasPrefix(value, "-"):
		return 0, fmt.Errorf("PayPal amount %s is negative", name)
	case !digits(whole) || dotted && !digits(frac):
		return 0, fmt.Errorf("PayPal amount %s is not a plain decimal such as \"49.00\"", name)
	case len(frac) > 2:
		return 0, fmt.Errorf("PayPal amount %s has more than two decimals", name)
	case len(whole)+len(frac) > maxAmountDigits:
		return 0, fmt.Errorf("PayPal amount %s has more than %d digits", name, maxAmountDigits)
	}
	cents, err := strconv.ParseInt(whole+frac+strings.Repeat("0", 2-len(frac)), 10, 64)
	if err != nil { // unreachable after the checks above; kept so a change to them cannot go silent
		return 0, fmt.Errorf("PayPal amount %s: %w", name, err)
	}
	return cents, nil
}

// FormatAmount writes hundredths of the currency unit as PayPal's decimal
// amount, always with two decimals (14900 is "149.00", 5 is "0.05"): the
// inverse of ParseAmount for every amount ParseAmount reads. A negative
// amount keeps its sign, which ParseAmount (and PayPal's orders) refuse.
func FormatAmount(cents int64) string {
	sign, u := "", uint64(cents)
	if cents < 0 {
		sign, u = "-", -u // unsigned negation is exact even for math.MinInt64
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// digits reports whether s is one or more ASCII digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
