package models

import (
	"errors"
	"fmt"
)

// Kinds of problems a caller can act on. The HTTP layer maps each kind to a
// status; a Problem carries the stable code and the field it concerns.
var (
	ErrInvalid  = errors.New("invalid")
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// Problem is a rule violation explained for a person: a stable machine code,
// the input field it concerns (if any) and a message that says what to do.
type Problem struct {
	Kind    error
	Code    string
	Field   string
	Message string
}

func (p *Problem) Error() string { return p.Message }
func (p *Problem) Unwrap() error { return p.Kind }

// Invalid reports bad input in field.
func Invalid(code, field, format string, args ...any) *Problem {
	return &Problem{Kind: ErrInvalid, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound reports a missing record.
func NotFound(code, format string, args ...any) *Problem {
	return &Problem{Kind: ErrNotFound, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Conflict reports a request that clashes with the record's current state.
func Conflict(code, format string, args ...any) *Problem {
	return &Problem{Kind: ErrConflict, Code: code, Message: fmt.Sprintf(format, args...)}
}

// AsProblem returns the Problem inside err, if there is one.
func AsProblem(err error) (*Problem, bool) {
	var p *Problem
	ok := errors.As(err, &p)
	return p, ok
}
