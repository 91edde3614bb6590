package httpx

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// MaxBodyBytes bounds a JSON request body.
const MaxBodyBytes = 1 << 20

// Decode reads a JSON body strictly: unknown fields (a typo such as
// "expire_months") and trailing data are errors, so nothing is silently ignored.
func Decode(c *gin.Context, dst any) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxBodyBytes))
	if err != nil {
		return NewError(http.StatusRequestEntityTooLarge, "body_too_large", "", "the request body is larger than 1 MiB")
	}
	return DecodeBytes(body, dst)
}

// DecodeBytes is Decode's strict reading of a body already read: it never
// panics, and every error is an *Error with a 4xx status. Besides unknown
// fields and trailing data it refuses a body that is not UTF-8 (encoding/json
// would silently turn "M\xfcller" into "M\ufffdller") and strings holding
// NUL, which no database column keeps.
func DecodeBytes(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return NewError(http.StatusBadRequest, "missing_body", "", "send a JSON object as the request body")
	}
	if !utf8.Valid(body) {
		return NewError(http.StatusBadRequest, "invalid_encoding", "", "the body is not UTF-8; send JSON encoded as UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return NewError(http.StatusBadRequest, "invalid_json", "", "the body has data after the JSON object")
	}
	if field, ok := findNUL(reflect.ValueOf(dst), ""); ok {
		return Invalid("invalid_text", field, fmt.Sprintf("%s must not contain NUL characters", cmp.Or(field, "the body")))
	}
	return nil
}

// findNUL looks for a string holding NUL in a decoded request and names
// its JSON field.
func findNUL(v reflect.Value, field string) (string, bool) {
	switch v.Kind() {
	case reflect.String:
		return field, strings.IndexByte(v.String(), 0) >= 0
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return "", false
		}
		return findNUL(v.Elem(), field)
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if f, ok := findNUL(v.Index(i), field); ok {
				return f, true
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if f, ok := findNUL(it.Key(), field); ok {
				return f, true
			}
			if f, ok := findNUL(it.Value(), field); ok {
				return f, true
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range v.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if name == "" {
				name = sf.Name
			}
			if name == "-" {
				continue
			}
			if f, ok := findNUL(v.Field(i), name); ok {
				return f, true
			}
		}
	}
	return "", false
}

// DecodeOptional is Decode for bodies that may be left out entirely.
func DecodeOptional(c *gin.Context, dst any) error {
	if c.Request.ContentLength == 0 {
		return nil
	}
	if err := Decode(c, dst); err != nil {
		var e *Error
		if errors.As(err, &e) && e.Code == "missing_body" {
			return nil
		}
		return err
	}
	return nil
}

func decodeError(err error) *Error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return NewError(http.StatusBadRequest, "invalid_type", typeErr.Field,
			fmt.Sprintf("%s must be a %s, not a JSON %s", cmp.Or(typeErr.Field, "the body"), jsonKind(typeErr.Type.Kind().String()), typeErr.Value))
	case errors.As(err, &syntaxErr):
		return NewError(http.StatusBadRequest, "invalid_json", "", fmt.Sprintf("the body is not valid JSON (at byte %d)", syntaxErr.Offset))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return NewError(http.StatusBadRequest, "unknown_field", field, fmt.Sprintf("the field %q is not part of this request", field))
	default:
		return NewError(http.StatusBadRequest, "invalid_json", "", "the body is not valid JSON: "+err.Error())
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int64", "int32", "uint", "float64":
		return "number"
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice":
		return "list"
	default:
		return "JSON " + goKind
	}
}
