package httpparse

import (
	"errors"
	"strings"
	"testing"
)

// Request-head classes that smuggling attempts use, with the error (and so
// the status) each must get. The end-to-end twin is
// cmd/mizuchi/strict_head_test.go.
func TestRequestParseStrictHead_Failure(t *testing.T) {
	f := func(head string, want error) {
		t.Helper()
		var r Request
		r.MaxHeadSize = 1 << 10
		_, err := r.Parse([]byte(head))
		if !errors.Is(err, want) {
			t.Fatalf("unexpected error for %.80q; got %v; want %v", head, err, want)
		}
	}
	// chunked that is not the final coding: 400, before anything else.
	f("PUT /b/k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n", ErrChunkedNotLast)
	f("PUT /b/k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: CHUNKED , gzip\r\n\r\n", ErrChunkedNotLast)
	f("PUT /b/k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", ErrChunkedNotLast)
	f("PUT /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked, x\r\n\r\n", ErrChunkedNotLast)
	// Other codings stay S3's NotImplemented.
	f("PUT /b/k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity, chunked\r\n\r\n", ErrUnsupportedTransferEncoding)
	f("PUT /b/k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n", ErrUnsupportedTransferEncoding)
	f("PUT /b/k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked,\r\n\r\n", ErrUnsupportedTransferEncoding)
	f("PUT /b/k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", ErrUnsupportedTransferEncoding)

	// The asterisk form, and the HTTP/2 preface.
	f("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", ErrMalformed)
	f("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", ErrUnsupportedVersion)
	f("PRI *HTTP/2.0\r\n\r\n", ErrMalformed)
	f("PRI * http/2.0\r\n\r\n", ErrMalformed)
	f("PRI * HTTP/2", ErrNeedMore)
	f("PRI *", ErrNeedMore)
	f("PUT http://h/b/k HTTP/1.1\r\nHost: h\r\n\r\n", ErrMalformed)
	f("GET /b/k\r\n\r\n", ErrMalformed) // HTTP/0.9

	// Sizes: a request line that does not fit is 414, a head 431.
	f("PUT /"+strings.Repeat("a", 2<<10)+" HTTP/1.1\r\nHost: h\r\n\r\n", ErrURITooLong)
	f("PUT /"+strings.Repeat("a", 1<<10), ErrURITooLong)
	f("PUT /b/k HTTP/1.1\r\nHost: h\r\nX: "+strings.Repeat("v", 2<<10)+"\r\n\r\n", ErrHeadTooLarge)
	f("PUT /"+strings.Repeat("a", 1000)+" HTTP/1.1\r\nHost: h\r\nX: "+strings.Repeat("v", 100)+"\r\n\r\n", ErrHeadTooLarge)
}

func TestRequestParseStrictHead_Success(t *testing.T) {
	f := func(head string, chunked bool, cl int64) {
		t.Helper()
		var r Request
		n, err := r.Parse([]byte(head))
		if err != nil || n != len(head) || r.Chunked != chunked || r.ContentLength != cl {
			t.Fatalf("unexpected result for %q; got n=%d err=%v chunked=%v cl=%d; want chunked=%v cl=%d", head, n, err, r.Chunked, r.ContentLength, chunked, cl)
		}
	}
	f("PUT /b/k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n", true, -1)
	f("PUT /b/k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\tchunked\r\n\r\n", true, -1)
	f("PUT /b/k HTTP/1.1\r\nHost: h\r\nContent-Length:   5\r\n\r\n", false, 5)
	f("PUT /b/k HTTP/1.0\r\nContent-Length: 5\r\n\r\n", false, 5)
	f("PUT /b/k HTTP/1.1\r\nHost: h\r\nX-Amz-Meta-A: caf\xc3\xa9\r\n\r\n", false, -1)
}
