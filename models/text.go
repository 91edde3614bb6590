package models

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on free text. Every value that reaches a Temporal search attribute
// (2 KB at most), an email header, a file name or a sized database column
// is checked against one of these before anything is recorded, so an
// oversize value is a 422, never an error halfway through a purchase.
const (
	// MaxEmailLength is RFC 5321's limit on a forward path (254 octets),
	// well under the 2 KB a CustomerEmail search attribute may hold.
	MaxEmailLength = 254
	// MaxEmailLocalLength is RFC 5321's limit on the part before the @.
	MaxEmailLocalLength = 64
	// MaxNameLength bounds customer names, companies, tier and product
	// names (characters).
	MaxNameLength = 200
	// MaxReasonLength bounds the reason of a change (it becomes a ledger note).
	MaxReasonLength = 500
	// MaxRefLength bounds Stripe object ids.
	MaxRefLength = 100
	// MaxPaymentRefLength bounds a caller's payment reference.
	MaxPaymentRefLength = 200
	// MaxDescriptionLength bounds a plan's description (characters).
	MaxDescriptionLength = 2000
	// MaxNotesLength bounds release notes (characters).
	MaxNotesLength = 20000
	// MaxFilenameLength bounds an uploaded artifact's file name (bytes).
	MaxFilenameLength = 255
)

// CheckLine checks a one-line text value: valid UTF-8, no control
// characters (CR and LF included: such values end up in email headers,
// Web UI summaries and ledger lines) and at most max characters.
func CheckLine(field, value string, max int) error {
	if err := checkText(field, value, max); err != nil {
		return err
	}
	for _, r := range value {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return Invalid("invalid_text", field, "%s must be a single line of text without control characters (found %U)", field, r)
		}
	}
	return nil
}

// CheckMultiline checks free text that may span lines (release notes):
// valid UTF-8, at most max characters, and no control characters other
// than tab, line feed and carriage return.
func CheckMultiline(field, value string, max int) error {
	if err := checkText(field, value, max); err != nil {
		return err
	}
	for _, r := range value {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return Invalid("invalid_text", field, "%s must not contain control characters (found %U)", field, r)
		}
	}
	return nil
}

func checkText(field, value string, max int) error {
	if !utf8.ValidString(value) {
		return Invalid("invalid_encoding", field, "%s must be UTF-8 text", field)
	}
	if n := utf8.RuneCountInString(value); n > max {
		return Invalid("too_long", field, "%s must be at most %d characters (it has %d)", field, max, n)
	}
	return nil
}

// CleanLine turns text licenseflow must accept as it comes (a name Stripe
// reports for a paid purchase) into a safe single line: control characters
// become spaces, invalid UTF-8 is replaced, runs of spaces collapse, and it
// is cut to max characters.
func CleanLine(value string, max int) string {
	value = strings.ToValidUTF8(value, "\uFFFD")
	value = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, value)
	value = strings.Join(strings.Fields(value), " ")
	if utf8.RuneCountInString(value) > max {
		value = string([]rune(value)[:max])
	}
	return strings.TrimSpace(value)
}

// Clip cuts s to at most max characters (for messages that quote input).
func Clip(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max]) + "…"
}

// quoted shows an input value in a message: quoted, and cut short when long.
func quoted(s string) string { return fmt.Sprintf("%q", Clip(s, 80)) }
