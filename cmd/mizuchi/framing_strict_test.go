package main

import (
	"io"
	"testing"
	"time"
)

// TestE2EStrictFraming: heads and chunked bodies that the parser refuses
// are answered 400 and never reach the backend.
func TestE2EStrictFraming(t *testing.T) {
	b := startBackend(t, mainBucket)
	g := startGateway(t, b, route{name: "strict", pathPrefix: "/strict", bucket: mainBucket, keyPrefix: "strict/"})

	send := func(name, wire string) putResult {
		t.Helper()
		c := g.dialRaw(t)
		defer c.Close()
		if _, err := io.WriteString(c, wire); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		r, err := c.readResponse("PUT")
		if err != nil {
			t.Fatalf("%s: no response: %v", name, err)
		}
		return r
	}
	host := "Host: " + g.addr + "\r\n"

	// An obs-folded Transfer-Encoding is a parse error (400), not an
	// unsupported coding (501).
	r := send("obs-fold TE", "PUT /strict/fold.bin HTTP/1.1\r\n"+host+"Transfer-Encoding:\r\n chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
	if code := checkS3Error(t, "obs-fold TE", r, false); r.status != 400 {
		t.Fatalf("obs-fold TE: unexpected status; got %d %s; want 400", r.status, code)
	}
	b.checkAbsent(t, mainBucket, "strict/fold.bin")
	// A well-formed unknown coding stays 501.
	r = send("gzip TE", "PUT /strict/gzip.bin HTTP/1.1\r\n"+host+"Transfer-Encoding: gzip\r\n\r\n")
	if code := checkS3Error(t, "gzip TE", r, false); r.status != 501 {
		t.Fatalf("gzip TE: unexpected status; got %d %s; want 501", r.status, code)
	}

	// Junk after a chunk size is refused.
	for i, line := range []string{"5 junk", "5x", "5,5", "5;a\rb"} {
		key := "strict/junk" + string(rune('0'+i)) + ".bin"
		r := send(line, "PUT /"+key+" HTTP/1.1\r\n"+host+
			"Transfer-Encoding: chunked\r\n\r\n"+line+"\r\nhello\r\n0\r\n\r\n")
		if code := checkS3Error(t, line, r, false); r.status != 400 {
			t.Fatalf("%q: unexpected status; got %d %s; want 400", line, r.status, code)
		}
		b.checkAbsent(t, mainBucket, key)
	}
	// Extensions (with BWS) are fine.
	r = send("extensions", "PUT /strict/ext.bin HTTP/1.1\r\n"+host+
		"Transfer-Encoding: chunked\r\n\r\n5 ;name=\"v\"\r\nhello\r\n6;x\r\n world\r\n0\r\n\r\n")
	if r.status != 200 {
		t.Fatalf("chunk extensions: unexpected status; got %s; want 200", r)
	}
	if !b.exists(t, mainBucket, "strict/ext.bin") {
		t.Fatalf("chunk extensions: object missing")
	}
}
