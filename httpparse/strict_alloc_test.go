//go:build !race

package httpparse

import (
	"strings"
	"testing"
)

// The refusals of strict_head_test.go stay zero-alloc.
func TestAllocationsStrictHead(t *testing.T) {
	var req Request
	req.MaxHeadSize = 1 << 10
	for _, c := range []struct {
		head string
		want error
	}{
		{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", ErrUnsupportedVersion},
		{"PUT /b/k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n", ErrChunkedNotLast},
		{"PUT /" + strings.Repeat("a", 2<<10), ErrURITooLong},
	} {
		buf := []byte(c.head)
		if n := testing.AllocsPerRun(100, func() {
			if _, err := req.Parse(buf); err != c.want {
				t.Fatalf("unexpected error: %v; want %v", err, c.want)
			}
		}); n != 0 {
			t.Fatalf("unexpected allocations for %.20q; got %v; want 0", c.head, n)
		}
	}
}
