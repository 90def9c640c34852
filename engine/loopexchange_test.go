//go:build !race

package engine

import (
	"bytes"
	"testing"
	"time"

	"github.com/mizuchi-gw/mizuchi/httpparse"
	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// Tests of the in-loop exchange on the loop rig (exchange_alloc_test.go,
// which the race detector's build leaves out).

// The in-loop exchange signs with the request's start time and the
// loop's own Builder: x-amz-date on the upstream head is the current
// second, never a stale one from a pooled exchange or the Builder's
// cached date, and the signature verifies, cycle after cycle across
// seconds.
func TestLoopExchangeSigningTime(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 1024)
	reply := []byte("HTTP/1.1 200 OK\r\nETag: \"0f343b0931126a20f133d67c2b018a3b\"\r\nContent-Length: 0\r\n\r\n")
	r := newLoopRig(t, &Route{Name: "uploads", Prefix: "/uploads"}, false)
	req := append([]byte("PUT /uploads/dir/key.bin HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Length: 1024\r\n\r\n"), body...)
	for i := 0; i < 3; i++ {
		before := time.Now().UTC().Truncate(time.Second)
		if msg := r.cycle(req, reply); msg != "" {
			t.Fatal(msg)
		}
		after := time.Now().UTC()
		_, v, ok := bytes.Cut(r.up.out, []byte("\r\nx-amz-date: "))
		if !ok || len(v) < 16 {
			t.Fatalf("no x-amz-date upstream:\n%s", r.up.out)
		}
		at, err := time.Parse("20060102T150405Z", string(v[:16]))
		if err != nil {
			t.Fatal(err)
		}
		if at.Before(before) || at.After(after) {
			t.Fatalf("x-amz-date %v; want within [%v, %v]", at, before, after)
		}
		verifyBackendSignature(t, r.up.out, after)
		if i < 2 {
			time.Sleep(1100 * time.Millisecond) // the next cycle is in a later second
		}
	}
}

// verifyBackendSignature checks the SigV4 signature of the upstream
// request out (head and body) with the rig's backend credentials.
func verifyBackendSignature(t *testing.T, out []byte, now time.Time) {
	t.Helper()
	var req httpparse.Request
	if _, err := req.Parse(out); err != nil {
		t.Fatalf("upstream head: %v", err)
	}
	in := &sigv4.Input{Method: req.Method, Path: req.Path, Query: req.Query, Now: now}
	for _, h := range req.Headers {
		in.Headers = append(in.Headers, sigv4.Header{Name: h.Name, Value: h.Value})
	}
	cfg := &sigv4.VerifyConfig{Region: "us-east-1", Keys: sigv4.Keys{"BACKENDAK": {Secret: "backend-secret"}}}
	var v sigv4.Verified
	if err := sigv4.NewVerifier(nil).Verify(cfg, in, &v); err != nil {
		t.Fatalf("upstream signature: %v\n%s", err, out[:len(out)-1024])
	}
}

// The in-loop exchange names the key the loop decoded (copied by setBind,
// not decoded again by parseHead), for each request of a connection and
// not the previous one's: escaped keys arrive decoded and re-encoded on
// the upstream request line, and the signature covers them.
func TestLoopExchangeKeys(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 1024)
	reply := []byte("HTTP/1.1 200 OK\r\nETag: \"0f343b0931126a20f133d67c2b018a3b\"\r\nContent-Length: 0\r\n\r\n")
	r := newLoopRig(t, &Route{Name: "uploads", Prefix: "/uploads"}, false)
	for _, tc := range []struct{ path, want string }{
		{"/uploads/dir/key.bin", "PUT /bkt/dir/key.bin HTTP/1.1\r\n"},
		{"/uploads/a%20b%2Bc/%C3%A9t%C3%A9.txt", "PUT /bkt/a%20b%2Bc/%C3%A9t%C3%A9.txt HTTP/1.1\r\n"},
		{"/uploads/x", "PUT /bkt/x HTTP/1.1\r\n"},
		{"/uploads/y~z?x-id=PutObject", "PUT /bkt/y~z HTTP/1.1\r\n"},
	} {
		req := append([]byte("PUT "+tc.path+" HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Length: 1024\r\n\r\n"), body...)
		if msg := r.cycle(req, reply); msg != "" {
			t.Fatalf("%s: %s", tc.path, msg)
		}
		if !bytes.HasPrefix(r.up.out, []byte(tc.want)) {
			t.Fatalf("%s: upstream request line; got %q; want %q", tc.path, r.up.out[:bytes.IndexByte(r.up.out, '\n')+1], tc.want)
		}
		verifyBackendSignature(t, r.up.out, time.Now())
	}
}
