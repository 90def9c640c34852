//go:build !race

package engine

import "testing"

func TestAppendXMLEscapedAllocs(t *testing.T) {
	in := []byte("http://h\xff\u00e9st:8080/route/caf\u00e9")
	dst := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { dst = appendXMLEscaped(dst[:0], in) }); n != 0 {
		t.Fatalf("unexpected allocations; got %v; want 0", n)
	}
}
