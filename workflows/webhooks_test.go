package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/licenseflow/licenseflow/activities"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/testsupport"
	"github.com/licenseflow/licenseflow/webhooks"
	"github.com/licenseflow/licenseflow/workflows"
)

// A dispatcher continues as new after a bounded number of deliveries; the
// next run picks up where it stopped, and the receiver sees every event
// exactly once. The activities are the real ones, on SQLite, posting to a
// real receiver.
func TestADispatcherContinuesAsNewWithoutLosingOrRepeatingADelivery(t *testing.T) {
	ctx := context.Background()
	st := testsupport.SQLite(t)
	receiver := testsupport.StartWebhookReceiver(t)
	receiver.SetSecret("whsec_dispatch")
	box := webhooks.NewSecretBox(testsupport.SecretKeys(t))
	sealed, err := box.Seal("whsec_dispatch")
	require.NoError(t, err)
	e, err := st.CreateWebhookEndpoint(ctx, models.WebhookEndpoint{URL: receiver.URL, EventTypes: models.StringList{"*"},
		Enabled: true, Secret: sealed})
	require.NoError(t, err)
	const events = 230
	for i := range events {
		_, err := st.CreateRelease(ctx, models.Release{ProductCode: "pos", Version: fmt.Sprintf("1.0.%d", i), Channel: "stable", PublishedAt: time.Now()})
		require.NoError(t, err)
	}
	acts := &activities.Activities{Store: st, WebhookClient: webhooks.AnyTarget().Client(), WebhookSecrets: box}
	in := workflows.WebhookDispatchInput{EndpointID: e.ID, Policy: workflows.WebhookPolicy{FirstRetry: 10 * time.Millisecond, MaxRetry: 50 * time.Millisecond}}

	var suite testsuite.WorkflowTestSuite
	run := func(in workflows.WebhookDispatchInput, stopAfter time.Duration) error {
		env := suite.NewTestWorkflowEnvironment()
		env.RegisterWorkflow(workflows.WebhookDispatchWorkflow)
		env.RegisterActivity(acts)
		if stopAfter > 0 { // an idle dispatcher waits for wake-ups forever
			env.RegisterDelayedCallback(env.CancelWorkflow, stopAfter)
		}
		env.ExecuteWorkflow(workflows.WebhookDispatchWorkflow, in)
		require.True(t, env.IsWorkflowCompleted())
		return env.GetWorkflowError()
	}
	err = run(in, 0)
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(err, &can), "the first run continues as new: %v", err)
	var next workflows.WebhookDispatchInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	assert.Equal(t, in, next, "the next run carries the same input")
	first := len(receiver.Requests())
	assert.GreaterOrEqual(t, first, 200)
	assert.Less(t, first, events)

	_ = run(next, time.Hour)
	got := receiver.Requests()
	seen := map[string]int{}
	for _, r := range got {
		require.NoError(t, r.Signature)
		seen[r.Payload.ID]++
	}
	assert.Len(t, seen, events, "every event delivered")
	for id, n := range seen {
		assert.Equal(t, 1, n, "%s delivered once", id)
	}
	pending, err := st.PendingWebhookDeliveries(ctx, e.ID, nil, 10)
	require.NoError(t, err)
	assert.Empty(t, pending)
}
