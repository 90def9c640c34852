package engine

import (
	"strings"
	"testing"
	"time"
)

func TestCORS(t *testing.T) {
	c := NewCORS([]string{"https://app.example.com"}, []string{"Content-Type", "x-amz-meta-a"}, []string{"x-amz-checksum-crc32", "etag"}, time.Minute)
	f := func(origin string, wantAllowed bool) {
		t.Helper()
		h := string(c.appendHeaders(nil, []byte(origin)))
		if got := h != ""; got != wantAllowed {
			t.Fatalf("origin %q: headers %q; want allowed=%v", origin, h, wantAllowed)
		}
		if wantAllowed && (!strings.Contains(h, "Access-Control-Allow-Origin: "+origin+"\r\n") || !strings.Contains(h, "Vary: Origin\r\n") ||
			!strings.Contains(h, "Access-Control-Expose-Headers: ETag, x-amz-request-id, x-amz-version-id, x-amz-checksum-crc32\r\n")) {
			t.Fatalf("origin %q: unexpected headers %q", origin, h)
		}
	}
	f("https://app.example.com", true)
	f("https://app.example.com.evil", false)
	f("http://app.example.com", false)
	f("", false)

	g := func(list string, want bool) {
		t.Helper()
		if got := c.allowHeaders([]byte(list)); got != want {
			t.Fatalf("allowHeaders(%q) = %v; want %v", list, got, want)
		}
	}
	g("", true)
	g("content-type", true)
	g("Content-Type, X-Amz-Meta-A", true)
	g("content-type,authorization", false)
	g(strings.Repeat("a", 200), false)

	any := NewCORS([]string{"*"}, []string{"*"}, nil, 0)
	if !any.allowOrigin([]byte("http://x")) || !any.allowHeaders([]byte("whatever, else")) || len(any.maxAgeLine) != 0 {
		t.Fatalf("wildcard policy refuses")
	}
}
