package workflows_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/licenseflow/licenseflow/worker"
)

// TestRecordedHistoriesReplay replays histories recorded from a real server
// (see integration.TestHistoriesReplayDeterministically) against today's
// workflow code: a change that is not deterministic fails here. When a
// change is meant to alter the workflow's commands, guard it with
// workflow.GetVersion, list its change id in versions.go, and record new
// histories beside these. The mutation check (mutation_test.go, the
// replay-* mutations) shows this test fails on realistic unguarded changes.
func TestRecordedHistoriesReplay(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no recorded histories: run LICENSEFLOW_RECORD_HISTORIES=1 go test ./integration -run TestHistoriesReplay")
	replayer := sdkworker.NewWorkflowReplayer()
	worker.RegisterWorkflows(replayer)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			require.NoError(t, replayer.ReplayWorkflowHistoryFromJSONFile(nil, f))
		})
	}
}
