package auth_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/luciago/mongoauth/auth"
)

// BenchmarkMemoryThrottleStoreFull fills a MemoryThrottleStore to its
// default bound (auth.DefaultMaxThrottleRecords) with 64-byte keys, the
// length of a key record for a 50-character username, and reports the heap
// it holds, for the figure in the package documentation:
//
//	go test -run '^$' -bench MemoryThrottleStoreFull ./auth
func BenchmarkMemoryThrottleStoreFull(b *testing.B) {
	ctx := context.Background()
	now := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	pad := strings.Repeat("x", 64)
	var heap float64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s := auth.NewMemoryThrottleStore(0)
		for i := range auth.DefaultMaxThrottleRecords {
			key := fmt.Sprintf("%d", i)
			key += pad[len(key):]
			if _, _, err := s.Update(ctx, key, auth.ThrottleUpdate{Now: now, Cost: time.Minute, Limit: time.Hour}); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = float64(after.HeapAlloc) - float64(before.HeapAlloc)
		runtime.KeepAlive(s)
	}
	b.ReportMetric(heap/1e6, "MB-held")
	b.ReportMetric(heap/float64(auth.DefaultMaxThrottleRecords), "B/record")
}
