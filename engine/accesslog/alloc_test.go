//go:build !race

package accesslog

import (
	"testing"
)

// Formatting and queuing a record allocates nothing with a warm pool.
func TestLogNoAllocs(t *testing.T) {
	for _, format := range []string{FormatJSON, FormatLogfmt} {
		l, err := New(Config{Format: format, Output: t.TempDir() + "/access.log", Sample: 1})
		if err != nil {
			t.Fatal(err)
		}
		r := fullRecord()
		// Warm the free list as a running gateway's is: more buffers than
		// lines in flight.
		for i := 0; i < 2000; i++ {
			b := make([]byte, 0, 512)
			l.put(&b)
		}
		l.Log(r)
		allocs := testing.AllocsPerRun(1000, func() { l.Log(r) })
		l.Close()
		if allocs != 0 {
			t.Fatalf("%s: unexpected allocations; got %v; want 0", format, allocs)
		}
	}
}
