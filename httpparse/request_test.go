package httpparse

import (
	"errors"
	"strings"
	"testing"
)

func TestRequestParse_Success(t *testing.T) {
	type want struct {
		method, uri, path, query string
		noQuery                  bool
		minor                    int
		host                     string
		cl                       int64
		chunked, expect, close   bool
		headers                  int
	}
	f := func(head string, w want) {
		t.Helper()
		var r Request
		// Trailing body bytes must not be consumed.
		buf := []byte(head + "BODY")
		n, err := r.Parse(buf)
		if err != nil {
			t.Fatalf("unexpected error for %q: %s", head, err)
		}
		if n != len(head) {
			t.Fatalf("unexpected n; got %d; want %d", n, len(head))
		}
		check := func(name string, got []byte, want string) {
			t.Helper()
			if string(got) != want {
				t.Fatalf("unexpected %s; got %q; want %q", name, got, want)
			}
		}
		check("method", r.Method, w.method)
		check("uri", r.URI, w.uri)
		check("path", r.Path, w.path)
		check("query", r.Query, w.query)
		if (r.Query == nil) != w.noQuery {
			t.Fatalf("unexpected query nil-ness; got %v; want %v", r.Query == nil, w.noQuery)
		}
		check("host", r.Host, w.host)
		if r.Minor != w.minor {
			t.Fatalf("unexpected minor; got %d; want %d", r.Minor, w.minor)
		}
		if r.ContentLength != w.cl {
			t.Fatalf("unexpected content length; got %d; want %d", r.ContentLength, w.cl)
		}
		if r.Chunked != w.chunked {
			t.Fatalf("unexpected chunked; got %v; want %v", r.Chunked, w.chunked)
		}
		if r.Expect100 != w.expect {
			t.Fatalf("unexpected expect100; got %v; want %v", r.Expect100, w.expect)
		}
		if r.Close != w.close {
			t.Fatalf("unexpected close; got %v; want %v", r.Close, w.close)
		}
		if len(r.Headers) != w.headers {
			t.Fatalf("unexpected header count; got %d; want %d", len(r.Headers), w.headers)
		}
		// Every proper prefix is incomplete, never an error.
		for i := 0; i < len(head); i++ {
			if _, err := r.Parse([]byte(head[:i])); err != ErrNeedMore {
				t.Fatalf("unexpected error for prefix %q; got %v; want ErrNeedMore", head[:i], err)
			}
		}
		// Exactly at the limit is fine.
		r.MaxHeadSize = len(head)
		if _, err := r.Parse(buf); err != nil {
			t.Fatalf("unexpected error at MaxHeadSize=len(head): %s", err)
		}
	}

	f("GET / HTTP/1.1\r\nHost: a\r\n\r\n", want{method: "GET", uri: "/", path: "/", noQuery: true, minor: 1, host: "a", cl: -1, headers: 1})
	f(s3PutHead, want{method: "PUT", uri: "/hdr-gosdk/small.bin?x-id=PutObject", path: "/hdr-gosdk/small.bin", query: "x-id=PutObject", minor: 1, host: "127.0.0.1:5100", cl: 1000, headers: 11})
	// Empty query is non-nil.
	f("POST /b/k?uploads HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", want{method: "POST", uri: "/b/k?uploads", path: "/b/k", query: "uploads", minor: 1, host: "h", cl: 0, headers: 2})
	f("GET /? HTTP/1.1\r\nHost: h\r\n\r\n", want{method: "GET", uri: "/?", path: "/", query: "", minor: 1, host: "h", cl: -1, headers: 1})
	// Percent escapes stay raw.
	f("PUT /b/a%20b%2Bc+d?x=%2F HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n", want{method: "PUT", uri: "/b/a%20b%2Bc+d?x=%2F", path: "/b/a%20b%2Bc+d", query: "x=%2F", minor: 1, host: "h", cl: 5, headers: 2})
	// Chunked, Expect: 100-continue in any case, OWS trimmed, HT in values.
	f("PUT /b/k HTTP/1.1\r\nHOST:\th \r\ntransfer-encoding: Chunked\r\nExpect: 100-Continue\r\nX-A:\tx\ty\t\r\n\r\n", want{method: "PUT", uri: "/b/k", path: "/b/k", noQuery: true, minor: 1, host: "h", cl: -1, chunked: true, expect: true, headers: 4})
	// Other expectations do not set Expect100.
	f("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n", want{method: "PUT", uri: "/", path: "/", noQuery: true, minor: 1, host: "h", cl: -1, headers: 2})
	// HTTP/1.0 closes by default, keep-alive keeps it open, no Host needed.
	f("GET / HTTP/1.0\r\n\r\n", want{method: "GET", uri: "/", path: "/", noQuery: true, cl: -1, close: true})
	f("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", want{method: "GET", uri: "/", path: "/", noQuery: true, cl: -1, headers: 1})
	f("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", want{method: "GET", uri: "/", path: "/", noQuery: true, cl: -1, close: true, headers: 1})
	// HTTP/1.1 token lists, repeated Connection fields.
	f("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\n\r\n", want{method: "GET", uri: "/", path: "/", noQuery: true, minor: 1, host: "h", cl: -1, headers: 2})
	f("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nConnection: upgrade ,CLOSE\r\n\r\n", want{method: "GET", uri: "/", path: "/", noQuery: true, minor: 1, host: "h", cl: -1, close: true, headers: 3})
	f("GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n", want{method: "GET", uri: "/", path: "/", noQuery: true, minor: 1, host: "h", cl: -1, headers: 2})
	// Content-Length edge values.
	f("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 0009223372036854775807\r\n\r\n", want{method: "PUT", uri: "/", path: "/", noQuery: true, minor: 1, host: "h", cl: 1<<63 - 1, headers: 2})
	// Empty values, empty Host, obs-text in values, token method.
	f("M-SEARCH /x HTTP/1.1\r\nHost:\r\nX-Empty:   \r\nX-Obs: caf\xc3\xa9\r\n\r\n", want{method: "M-SEARCH", uri: "/x", path: "/x", noQuery: true, minor: 1, cl: -1, headers: 3})
	// Names that merely look like special ones are ordinary.
	f("GET / HTTP/1.1\r\nHost: h\r\nContent-Lengths: x\r\nTransfer-Encodings: gzip\r\nHosts: y\r\n\r\n", want{method: "GET", uri: "/", path: "/", noQuery: true, minor: 1, host: "h", cl: -1, headers: 4})
}

