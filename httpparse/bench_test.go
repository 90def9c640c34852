package httpparse

import (
	"bufio"
	"bytes"
	"net/http"
	"testing"
)

func BenchmarkRequestParse(b *testing.B) {
	buf := []byte(s3PutHead)
	var r Request
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if _, err := r.Parse(buf); err != nil {
			b.Fatalf("unexpected error: %s", err)
		}
	}
}

// BenchmarkRequestParseNetHTTP is the net/http baseline on the same head.
func BenchmarkRequestParseNetHTTP(b *testing.B) {
	buf := []byte(s3PutHead)
	br := bytes.NewReader(buf)
	bufr := bufio.NewReader(br)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		br.Reset(buf)
		bufr.Reset(br)
		if _, err := http.ReadRequest(bufr); err != nil {
			b.Fatalf("unexpected error: %s", err)
		}
	}
}

func BenchmarkResponseParse(b *testing.B) {
	buf := []byte(s3PutResponseHead)
	var r Response
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if _, err := r.Parse(buf); err != nil {
			b.Fatalf("unexpected error: %s", err)
		}
	}
}

func BenchmarkResponseParseNetHTTP(b *testing.B) {
	buf := []byte(s3PutResponseHead)
	br := bytes.NewReader(buf)
	bufr := bufio.NewReader(br)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		br.Reset(buf)
		bufr.Reset(br)
		if _, err := http.ReadResponse(bufr, nil); err != nil {
			b.Fatalf("unexpected error: %s", err)
		}
	}
}

func BenchmarkAppendUnescape(b *testing.B) {
	src := []byte("/bucket/a%20b%2Bc/%E6%97%A5%E6%9C%AC.bin")
	dst := make([]byte, 0, len(src))
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		dst, _ = AppendUnescape(dst[:0], src)
	}
}
