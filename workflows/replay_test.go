package workflows_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/licenseflow/licenseflow/payloadcodec"
	"github.com/licenseflow/licenseflow/sealing"
	"github.com/licenseflow/licenseflow/worker"
	"github.com/licenseflow/licenseflow/workflows"
)

// TestRecordedHistoriesReplay replays histories recorded from a real server
// (see integration.TestHistoriesReplayDeterministically) against today's
// workflow code: a change that is not deterministic fails here. When a
// change is meant to alter the workflow's commands, guard it with
// workflow.GetVersion and record new histories beside the old ones.
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

// TestReplayCatchesAChangedWorkflow shows the replay test has teeth: a
// LicenseWorkflow that issues other commands than the recorded ones (here it
// skips minting and waits on a timer) fails to replay a recorded history.
func TestReplayCatchesAChangedWorkflow(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*license-lifecycle-run1.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	changed := func(ctx workflow.Context, in workflows.LicenseInput) (workflows.LicenseResult, error) {
		return workflows.LicenseResult{}, workflow.Sleep(ctx, time.Hour)
	}
	replayer := sdkworker.NewWorkflowReplayer()
	replayer.RegisterWorkflowWithOptions(changed, workflow.RegisterOptions{Name: "LicenseWorkflow"})
	for _, f := range files {
		assert.Error(t, replayer.ReplayWorkflowHistoryFromJSONFile(nil, f), f)
	}
}

// TestUnencryptedHistoriesReplayUnderTheCodec: histories written before
// payloads were encrypted replay on a worker whose client encrypts, since
// the codec passes payloads without its encoding through.
func TestUnencryptedHistoriesReplayUnderTheCodec(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	keys, err := sealing.Parse("k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	require.NoError(t, err)
	replayer, err := sdkworker.NewWorkflowReplayerWithOptions(sdkworker.WorkflowReplayerOptions{
		DataConverter: payloadcodec.DataConverter(keys), FailureConverter: payloadcodec.FailureConverter(keys),
	})
	require.NoError(t, err)
	worker.RegisterWorkflows(replayer)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			require.NoError(t, replayer.ReplayWorkflowHistoryFromJSONFile(nil, f))
		})
	}
}
