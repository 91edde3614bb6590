package database_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/database"
)

// SQLite's reader pool reads while the one writer holds a write
// transaction open (a lookup never queues behind a batch of writes), sees
// each commit as soon as it is made, and cannot write.
func TestSQLiteReaderPoolReadsBesideTheWriter(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	path := filepath.Join(t.TempDir(), "licenseflow.db")
	writer, err := database.Open(path, database.Options{})
	require.NoError(t, err)
	reader, err := database.OpenReader(path)
	require.NoError(t, err)
	require.NotNil(t, reader)
	t.Cleanup(func() {
		if sqlDB, err := reader.DB(); err == nil {
			_ = sqlDB.Close()
		}
		if sqlDB, err := writer.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	require.NoError(t, writer.Exec("CREATE TABLE keys (dlid TEXT PRIMARY KEY)").Error)
	require.NoError(t, writer.Exec("INSERT INTO keys VALUES ('a')").Error)
	count := func() (n int64) {
		require.NoError(t, reader.WithContext(ctx).Raw("SELECT count(*) FROM keys").Scan(&n).Error)
		return n
	}
	assert.EqualValues(t, 1, count(), "a commit is seen at once")

	tx := writer.WithContext(ctx).Begin()
	require.NoError(t, tx.Error)
	require.NoError(t, tx.Exec("INSERT INTO keys VALUES ('b')").Error)
	done := make(chan int64, 1)
	go func() { done <- count() }()
	select {
	case n := <-done:
		assert.EqualValues(t, 1, n, "the open transaction's row is not seen before its commit")
	case <-ctx.Done():
		t.Fatal("a read waited for the writer's transaction")
	}
	require.NoError(t, tx.Commit().Error)
	assert.EqualValues(t, 2, count())

	assert.Error(t, reader.Exec("INSERT INTO keys VALUES ('c')").Error, "the reader pool cannot write")
	assert.EqualValues(t, 2, count())

	none, err := database.OpenReader("postgres://x@127.0.0.1:1/n")
	require.NoError(t, err)
	assert.Nil(t, none, "PostgreSQL reads through the writer's pool")
}
