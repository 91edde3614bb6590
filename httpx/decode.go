package httpx

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

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
	if len(bytes.TrimSpace(body)) == 0 {
		return NewError(http.StatusBadRequest, "missing_body", "", "send a JSON object as the request body")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return NewError(http.StatusBadRequest, "invalid_json", "", "the body has data after the JSON object")
	}
	return nil
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
