package testsupport

import (
	"fmt"
	"sort"
	"strings"
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

// DatabaseText is every value of every row of every table in the store's
// database, as text, so a test can show a secret is stored nowhere in
// clear.
func DatabaseText(t testing.TB, st *store.Store) string {
	t.Helper()
	tables, err := st.DB().Migrator().GetTables()
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	sort.Strings(tables)
	var b strings.Builder
	for _, table := range tables {
		var rows []map[string]any
		if err := st.DB().Table(table).Find(&rows).Error; err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		for _, row := range rows {
			for column, v := range row {
				if raw, ok := v.([]byte); ok {
					v = string(raw)
				}
				fmt.Fprintf(&b, "%s.%s=%v\n", table, column, v)
			}
		}
	}
	return b.String()
}
