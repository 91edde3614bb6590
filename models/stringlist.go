package models

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// StringList is a list of short strings stored as a JSON array in a text
// column, so it reads and writes the same on PostgreSQL and SQLite.
type StringList []string

// Value implements driver.Valuer.
func (l StringList) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]string(l))
	return string(b), err
}

// Scan implements sql.Scanner.
func (l *StringList) Scan(src any) error {
	var raw []byte
	switch v := src.(type) {
	case nil:
		*l = nil
		return nil
	case string:
		raw = []byte(v)
	case []byte:
		raw = v
	default:
		return fmt.Errorf("string list: cannot scan %T", src)
	}
	if len(raw) == 0 {
		*l = nil
		return nil
	}
	var out []string
	if err := json.Unmarshal(raw, &out); err != nil {
		return fmt.Errorf("string list: %w", err)
	}
	*l = out
	return nil
}

// GormDataType keeps the column a plain text column on every dialect.
func (StringList) GormDataType() string { return "text" }

// Contains reports whether s is in the list.
func (l StringList) Contains(s string) bool { return slices.Contains(l, s) }

// String joins the list with commas, for messages.
func (l StringList) String() string { return strings.Join(l, ", ") }

// normalizedSet returns the list trimmed, lower-cased, de-duplicated and sorted.
func normalizedSet(in []string) StringList {
	out := make(StringList, 0, len(in))
	for _, s := range in {
		s = strings.ToLower(strings.TrimSpace(s))
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}
