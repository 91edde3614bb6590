package integration

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"gorm.io/gorm"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/testsupport/stack"
)

// TestIssuingTakesFewRoundTrips issues one license on the dev-mode server
// and counts what it costs from the order to the license being issued:
// workflow tasks and activity tasks (each a round trip through the Temporal
// server), local activities (run inside a workflow task) and database
// transactions. It logs the timeline of the license's history, so a slow
// step shows where it is.
func TestIssuingTakesFewRoundTrips(t *testing.T) {
	st := testsupport.SQLiteAt(t, filepath.Join(t.TempDir(), "licenseflow.db"))
	db := countDatabaseWork(t, st.DB())
	s := stack.Start(t, st, stack.Options{Embedded: true})

	db.reset()
	var created api.LicenseView
	r := s.Call(http.MethodPost, "/api/v1/licensing/licenses", `{"user_email":"roundtrips@example.com","tier":"pos","max_domains":5,"expires_months":12}`)
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
	r.JSON(t, &created)
	var h *historypb.History
	// Issued once the workflow sleeps towards its first reminder. Waiting on
	// the history keeps the API (and its own database work) out of the count.
	s.WaitFor("the license to be issued", stack.IssueTimeout, func() bool {
		h = runHistory(t, s.Temporal, created.WorkflowID, "")
		return countEvents(h, enumspb.EVENT_TYPE_TIMER_STARTED) > 0
	})
	work := db.snapshot()

	shape := issueShape{
		workflowTasks:   countEvents(h, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
		activityTasks:   countEvents(h, enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
		localActivities: countLocalActivities(h),
		events:          len(h.Events),
	}
	t.Logf("issuing one license: %d workflow tasks, %d activity tasks, %d local activities, %d history events; "+
		"database: %d transactions, %d statements",
		shape.workflowTasks, shape.activityTasks, shape.localActivities, shape.events, work.transactions, work.statements)
	t.Log("timeline:\n" + timeline(h))

	// Minting, expanding and invoicing are short database writes run as
	// local activities; only the two emails (SMTP, retried for hours) are
	// activity tasks of their own.
	assert.Equal(t, 2, shape.activityTasks, "activity tasks")
	assert.LessOrEqual(t, shape.workflowTasks, 3, "workflow tasks")
	assert.Equal(t, 4, shape.localActivities, "local activities: mint and expand, projection, invoice, projection")
	assert.NotZero(t, work.transactions, "the counter sees the database")

	s.WaitIssued(created.ID)
	assert.Equal(t, 1, emailCount(t, s, created.ID, "delivery"))
	assert.Equal(t, 1, emailCount(t, s, created.ID, "invoice"))
}

type issueShape struct {
	workflowTasks, activityTasks, localActivities, events int
}

func countEvents(h *historypb.History, typ enumspb.EventType) int {
	n := 0
	for _, e := range h.Events {
		if e.GetEventType() == typ {
			n++
		}
	}
	return n
}

func countLocalActivities(h *historypb.History) int {
	n := 0
	for _, e := range h.Events {
		if e.GetMarkerRecordedEventAttributes().GetMarkerName() == "LocalActivity" {
			n++
		}
	}
	return n
}

// timeline lists a history's events with their offsets from the start.
func timeline(h *historypb.History) string {
	var b strings.Builder
	start := h.Events[0].GetEventTime().AsTime()
	for _, e := range h.Events {
		name := strings.TrimPrefix(e.GetEventType().String(), "EVENT_TYPE_")
		detail := e.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName()
		if m := e.GetMarkerRecordedEventAttributes(); m != nil {
			detail = m.GetMarkerName()
		}
		fmt.Fprintf(&b, "  %7.1f ms  %s %s\n", float64(e.GetEventTime().AsTime().Sub(start).Microseconds())/1000, name, detail)
	}
	return b.String()
}

// databaseWork counts what reaches the database: transactions (gorm runs
// every single write in one of its own) and statements.
type databaseWork struct {
	transactions, statements atomic.Int64
}

type databaseCount struct{ transactions, statements int64 }

func (w *databaseWork) reset() {
	w.transactions.Store(0)
	w.statements.Store(0)
}

func (w *databaseWork) snapshot() databaseCount {
	return databaseCount{w.transactions.Load(), w.statements.Load()}
}

// countDatabaseWork makes db report its work to the returned counter.
func countDatabaseWork(t *testing.T, db *gorm.DB) *databaseWork {
	w := &databaseWork{}
	pool := countingPool{ConnPool: db.ConnPool, begun: &w.transactions}
	db.ConnPool, db.Statement.ConnPool = pool, pool
	count := func(*gorm.DB) { w.statements.Add(1) }
	cb := db.Callback()
	for _, err := range []error{
		cb.Create().After("gorm:create").Register("count:create", count),
		cb.Update().After("gorm:update").Register("count:update", count),
		cb.Delete().After("gorm:delete").Register("count:delete", count),
		cb.Raw().After("gorm:raw").Register("count:raw", count),
		cb.Query().After("gorm:query").Register("count:query", count),
		cb.Row().After("gorm:row").Register("count:row", count),
	} {
		require.NoError(t, err)
	}
	return w
}

// countingPool counts the transactions begun on the pool it wraps.
type countingPool struct {
	gorm.ConnPool
	begun *atomic.Int64
}

func (p countingPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error) {
	p.begun.Add(1)
	return p.ConnPool.(gorm.TxBeginner).BeginTx(ctx, opts)
}

func (p countingPool) GetDBConn() (*sql.DB, error) {
	if db, ok := p.ConnPool.(*sql.DB); ok {
		return db, nil
	}
	return p.ConnPool.(gorm.GetDBConnector).GetDBConn()
}
