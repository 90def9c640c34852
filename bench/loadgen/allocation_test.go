//go:build !race

package main

import (
	"fmt"
	"net"
	"testing"
	"time"
)

// TestBuildHeadNoAllocs: building and authenticating a request head must not
// allocate once the worker's buffers have grown, so that the generator is not
// the bottleneck.
func TestBuildHeadNoAllocs(t *testing.T) {
	f := func(a *authConfig) {
		t.Helper()
		w := authWorker(t, a)
		w.buildHead() // grow buffers, derive and cache the signing key
		n := testing.AllocsPerRun(200, func() {
			w.seq++
			w.buildHead()
		})
		if n != 0 {
			t.Fatalf("unexpected allocations per head with -auth %s; got %v; want 0", a.mode, n)
		}
	}
	f(&authConfig{mode: "none"})
	f(&authConfig{mode: "sigv4", region: "us-east-1", accessKey: "benchak", secretKey: "benchsk"})
	f(&authConfig{mode: "jwt", jwtSecret: "s3cret"})
}

// scriptConn is a net.Conn that drops what is written and answers with
// script, over and over.
type scriptConn struct {
	script []byte
	pos    int
}

func (c *scriptConn) Read(p []byte) (int, error) {
	n := copy(p, c.script[c.pos:])
	c.pos = (c.pos + n) % len(c.script)
	return n, nil
}

func (c *scriptConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *scriptConn) Close() error                     { return nil }
func (c *scriptConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *scriptConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }

// TestUploadNoAllocs: a whole multipart upload (heads, signing, parsing the
// upload id, keeping the ETags, the CompleteMultipartUpload body, reading a
// chunked reply) must not allocate once the worker's buffers have grown.
func TestUploadNoAllocs(t *testing.T) {
	const parts = 3
	var script []byte
	create := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>VXBs+b2Fk/ID&amp;x==</UploadId></InitiateMultipartUploadResult>`
	script = fmt.Appendf(script, "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n\r\n%s", len(create), create)
	for i := 1; i <= parts; i++ {
		script = fmt.Appendf(script, "HTTP/1.1 200 OK\r\nETag: \"%032x\"\r\nContent-Length: 0\r\n\r\n", i)
	}
	complete := `<CompleteMultipartUploadResult><ETag>"x-3"</ETag></CompleteMultipartUploadResult>`
	script = fmt.Appendf(script, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n     \r\n%x\r\n%s\r\n0\r\n\r\n", len(complete), complete)

	f := func(a *authConfig) {
		t.Helper()
		w := authWorker(t, a)
		w.cfg.parts = parts
		w.body = make([]byte, w.cfg.size)
		conn := &scriptConn{script: script}
		w.conn = conn
		w.br.Reset(conn)
		if kind := w.upload(); kind != "" { // grow buffers, derive and cache the signing key
			t.Fatalf("unexpected error %q: %v", kind, w.first)
		}
		n := testing.AllocsPerRun(100, func() {
			if kind := w.upload(); kind != "" {
				t.Fatalf("unexpected error %q: %v", kind, w.first)
			}
		})
		if n != 0 {
			t.Fatalf("unexpected allocations per upload with -auth %s; got %v; want 0", a.mode, n)
		}
		if want := int64(102 * (parts + 2)); w.ok != want || conn.pos != 0 {
			t.Fatalf("unexpected state: ok %d (want %d), script position %d (want 0)", w.ok, want, conn.pos)
		}
	}
	f(&authConfig{mode: "none"})
	f(&authConfig{mode: "sigv4", region: "us-east-1", accessKey: "benchak", secretKey: "benchsk"})
	f(&authConfig{mode: "jwt", jwtSecret: "s3cret"})
}

// TestRequestNoAllocs: a whole plain PUT exchange (head, writev, response)
// must not allocate either.
func TestRequestNoAllocs(t *testing.T) {
	w := authWorker(t, &authConfig{mode: "sigv4", region: "us-east-1", accessKey: "benchak", secretKey: "benchsk"})
	w.body = make([]byte, w.cfg.size)
	conn := &scriptConn{script: []byte("HTTP/1.1 200 OK\r\nETag: \"abc\"\r\nContent-Length: 0\r\n\r\n")}
	w.conn = conn
	w.br.Reset(conn)
	if kind := w.request(reqPut); kind != "" {
		t.Fatalf("unexpected error %q: %v", kind, w.first)
	}
	n := testing.AllocsPerRun(200, func() {
		w.seq++
		if kind := w.request(reqPut); kind != "" {
			t.Fatalf("unexpected error %q: %v", kind, w.first)
		}
	})
	if n != 0 {
		t.Fatalf("unexpected allocations per request; got %v; want 0", n)
	}
}
