package metrics_test

import (
	"testing"
	"time"

	"github.com/licenseflow/licenseflow/metrics"
	"github.com/licenseflow/licenseflow/models"
)

// BenchmarkValidationInstruments is what metrics and the staging rule add
// to one validation request: the request's series, the code's counter and
// the staging check of its domain.
func BenchmarkValidationInstruments(b *testing.B) {
	m := metrics.New()
	rule := models.DefaultStagingRule()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.ObserveRequest("/api/v1/licenses/validate", "POST", 200, 300*time.Microsecond)
			m.Validation(models.CodeValid)
			_ = rule.IsStaging("shop.example.com", nil)
		}
	})
}
