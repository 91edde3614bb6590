package worker

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
)

// NamespaceSettings are what licenseflow sets on its namespace at start;
// zero fields leave the namespace's own.
type NamespaceSettings struct {
	// Retention is how long Temporal keeps closed workflow runs.
	Retention time.Duration
	// HistoryArchiveURI and VisibilityArchiveURI turn archival on, so closed
	// runs outlive retention (the cluster needs an archiver for the URI's
	// scheme). A URI the namespace already has is kept: Temporal does not
	// allow changing it.
	HistoryArchiveURI    string
	VisibilityArchiveURI string
}

// ConfigureNamespace applies settings to a namespace, changing only what
// differs.
func ConfigureNamespace(ctx context.Context, c client.Client, namespace string, s NamespaceSettings) error {
	desc, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("describe namespace %s: %w", namespace, err)
	}
	have := desc.GetConfig()
	want := &namespacepb.NamespaceConfig{}
	changed := false
	if s.Retention > 0 && have.GetWorkflowExecutionRetentionTtl().AsDuration() != s.Retention {
		want.WorkflowExecutionRetentionTtl, changed = durationpb.New(s.Retention), true
	}
	if s.HistoryArchiveURI != "" && have.GetHistoryArchivalState() != enumspb.ARCHIVAL_STATE_ENABLED {
		want.HistoryArchivalState, changed = enumspb.ARCHIVAL_STATE_ENABLED, true
		if have.GetHistoryArchivalUri() == "" {
			want.HistoryArchivalUri = s.HistoryArchiveURI
		}
	}
	if s.VisibilityArchiveURI != "" && have.GetVisibilityArchivalState() != enumspb.ARCHIVAL_STATE_ENABLED {
		want.VisibilityArchivalState, changed = enumspb.ARCHIVAL_STATE_ENABLED, true
		if have.GetVisibilityArchivalUri() == "" {
			want.VisibilityArchivalUri = s.VisibilityArchiveURI
		}
	}
	if !changed {
		return nil
	}
	if _, err := c.WorkflowService().UpdateNamespace(ctx, &workflowservice.UpdateNamespaceRequest{Namespace: namespace, Config: want}); err != nil {
		return fmt.Errorf("update namespace %s: %w", namespace, err)
	}
	return nil
}
