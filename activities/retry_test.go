package activities

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
)

// A database that answers again within the attempt costs no attempt: the
// step's backoff does not grow with the outage.
func TestOwnWorkWaitsForTheDatabaseWithinTheAttempt(t *testing.T) {
	calls := 0
	err := ownWork(context.Background(), func(context.Context) error {
		if calls++; calls < 3 {
			return errors.New("connection refused")
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 3, calls)
}

// A failure already classified (permanent, or with its own delay) is
// returned at once; a cancelled attempt returns the last failure, marked
// for a retry soon.
func TestOwnWorkReturnsClassifiedFailuresAndStopsWithTheAttempt(t *testing.T) {
	calls := 0
	permanent := temporal.NewNonRetryableApplicationError("gone", "NotFound", nil)
	err := ownWork(context.Background(), func(context.Context) error { calls++; return permanent })
	assert.Same(t, permanent, err)
	assert.Equal(t, 1, calls)

	ctx, cancel := context.WithCancel(context.Background())
	err = ownWork(ctx, func(context.Context) error { cancel(); return errors.New("connection refused") })
	var app *temporal.ApplicationError
	require.ErrorAs(t, err, &app)
	assert.Equal(t, ErrTypeOwnOutage, app.Type())
	assert.Equal(t, RetrySoon, app.NextRetryDelay())
}