func TestRequestParse_Failure(t *testing.T) {
	f := func(head string, wantErr error) {
		t.Helper()
		var r Request
		_, err := r.Parse([]byte(head))
		if !errors.Is(err, wantErr) {
			t.Fatalf("unexpected error for %q; got %v; want %v", head, err, wantErr)
		}
	}
	const ok = "GET / HTTP/1.1\r\nHost: h\r\n"

	// Request line.
	f("\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", ErrMalformed)
	f(" GET / HTTP/1.1\r\n", ErrMalformed)
	f("GET  / HTTP/1.1\r\n", ErrMalformed)
	f("G(T / HTTP/1.1\r\n", ErrMalformed)
	f("GET\t/ HTTP/1.1\r\n", ErrMalformed)
	f("GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", ErrMalformed)
	f("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", ErrMalformed)
	f("CONNECT h:443 HTTP/1.1\r\nHost: h\r\n\r\n", ErrMalformed)
	f("GET /a\x00b HTTP/1.1\r\n", ErrMalformed)
	f("GET /a\x7f HTTP/1.1\r\n", ErrMalformed)
	f("GET /caf\xc3\xa9 HTTP/1.1\r\n", ErrMalformed)
	f("GET /%zz HTTP/1.1\r\n", ErrMalformed)
	f("GET /%2 HTTP/1.1\r\n", ErrMalformed)
	f("GET /?a=%g0 HTTP/1.1\r\n", ErrMalformed)
	f("GET /  HTTP/1.1\r\n", ErrMalformed)
	f("GET / HTTP/1.1 \r\n", ErrMalformed)
	f("GET / HTTP/1.1\n", ErrMalformed)
	f("GET / HTTP/1.1\rX", ErrMalformed)
	f("GET / HTTP/1.10\r\n", ErrMalformed)
	f("GET / http/1.1\r\n", ErrMalformed)
	f("GET / HTTP/1\r\n\r\n", ErrMalformed)
	f("GET / HTTP/x.1\r\n", ErrMalformed)
	f("GET /\r\n\r\n", ErrMalformed)
	f("GET / HTTP/2.0\r\n", ErrUnsupportedVersion)
	f("GET / HTTP/1.2\r\n", ErrUnsupportedVersion)
	f("GET / HTTP/0.9\r\n", ErrUnsupportedVersion)

	// Field syntax.
	f(ok+" X: y\r\n\r\n", ErrObsFold)
	f(ok+"X: y\r\n\tz\r\n\r\n", ErrObsFold)
	f(ok+"X : y\r\n\r\n", ErrMalformed)
	f(ok+"X\t: y\r\n\r\n", ErrMalformed)
	f(ok+": y\r\n\r\n", ErrMalformed)
	f(ok+"X\r\n\r\n", ErrMalformed)
	f(ok+"X(y): z\r\n\r\n", ErrMalformed)
	f(ok+"X\x00: z\r\n\r\n", ErrMalformed)
	f(ok+"X: a\x00b\r\n\r\n", ErrMalformed)
	f(ok+"X: a\x01b\r\n\r\n", ErrMalformed)
	f(ok+"X: a\x7fb\r\n\r\n", ErrMalformed)
	f(ok+"X: a\rb\r\n\r\n", ErrMalformed)
	f(ok+"X: a\nY: b\r\n\r\n", ErrMalformed)
	f(ok+"X: a\r\n\n", ErrMalformed)
	f(ok+"X: a\r\n\rX", ErrMalformed)
	f("GET / HTTP/1.1\nHost: h\n\n", ErrMalformed)

	// Host.
	f("GET / HTTP/1.1\r\n\r\n", ErrMalformed)
	f(ok+"host: h\r\n\r\n", ErrMalformed)

	// Content-Length.
	f(ok+"Content-Length: 1\r\nContent-Length: 1\r\n\r\n", ErrBadContentLength)
	f(ok+"Content-Length: 1\r\ncontent-length: 2\r\n\r\n", ErrBadContentLength)
	f(ok+"Content-Length: 1, 1\r\n\r\n", ErrBadContentLength)
	f(ok+"Content-Length: +1\r\n\r\n", ErrBadContentLength)
	f(ok+"Content-Length: -1\r\n\r\n", ErrBadContentLength)
	f(ok+"Content-Length: 0x10\r\n\r\n", ErrBadContentLength)
	f(ok+"Content-Length: 1 0\r\n\r\n", ErrBadContentLength)
	f(ok+"Content-Length: \r\n\r\n", ErrBadContentLength)
	f(ok+"Content-Length: 9223372036854775808\r\n\r\n", ErrBadContentLength)
	f(ok+"Content-Length: 99999999999999999999999\r\n\r\n", ErrBadContentLength)

	// Transfer-Encoding.
	f(ok+"Transfer-Encoding: gzip\r\n\r\n", ErrUnsupportedTransferEncoding)
	f(ok+"Transfer-Encoding: gzip, chunked\r\n\r\n", ErrUnsupportedTransferEncoding)
	f(ok+"Transfer-Encoding: chunked, chunked\r\n\r\n", ErrUnsupportedTransferEncoding)
	f(ok+"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", ErrUnsupportedTransferEncoding)
	f(ok+"Transfer-Encoding: \r\n\r\n", ErrUnsupportedTransferEncoding)
	f(ok+"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", ErrAmbiguousLength)
	f(ok+"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", ErrAmbiguousLength)
	f("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", ErrMalformed)

	// Limits.
	big := ok + "X: " + strings.Repeat("a", 100) + "\r\n\r\n"
	r := Request{MaxHeadSize: len(big) - 1}
	if _, err := r.Parse([]byte(big)); err != ErrHeadTooLarge {
		t.Fatalf("unexpected error; got %v; want ErrHeadTooLarge", err)
	}
	// Incomplete head already over the limit.
	r.MaxHeadSize = len(big) - 10
	if _, err := r.Parse([]byte(big[:len(big)-2])); err != ErrHeadTooLarge {
		t.Fatalf("unexpected error for incomplete head; got %v; want ErrHeadTooLarge", err)
	}
	// Incomplete at exactly the limit still waits.
	if _, err := r.Parse([]byte(big[:len(big)-10])); err != ErrNeedMore {
		t.Fatalf("unexpected error at the limit; got %v; want ErrNeedMore", err)
	}
	// Default limit.
	r = Request{}
	huge := ok + "X: " + strings.Repeat("a", DefaultMaxHeadSize)
	if _, err := r.Parse([]byte(huge)); err != ErrHeadTooLarge {
		t.Fatalf("unexpected error for default limit; got %v; want ErrHeadTooLarge", err)
	}
	many := ok + strings.Repeat("X: y\r\n", 3) + "\r\n"
	r = Request{MaxHeaders: 3}
	if _, err := r.Parse([]byte(many)); err != ErrTooManyHeaders {
		t.Fatalf("unexpected error; got %v; want ErrTooManyHeaders", err)
	}
	r = Request{MaxHeaders: 4}
	if _, err := r.Parse([]byte(many)); err != nil {
		t.Fatalf("unexpected error at MaxHeaders: %s", err)
	}
	r = Request{}
	many = ok + strings.Repeat("X: y\r\n", DefaultMaxHeaders) + "\r\n"
	if _, err := r.Parse([]byte(many)); err != ErrTooManyHeaders {
		t.Fatalf("unexpected error for default header limit; got %v; want ErrTooManyHeaders", err)
	}
}

