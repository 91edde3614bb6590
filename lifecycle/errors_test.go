package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/workflows"
)

// TestTemporalsAnswersBecomeLicenseflowsErrors: past the door a caller sees
// models.Problem for a workflow's refusal (its code and field intact) and
// ErrUnavailable for an outage, never one of Temporal's types.
func TestTemporalsAnswersBecomeLicenseflowsErrors(t *testing.T) {
	refusal := func(kind, code, field string) error {
		return fmt.Errorf("update failed: %w", temporal.NewApplicationErrorWithOptions("only a suspended license can be reinstated", kind,
			temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{code, field}}))
	}
	for _, c := range []struct {
		name        string
		err         error
		kind        error
		code, field string
	}{
		{"conflict", refusal(workflows.RejectConflict, "not_suspended", "status"), models.ErrConflict, "not_suspended", "status"},
		{"invalid value", refusal(workflows.RejectInvalidValue, "invalid_months", "months"), models.ErrInvalid, "invalid_months", "months"},
		{"conflict without details", temporal.NewApplicationError("no", workflows.RejectConflict), models.ErrConflict, "conflict", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, ok := models.AsProblem(problemOf(c.err))
			require.True(t, ok, "a refusal is a Problem")
			assert.ErrorIs(t, p, c.kind)
			assert.Equal(t, c.code, p.Code)
			assert.Equal(t, c.field, p.Field)
			var app *temporal.ApplicationError
			assert.False(t, errors.As(p, &app), "nothing of Temporal passes the door")
		})
	}
	for _, outage := range []error{
		serviceerror.NewUnavailable("connection refused"),
		serviceerror.NewDeadlineExceeded("too slow"),
		fmt.Errorf("start: %w", context.DeadlineExceeded),
	} {
		assert.ErrorIs(t, problemOf(outage), ErrUnavailable, "%v", outage)
	}
	other := errors.New("disk full")
	assert.Equal(t, other, problemOf(other), "what the door cannot explain passes as it is")
	assert.NoError(t, problemOf(nil))
}
