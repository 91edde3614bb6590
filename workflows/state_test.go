package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestNextDeadlineCatchesUpWithoutStaleEmails(t *testing.T) {
	day := 24 * time.Hour
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	expires := start.Add(365 * day)
	p := Policy{}.withDefaults()
	cases := []struct {
		name     string
		now      time.Time
		done     []string
		step     string
		catchUp  bool
		finished bool
	}{
		{"fresh license waits for the 30-day reminder", start, nil, StepReminder30, false, false},
		{"reminder due on time", expires.Add(-30 * day), nil, StepReminder30, false, false},
		{"worker was down past the 7-day mark: 30-day step is silent", expires.Add(-6 * day), nil, StepReminder30, true, false},
		{"then the 7-day reminder goes out late", expires.Add(-6 * day), []string{StepReminder30}, StepReminder7, false, false},
		{"down until after expiry: only the expiry mail", expires.Add(day), []string{StepReminder30}, StepReminder7, true, false},
		{"expired handled: wait for the end of grace", expires.Add(day), []string{StepReminder30, StepReminder7, StepExpired}, StepGraceEnded, false, false},
		{"grace ended: wait for retention end", expires.Add(8 * day), []string{StepReminder30, StepReminder7, StepExpired, StepGraceEnded}, StepRetentionEnded, false, false},
		{"everything done", expires.Add(800 * day), []string{StepReminder30, StepReminder7, StepExpired, StepGraceEnded, StepRetentionEnded}, "", false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := LicenseState{Minted: true}
			st.setExpiry(start, &expires, p)
			st.StepsDone = c.done
			next, catchUp, ok := st.nextDeadline(p, c.now)
			assert.Equal(t, !c.finished, ok)
			assert.Equal(t, c.step, next.Step)
			assert.Equal(t, c.catchUp, catchUp)
		})
	}
}

// The end of grace is a deadline that sends nothing: a worker that comes
// back after the grace period still sends the expiry email; only a later deadline with an email of its own (or the
// end of retention) makes the expiry email stale.
func TestTheEndOfGraceNeverSilencesTheExpiryEmail(t *testing.T) {
	day := 24 * time.Hour
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	expires := start.Add(365 * day)
	reminded := []string{StepReminder30, StepReminder7}
	for _, grace := range []time.Duration{0, 7 * day} {
		p := Policy{GracePeriod: grace}.withDefaults()
		if grace == 0 {
			p.GracePeriod = 0 // no grace at all: the end of grace falls on the expiry itself
		}
		st := LicenseState{Minted: true}
		st.setExpiry(start, &expires, p)
		st.StepsDone = reminded

		next, catchUp, _ := st.nextDeadline(p, expires.Add(grace+day))
		assert.Equal(t, StepExpired, next.Step, "grace %s", grace)
		assert.False(t, catchUp, "grace %s: the expiry email still goes out when the end of grace is due too", grace)

		st.StepsDone = append(reminded, StepExpired)
		next, catchUp, _ = st.nextDeadline(p, expires.Add(grace+day))
		assert.Equal(t, StepGraceEnded, next.Step)
		assert.Equal(t, expires.Add(p.GracePeriod), next.At)
		assert.False(t, catchUp)

		st.StepsDone = reminded
		next, catchUp, _ = st.nextDeadline(p, expires.Add(p.GracePeriod+p.Retention))
		assert.Equal(t, StepExpired, next.Step)
		assert.True(t, catchUp, "past the end of retention the expiry email is stale, as before")
	}
}

func TestRemindersOnlyInTheSecondHalfOfAPeriod(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	monthly := start.AddDate(0, 1, 0)
	st := LicenseState{}
	st.setExpiry(start, &monthly, Policy{GracePeriod: time.Hour})
	assert.False(t, st.remindable(monthly.Add(-30*24*time.Hour)))
	assert.True(t, st.remindable(monthly.Add(-7*24*time.Hour)))
	st.setExpiry(start, nil, Policy{GracePeriod: time.Hour})
	assert.False(t, st.remindable(start), "lifetime licenses get no reminders")
}

func TestProcessedRefsStayBounded(t *testing.T) {
	st := LicenseState{}
	for i := range 3 * maxProcessedRefs {
		st.remember(time.Duration(i).String())
	}
	assert.Len(t, st.ProcessedRefs, maxProcessedRefs)
	assert.True(t, st.seen(time.Duration(3*maxProcessedRefs-1).String()), "the newest are kept")
	assert.False(t, st.seen(time.Duration(0).String()), "the oldest are forgotten")
	st.remember("")
	assert.False(t, st.seen(""), "an empty ref is never a duplicate")
}
