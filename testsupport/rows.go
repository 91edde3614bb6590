package testsupport

import (
	"sort"
	"testing"

	"github.com/licenseflow/licenseflow/store"
)

// RowCounts counts the rows of every table in the store's database, so a
// test can show a refused request recorded nothing anywhere.
func RowCounts(t testing.TB, st *store.Store) map[string]int64 {
	t.Helper()
	tables, err := st.DB().Migrator().GetTables()
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	sort.Strings(tables)
	counts := make(map[string]int64, len(tables))
	for _, table := range tables {
		var n int64
		if err := st.DB().Table(table).Count(&n).Error; err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		counts[table] = n
	}
	return counts
}
