package siteapi_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/siteapi"
)

// slowStore holds its first read until told to go on, and counts reads.
type slowStore struct {
	reads   atomic.Int64
	started chan struct{}
	proceed chan struct{}
}

func (s *slowStore) LookupSiteLicense(_ context.Context, dlid string) (models.SiteLicense, error) {
	if s.reads.Add(1) == 1 {
		close(s.started)
		<-s.proceed
	}
	return models.SiteLicense{License: models.License{ID: "lic-1"}, ActiveDomains: []string{dlid}}, nil
}

func (s *slowStore) OnLicenseChange(func(licenseID string)) {}

func TestRequestsForAKeyBeingReadShareTheReadUntilTheLicenseChanges(t *testing.T) {
	st := &slowStore{started: make(chan struct{}), proceed: make(chan struct{})}
	c := siteapi.NewCache(st, time.Minute)
	const dlid = "7f21b9ff979fce861bb482a1bc3e753f"
	first := make(chan models.SiteLicense)
	go func() {
		site, err := c.Lookup(context.Background(), dlid)
		assert.NoError(t, err)
		first <- site
	}()
	<-st.started

	// A request arriving meanwhile waits for that read (this one gives up
	// at once: its client is gone) instead of reading again.
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Lookup(gone, dlid)
	assert.ErrorIs(t, err, context.Canceled)
	assert.EqualValues(t, 1, st.reads.Load())

	// After a change, what the first read brings may be stale: the next
	// request reads again, and only its answer is kept.
	c.Invalidate("lic-1")
	site, err := c.Lookup(context.Background(), dlid)
	require.NoError(t, err)
	assert.Equal(t, []string{dlid}, site.ActiveDomains)
	assert.EqualValues(t, 2, st.reads.Load())

	close(st.proceed)
	assert.Equal(t, "lic-1", (<-first).License.ID)
	_, err = c.Lookup(context.Background(), dlid)
	require.NoError(t, err)
	assert.EqualValues(t, 2, st.reads.Load(), "the read made after the change is served from memory")
}
