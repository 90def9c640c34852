//go:build !race

package engine

import (
	"testing"

	"github.com/mizuchi-gw/mizuchi/httpparse"
)

// The loop's per-request work before a worker takes over: routing,
// classification and error responses allocate nothing.
func TestLoopPathNoAllocs(t *testing.T) {
	r := NewRouter([]*Route{{Name: "uploads", Prefix: "/uploads"}, {Name: "a", Prefix: "/a"}}, []string{"s3.local"})
	head := []byte("PUT /uploads/dir/key.bin?x-id=PutObject HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Length: 1024\r\nx-amz-content-sha256: UNSIGNED-PAYLOAD\r\n\r\n")
	var req httpparse.Request
	out := make([]byte, 0, 4096)
	id := make([]byte, 0, 16)
	n := testing.AllocsPerRun(200, func() {
		req.Reset()
		if _, err := req.Parse(head); err != nil {
			t.Fatal(err)
		}
		_, key, _ := r.Match(req.Host, req.Path)
		if o, e := classify(&req, key, nil, false); o != opPutObject || e != nil {
			t.Fatal("unexpected classification")
		}
		id = appendRequestID(id[:0])
		out = appendErrorResponse(out[:0], errAccessDenied.Code, errAccessDenied.Status, errAccessDenied.Message, id, req.Path, false)
	})
	if n != 0 {
		t.Fatalf("unexpected allocations; got %v; want 0", n)
	}
}
