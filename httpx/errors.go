package httpx

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/licenseflow/licenseflow/lifecycle"
	"github.com/licenseflow/licenseflow/models"
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

// NewError returns an API error.
func NewError(status int, code, field, message string) *Error {
	return &Error{Status: status, Code: code, Field: field, Message: message}
}

// Invalid is a 422 for a bad field value.
func Invalid(code, field, message string) *Error {
	return NewError(http.StatusUnprocessableEntity, code, field, message)
}

// Outages: nothing was changed, the caller should retry.
var (
	ErrTemporalUnavailable = NewError(http.StatusServiceUnavailable, "temporal_unavailable", "",
		"the workflow service is unreachable; nothing was changed, retry in a moment")
	ErrDatabaseUnavailable = NewError(http.StatusServiceUnavailable, "database_unavailable", "",
		"the database is unreachable; nothing was changed, retry in a moment")
)

// Fail answers the request with err mapped to an API error (see ToError).
// An error nothing explains while the database does not answer becomes a
// 503 (retry later), never a 500 or a false 4xx.
func Fail(c *gin.Context, err error) {
	e := ToError(err)
	var explained *Error
	if e.Status == http.StatusInternalServerError && !errors.As(err, &explained) && databaseDown(c) {
		e = ErrDatabaseUnavailable
	}
	if e.Status >= 500 {
		Logger(c).Error("request failed", "status", e.Status, "code", e.Code, "error", err)
	}
	c.AbortWithStatusJSON(e.Status, ErrorBody{Error: e})
}

// databaseDown pings the request's database, if it has one.
func databaseDown(c *gin.Context) bool {
	db, ok := c.Get(ctxDatabase)
	if !ok {
		return false
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), time.Second)
	defer cancel()
	return db.(Pinger).Ping(ctx) != nil
}

// ToError maps what can go wrong below the HTTP layer to a status and code:
// domain problems (a workflow's refusals arrive as those too), and outages
// (503, never a false 4xx).
func ToError(err error) *Error {
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
		return NewError(status, p.Code, p.Field, p.Message)
	}
	if errors.Is(err, lifecycle.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		return ErrTemporalUnavailable
	}
	return NewError(http.StatusInternalServerError, "internal", "", "something went wrong on our side; the error is logged")
}
