//go:build !race

package engine

import (
	"testing"
	"time"
)

// TestTLSConnAllocs: decrypting a 1 KiB request and sealing its response
// on the loop allocate nothing of the engine's once the connection's
// buffers exist. crypto/tls itself allocates one 16-byte reader per read
// of its wire (tls.Conn.readFromUntil): one for the request's record and
// one for the pull that finds the wire empty. Those two are the bound.
func TestTLSConnAllocs(t *testing.T) {
	r := newTLSRig(t, nil)
	const runs, size = 50, 1 << 10
	// The client's records for runs+2 requests, captured from the socket.
	req := make([]byte, size)
	go func() {
		for i := 0; i < runs+2; i++ {
			if _, err := r.client.Write(req); err != nil {
				return
			}
		}
	}()
	var wire []byte
	buf := make([]byte, 64<<10)
	_ = r.raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	for len(wire) < (runs+2)*(size+22) { // 5-byte header, 1 type byte, 16-byte tag
		n, err := r.raw.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		wire = append(wire, buf[:n]...)
	}
	rec := size + 22
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	i := 0
	in := make([]byte, 0, rec)
	step := func() {
		r.loop.in = append(in[:0], wire[i*rec:(i+1)*rec]...)
		i++
		if err := r.t.pull(r.loop, 1<<20); err != nil {
			t.Fatal(err)
		}
		if r.t.InboundBuffered() != size {
			t.Fatalf("plaintext %d bytes; want %d", r.t.InboundBuffered(), size)
		}
		_, _ = r.t.Discard(size)
		_, _ = r.t.Write(resp)
		r.loop.out = r.loop.out[:0]
	}
	step() // the buffers grow once
	if a := testing.AllocsPerRun(runs, step); a > 2 {
		t.Fatalf("%.1f allocations per 1 KiB request over TLS; want at most crypto/tls's 2", a)
	}
}
