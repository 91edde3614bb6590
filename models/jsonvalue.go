package models

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
)

// JSONValue stores any JSON-encodable value in a text column, the same way
// on PostgreSQL and SQLite.
type JSONValue[T any] struct{ V T }

// Value implements driver.Valuer.
func (j JSONValue[T]) Value() (driver.Value, error) {
	b, err := json.Marshal(j.V)
	return string(b), err
}

// Scan implements sql.Scanner.
func (j *JSONValue[T]) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		var zero T
		j.V = zero
		return nil
	case string:
		return json.Unmarshal([]byte(v), &j.V)
	case []byte:
		return json.Unmarshal(v, &j.V)
	default:
		return fmt.Errorf("json value: cannot scan %T", src)
	}
}

// GormDataType keeps the column a plain text column on every dialect.
func (JSONValue[T]) GormDataType() string { return "text" }

// MarshalJSON encodes the wrapped value itself.
func (j JSONValue[T]) MarshalJSON() ([]byte, error) { return json.Marshal(j.V) }

// UnmarshalJSON decodes into the wrapped value.
func (j *JSONValue[T]) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &j.V) }
