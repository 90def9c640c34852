package engine

import (
	"bytes"
	"testing"
	"time"
)

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
