//go:build !race

package engine

import (
	"testing"
	"time"

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

// Binding on the loop: decoding and validating the key on a route without
// binding, and a template, a sealed upload id and the limits on one with
// them, allocate nothing in steady state.
func TestBindNoAllocs(t *testing.T) {
	fx := newBindFixture(t)
	f := func(rt *Route, head, subject string) {
		t.Helper()
		if fl := fx.bind(t, rt, head, subject); fl.e != nil {
			t.Fatalf("unexpected refusal of %q: %s", head, fl.e.Code)
		}
		req := &fx.sc.req
		_, rawKey, _ := NewRouter([]*Route{rt}, nil).Match(req.Host, req.Path)
		o, _ := classify(req, rawKey, nil, false)
		ar := authResult{id: identity{method: "sigv4", subject: subject}}
		n := testing.AllocsPerRun(200, func() {
			if fl := fx.s.bind(fx.sc, rt, o, &ar, rawKey, -1); fl.e != nil {
				t.Fatalf("unexpected refusal of %q: %s", head, fl.e.Code)
			}
		})
		if n != 0 {
			t.Fatalf("%q: unexpected allocations; got %v; want 0", head, n)
		}
	}
	f(fx.plain, "PUT /plain/dir/key.bin?x-id=PutObject HTTP/1.1\r\nHost: gw\r\nContent-Length: 1024\r\n\r\n", "")
	f(fx.tmpl, "PUT /tmpl/dir/key.png HTTP/1.1\r\nHost: gw\r\nContent-Length: 1024\r\nContent-Type: image/png\r\n\r\n", "alice")
	tok := fx.seal(t, fx.tmpl, "backend-id", "alice/dir/key.png", "alice", time.Now().Add(time.Hour))
	f(fx.tmpl, "PUT /tmpl/dir/key.png?partNumber=1&uploadId="+tok+" HTTP/1.1\r\nHost: gw\r\nContent-Length: 1024\r\n\r\n", "alice")
}
