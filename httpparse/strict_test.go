package httpparse

import (
	"errors"
	"testing"
)

// A syntax error after an unsupported Transfer-Encoding is still a syntax
// error (400): the 501 is only for a well-formed head.
func TestRequestParseTransferEncoding_Failure(t *testing.T) {
	f := func(head string, want error) {
		t.Helper()
		var r Request
		_, err := r.Parse([]byte(head))
		if !errors.Is(err, want) {
			t.Fatalf("unexpected error for %q; got %v; want %v", head, err, want)
		}
	}
	f("PUT /b/k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n chunked\r\n\r\n", ErrObsFold)
	f("PUT /b/k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\tchunked\r\n\r\n", ErrObsFold)
	f("PUT /b/k HTTP/1.1\r\nTransfer-Encoding: x\r\nHost: h\r\nBad Name: v\r\n\r\n", ErrMalformed)
	f("PUT /b/k HTTP/1.1\r\nTransfer-Encoding: x\r\nHost: h\r\nHost: h\r\n\r\n", ErrMalformed)
	f("PUT /b/k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: x\r\n", ErrNeedMore)
	// Well-formed heads keep their 501.
	f("PUT /b/k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", ErrUnsupportedTransferEncoding)
	f("PUT /b/k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n", ErrUnsupportedTransferEncoding)
	f("PUT /b/k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", ErrUnsupportedTransferEncoding)
	f("PUT /b/k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 5\r\n\r\n", ErrUnsupportedTransferEncoding)
}

func TestResponseParseTransferEncoding_Failure(t *testing.T) {
	f := func(head string, want error) {
		t.Helper()
		var r Response
		_, err := r.Parse([]byte(head))
		if !errors.Is(err, want) {
			t.Fatalf("unexpected error for %q; got %v; want %v", head, err, want)
		}
	}
	f("HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n chunked\r\n\r\n", ErrObsFold)
	f("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", ErrUnsupportedTransferEncoding)
}

func TestChunkedSizeLine_Success(t *testing.T) {
	f := func(sizeLine string, wantData string) {
		t.Helper()
		wire := sizeLine + "\r\n" + wantData + "\r\n0\r\n\r\n"
		var c Chunked
		out, n, err := c.Decode(nil, []byte(wire))
		if err != nil || !c.Done() || n != len(wire) || string(out) != wantData {
			t.Fatalf("%q: got %q n=%d done=%v err=%v; want %q", sizeLine, out, n, c.Done(), err, wantData)
		}
	}
	f("5", "hello")
	f("05", "hello")
	f("5;", "hello")
	f("5;a", "hello")
	f("5;a=b;c=\"d e\"", "hello")
	f("5 ;a=b", "hello")
	f("5\t;\ta = b", "hello")
	f("5 ", "hello") // trailing whitespace: trimmed by net/http too
	f("5;chunk-signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "hello")
	f("5;obs=\x80\xff", "hello")
}

func TestChunkedSizeLine_Failure(t *testing.T) {
	f := func(sizeLine string) {
		t.Helper()
		wire := sizeLine + "\r\nhello\r\n0\r\n\r\n"
		var c Chunked
		_, _, err := c.Decode(nil, []byte(wire))
		if !errors.Is(err, ErrBadChunk) {
			t.Fatalf("%q: unexpected error; got %v; want ErrBadChunk", sizeLine, err)
		}
	}
	f("5 junk")
	f("5x")
	f("5g")
	f("5,6")
	f("5 5")
	f("0x5")
	f("+5")
	f("-5")
	f(" 5")
	f("5\x00")
	f("5;a\rb")
	f("5;a\x00")
	f("5;a\x7f")
	f("5;a\x0b")
	f("")
	f(";a")
}
