package activities

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A receiver's token often sits in its URL (…/hook?token=…). A failed send
// used to log it with the error (Post "https://…?token=…": dial tcp …);
// the reason kept now names the operation and the cause only.
func TestASendErrorKeepsTheEndpointURLOut(t *testing.T) {
	const secretURL = "http://127.0.0.1:1/hooks/licenseflow?token=s3cr3t-receiver-token"
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, secretURL, nil)
	require.NoError(t, err)
	_, err = http.DefaultClient.Do(req)
	require.Error(t, err)
	require.Contains(t, err.Error(), "s3cr3t-receiver-token", "the raw error carries the URL")

	reason := sendError(err)
	assert.NotContains(t, reason, "s3cr3t-receiver-token")
	assert.NotContains(t, reason, "/hooks/licenseflow")
	assert.Contains(t, reason, "Post to the endpoint: ")
	assert.Contains(t, reason, "connection refused")

	_, err = http.NewRequest(http.MethodPost, "http://crm.example.com/%zz?token=s3cr3t-receiver-token", nil)
	require.Error(t, err)
	assert.NotContains(t, sendError(err), "s3cr3t-receiver-token", "an unparsable URL is not repeated either")
}
