//go:build !race

package main

import (
	"crypto/tls"
	"testing"
)

// writeCounter is a scriptConn that counts its writes.
type writeCounter struct {
	scriptConn
	writes int
}

func (c *writeCounter) Write(p []byte) (int, error) {
	c.writes++
	return len(p), nil
}

// TestTLSRequestOneWriteNoAllocs: on the TLS path a small request (head and
// 1 KiB body) is one write, so one TLS record, and neither it nor the
// response allocates once the worker's buffers have grown.
func TestTLSRequestOneWriteNoAllocs(t *testing.T) {
	w := authWorker(t, &authConfig{mode: "none"})
	w.cfg.tls = &tls.Config{} // the path is chosen by the config, the conn is scripted
	w.body = make([]byte, w.cfg.size)
	conn := &writeCounter{scriptConn: scriptConn{script: []byte("HTTP/1.1 200 OK\r\nETag: \"abc\"\r\nContent-Length: 0\r\n\r\n")}}
	w.conn = conn
	w.br.Reset(conn)
	if kind := w.request(reqPut); kind != "" {
		t.Fatalf("unexpected error %q: %v", kind, w.first)
	}
	if conn.writes != 1 {
		t.Fatalf("unexpected writes per request; got %d; want 1", conn.writes)
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
	if conn.writes != 202 {
		t.Fatalf("unexpected writes; got %d; want 202 (one per request)", conn.writes)
	}
}
