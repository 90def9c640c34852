package httpparse

import (
	"errors"
	"strings"
	"testing"
)

func TestResponseParse_Success(t *testing.T) {
	type want struct {
		status  int
		reason  string
		minor   int
		cl      int64
		chunked bool
		close   bool
		headers int
	}
	f := func(head string, w want) {
		t.Helper()
		var r Response
		buf := []byte(head + "BODY")
		n, err := r.Parse(buf)
		if err != nil {
			t.Fatalf("unexpected error for %q: %s", head, err)
		}
		if n != len(head) {
			t.Fatalf("unexpected n; got %d; want %d", n, len(head))
		}
		if r.Status != w.status {
			t.Fatalf("unexpected status; got %d; want %d", r.Status, w.status)
		}
		if string(r.Reason) != w.reason {
			t.Fatalf("unexpected reason; got %q; want %q", r.Reason, w.reason)
		}
		if r.Minor != w.minor {
			t.Fatalf("unexpected minor; got %d; want %d", r.Minor, w.minor)
		}
		if r.ContentLength != w.cl {
			t.Fatalf("unexpected content length; got %d; want %d", r.ContentLength, w.cl)
		}
		if r.Chunked != w.chunked {
			t.Fatalf("unexpected chunked; got %v; want %v", r.Chunked, w.chunked)
		}
		if r.Close != w.close {
			t.Fatalf("unexpected close; got %v; want %v", r.Close, w.close)
		}
		if len(r.Headers) != w.headers {
			t.Fatalf("unexpected header count; got %d; want %d", len(r.Headers), w.headers)
		}
		for i := 0; i < len(head); i++ {
			if _, err := r.Parse([]byte(head[:i])); err != ErrNeedMore {
				t.Fatalf("unexpected error for prefix %q; got %v; want ErrNeedMore", head[:i], err)
			}
		}
	}
	f(s3PutResponseHead, want{status: 200, reason: "OK", minor: 1, cl: 0, headers: 8})
	f("HTTP/1.1 204 No Content\r\n\r\n", want{status: 204, reason: "No Content", minor: 1, cl: -1})
	f("HTTP/1.1 200 \r\n\r\n", want{status: 200, minor: 1, cl: -1})
	f("HTTP/1.1 200\r\n\r\n", want{status: 200, minor: 1, cl: -1})
	f("HTTP/1.1 500 Internal\tServer Error \r\nConnection: close\r\nContent-Length: 12\r\n\r\n", want{status: 500, reason: "Internal\tServer Error ", minor: 1, cl: 12, close: true, headers: 2})
	f("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", want{status: 200, reason: "OK", minor: 1, cl: -1, chunked: true, headers: 1})
	f("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n", want{status: 200, reason: "OK", cl: 3, close: true, headers: 1})
	f("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n", want{status: 200, reason: "OK", cl: -1, headers: 1})
	f("HTTP/1.1 100 Continue\r\n\r\n", want{status: 100, reason: "Continue", minor: 1, cl: -1})
	f("HTTP/1.1 599 x\r\n\r\n", want{status: 599, reason: "x", minor: 1, cl: -1})
}

func TestResponseParse_Failure(t *testing.T) {
	f := func(head string, wantErr error) {
		t.Helper()
		var r Response
		_, err := r.Parse([]byte(head))
		if !errors.Is(err, wantErr) {
			t.Fatalf("unexpected error for %q; got %v; want %v", head, err, wantErr)
		}
	}
	const ok = "HTTP/1.1 200 OK\r\n"
	f("HTTP/1.1  200 OK\r\n\r\n", ErrMalformed)
	f("HTTP/1.1 20 OK\r\n\r\n", ErrMalformed)
	f("HTTP/1.1 2000 OK\r\n\r\n", ErrMalformed)
	f("HTTP/1.1 099 OK\r\n\r\n", ErrMalformed)
	f("HTTP/1.1 600 OK\r\n\r\n", ErrMalformed)
	f("HTTP/1.1 -20 OK\r\n\r\n", ErrMalformed)
	f("HTTP/1.1 x", ErrMalformed)
	f("HTTP/1.1 2x", ErrMalformed)
	f("HTTP/1.1_", ErrMalformed)
	f("HTTP/1.1 200 O\x00K\r\n\r\n", ErrMalformed)
	f("HTTP/1.1 200 OK\n\n", ErrMalformed)
	f("HTTP/1.1 200 OK\rX", ErrMalformed)
	f("HTTP/2 200 OK\r\n\r\n", ErrMalformed)
	f("ICY 200 OK\r\n\r\n", ErrMalformed)
	f("HTTP/2.0 200 OK\r\n\r\n", ErrUnsupportedVersion)
	f(ok+" X: y\r\n\r\n", ErrObsFold)
	f(ok+"X : y\r\n\r\n", ErrMalformed)
	f(ok+"X: \x00\r\n\r\n", ErrMalformed)
	f(ok+"X: y\n\r\n", ErrMalformed)
	f(ok+"Content-Length: 1\r\nContent-Length: 1\r\n\r\n", ErrBadContentLength)
	f(ok+"Content-Length: -1\r\n\r\n", ErrBadContentLength)
	f(ok+"Transfer-Encoding: identity\r\n\r\n", ErrUnsupportedTransferEncoding)
	f(ok+"Transfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n", ErrAmbiguousLength)
	f("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", ErrMalformed)

	head := ok + "X: " + strings.Repeat("a", 100) + "\r\n\r\n"
	r := Response{MaxHeadSize: len(head) - 10}
	if _, err := r.Parse([]byte(head)); err != ErrHeadTooLarge {
		t.Fatalf("unexpected error; got %v; want ErrHeadTooLarge", err)
	}
	if _, err := r.Parse([]byte(head[:len(head)-2])); err != ErrHeadTooLarge {
		t.Fatalf("unexpected error for incomplete head; got %v; want ErrHeadTooLarge", err)
	}
	r = Response{MaxHeaders: 1}
	if _, err := r.Parse([]byte(ok + "A: 1\r\nB: 2\r\n\r\n")); err != ErrTooManyHeaders {
		t.Fatalf("unexpected error; got %v; want ErrTooManyHeaders", err)
	}
}

func TestResponseHeader(t *testing.T) {
	var r Response
	if _, err := r.Parse([]byte(s3PutResponseHead)); err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	f := func(name, want string) {
		t.Helper()
		if got := r.Header(name); string(got) != want {
			t.Fatalf("unexpected value for %q; got %q; want %q", name, got, want)
		}
	}
	f("etag", `"2b5a8e0053660afa33e2c1b3c4d5e6f7"`)
	f("x-amz-request-id", "4B3C2A1D0E9F8A7B")
	f("content-length", "0")
	f("missing", "")
	r.Reset()
	if r.ContentLength != -1 || r.Status != 0 || len(r.Headers) != 0 {
		t.Fatalf("unexpected state after Reset: %+v", r)
	}
}
