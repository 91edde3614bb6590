package paymenthooks

import (
	"testing"

	"github.com/licenseflow/licenseflow/testsupport"
)

// Events used to be answered as the stored rows; the view keeps their shape.
func TestEventViewAnswersWhatTheStoredEventAnswered(t *testing.T) {
	testsupport.SameJSON(t, eventView)
}
