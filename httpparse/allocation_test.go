//go:build !race

package httpparse

import "testing"

func TestAllocations(t *testing.T) {
	f := func(name string, fn func()) {
		t.Helper()
		if n := testing.AllocsPerRun(100, fn); n != 0 {
			t.Fatalf("unexpected allocations in %s; got %v; want 0", name, n)
		}
	}
	reqBuf := []byte(s3PutHead)
	var req Request
	f("Request.Parse", func() {
		if _, err := req.Parse(reqBuf); err != nil {
			t.Fatalf("unexpected error: %s", err)
		}
	})
	f("Request.Header", func() {
		if req.Header("x-amz-content-sha256") == nil {
			t.Fatalf("missing header")
		}
	})
	f("Request.Parse incomplete", func() {
		if _, err := req.Parse(reqBuf[:len(reqBuf)-1]); err != ErrNeedMore {
			t.Fatalf("unexpected error: %v", err)
		}
	})
	respBuf := []byte(s3PutResponseHead)
	var resp Response
	f("Response.Parse", func() {
		if _, err := resp.Parse(respBuf); err != nil {
			t.Fatalf("unexpected error: %s", err)
		}
	})
	q := []byte("uploadId=EOZiytSxhMDrzVmMMcm2ARtcuF2HQqOrY4ckFoOyOaFzuxGViXPM2qw&partNumber=2")
	f("NextParam", func() {
		for rest := q; len(rest) > 0; {
			_, _, rest = NextParam(rest)
		}
	})
	src := []byte("/bucket/a%20b%2Bc/%E6%97%A5%E6%9C%AC.bin")
	dst := make([]byte, 0, len(src))
	f("AppendUnescape", func() {
		var err error
		if dst, err = AppendUnescape(dst[:0], src); err != nil {
			t.Fatalf("unexpected error: %s", err)
		}
	})
}
