package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/workflows"
)

// Error is an API error: an HTTP status, a stable machine-readable code, a
// message a person can act on, and the request field it concerns.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (e *Error) Error() string { return e.Message }

// ErrorBody is the JSON shape of every error answer.
type ErrorBody struct {
	Error *Error `json:"error"`
}

func newError(status int, code, field, message string) *Error {
	return &Error{Status: status, Code: code, Field: field, Message: message}
}

var (
	errTemporalUnavailable = newError(http.StatusServiceUnavailable, "temporal_unavailable", "",
		"the workflow service is unreachable; nothing was changed, retry in a moment")
	errDatabaseUnavailable = newError(http.StatusServiceUnavailable, "database_unavailable", "",
		"the database is unreachable; nothing was changed, retry in a moment")
)

// abort answers the request with err mapped to an API error.
func abort(c *gin.Context, err error) {
	e := toError(err)
	if e.Status >= 500 {
		logger(c).Error("request failed", "status", e.Status, "code", e.Code, "error", err)
	}
	c.AbortWithStatusJSON(e.Status, ErrorBody{Error: e})
}

// toError maps what can go wrong below the API to a status and code:
// domain problems, update rejections, and outages (503, never a false 4xx).
func toError(err error) *Error {
	var apiErr *Error
	if errors.As(err, &apiErr) {
		return apiErr
	}
	if p, ok := models.AsProblem(err); ok {
		status := http.StatusUnprocessableEntity
		switch {
		case errors.Is(p, models.ErrNotFound):
			status = http.StatusNotFound
		case errors.Is(p, models.ErrConflict):
			status = http.StatusConflict
		}
		return newError(status, p.Code, p.Field, p.Message)
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		var code, field string
		_ = app.Details(&code, &field)
		switch app.Type() {
		case workflows.RejectConflict:
			return newError(http.StatusConflict, orDefault(code, "conflict"), field, app.Message())
		case workflows.RejectInvalidValue:
			return newError(http.StatusUnprocessableEntity, orDefault(code, "invalid_value"), field, app.Message())
		}
	}
	if isTemporalOutage(err) {
		return errTemporalUnavailable
	}
	return newError(http.StatusInternalServerError, "internal", "", "something went wrong on our side; the error is logged")
}

func isTemporalOutage(err error) bool {
	var unavailable *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	var canceled *serviceerror.Canceled
	return errors.As(err, &unavailable) || errors.As(err, &deadline) || errors.As(err, &canceled) ||
		errors.Is(err, context.DeadlineExceeded)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// invalid is a 422 for a bad field value.
func invalid(code, field, message string) *Error {
	return newError(http.StatusUnprocessableEntity, code, field, message)
}