func TestRequestHeader(t *testing.T) {
	var r Request
	head := "PUT / HTTP/1.1\r\nHost: h\r\nX-Amz-Date: d1\r\nx-amz-date: d2\r\nX-AMZ-META-A: \r\n\r\n"
	if _, err := r.Parse([]byte(head)); err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	f := func(name, want string, wantNil bool) {
		t.Helper()
		got := r.Header(name)
		if string(got) != want || (got == nil) != wantNil {
			t.Fatalf("unexpected value for %q; got %q (nil=%v); want %q (nil=%v)", name, got, got == nil, want, wantNil)
		}
	}
	f("x-amz-date", "d1", false)
	f("host", "h", false)
	f("x-amz-meta-a", "", false)
	f("x-amz-meta-b", "", true)
	f("x-amz-dat", "", true)
}

func TestRequestReuse(t *testing.T) {
	var r Request
	if _, err := r.Parse([]byte(s3PutHead)); err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	hs := r.Headers[:1]
	// A failed parse leaves no stale state behind.
	if _, err := r.Parse([]byte("GET / HTTP/1.1\r\nHost: h\r\nX: \x00\r\n\r\n")); err != ErrMalformed {
		t.Fatalf("unexpected error; got %v; want ErrMalformed", err)
	}
	if _, err := r.Parse([]byte("GET / HTTP/1.1\r\nHost: h\r\n\r\n")); err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	if r.ContentLength != -1 || r.Query != nil || len(r.Headers) != 1 || r.Header("x-amz-date") != nil {
		t.Fatalf("stale state after reuse: %+v", r)
	}
	if &hs[0] != &r.Headers[0] {
		t.Fatalf("headers backing array was not reused")
	}
	r.MaxHeaders = 7
	r.Reset()
	if r.MaxHeaders != 7 || r.Method != nil || r.ContentLength != -1 || len(r.Headers) != 0 {
		t.Fatalf("unexpected state after Reset: %+v", r)
	}
}
