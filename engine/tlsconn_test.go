package engine

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// loopFake is the part of a gnet.Conn a tlsConn uses: gnet's inbound
// buffer (in) and what the loop wrote (out). Other methods panic (the
// embedded interface is nil).
type loopFake struct {
	gnet.Conn
	in  []byte
	out []byte
}

func (c *loopFake) Next(int) ([]byte, error) {
	b := c.in
	c.in = c.in[len(c.in):]
	return b, nil
}

func (c *loopFake) Write(b []byte) (int, error) {
	c.out = append(c.out, b...)
	return len(b), nil
}

// asyncFake adds AsyncWrite to loopFake: the bytes are "written" and the
// callback runs at once, as the loop would run it later.
type asyncFake struct{ *loopFake }

func (c asyncFake) AsyncWrite(b []byte, cb gnet.AsyncCallback) error {
	c.out = append(c.out, b...)
	if cb != nil {
		return cb(c, nil)
	}
	return nil
}

// tlsRig is a handshaken TLS connection: the client's tls.Conn over a real
// socket, and the server's tlsConn with its wire in memory, as on a loop.
// raw is the server's socket: what the client sends is read from it and
// handed to pull through loop (a fake gnet.Conn); what the loop writes is
// written back to it.
type tlsRig struct {
	client *tls.Conn
	raw    *net.TCPConn
	t      *tlsConn
	loop   *loopFake
}

func newTLSRig(tb testing.TB, cfg *tls.Config) *tlsRig {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	if cfg == nil {
		cfg = &tls.Config{InsecureSkipVerify: true}
	}
	cch := make(chan *tls.Conn, 1)
	go func() {
		c, err := tls.Dial("tcp", ln.Addr().String(), cfg)
		if err != nil {
			cch <- nil
			return
		}
		cch <- c
	}()
	c, err := ln.Accept()
	if err != nil {
		tb.Fatal(err)
	}
	raw := c.(*net.TCPConn)
	t := newTLSConn(raw, raw, tlsConfig(&tls.Config{Certificates: []tls.Certificate{selfSigned(tb)}}))
	if err := t.tc.Handshake(); err != nil {
		tb.Fatal(err)
	}
	client := <-cch
	if client == nil {
		tb.Fatal("client handshake failed")
	}
	t.attach()
	r := &tlsRig{client: client, raw: raw, t: t, loop: &loopFake{}}
	t.Conn = asyncFake{r.loop}
	tb.Cleanup(func() { client.Close(); raw.Close() })
	return r
}

// feed reads what the client sent from the socket, in pieces of at most
// step bytes (0: whatever one read returns), pulling after each, until the
// server holds want plaintext bytes.
func (r *tlsRig) feed(tb testing.TB, want, step int) {
	tb.Helper()
	buf := make([]byte, 64<<10)
	deadline := time.Now().Add(10 * time.Second)
	for r.t.InboundBuffered() < want {
		if time.Now().After(deadline) {
			tb.Fatalf("plaintext stuck at %d of %d bytes", r.t.InboundBuffered(), want)
		}
		b := buf
		if step > 0 {
			b = buf[:step]
		}
		_ = r.raw.SetReadDeadline(deadline)
		n, err := r.raw.Read(b)
		if err != nil {
			tb.Fatalf("reading the client's records: %v", err)
		}
		r.loop.in = append(r.loop.in, b[:n]...)
		if err := r.t.pull(r.loop, 1<<30); err != nil {
			tb.Fatalf("pull: %v", err)
		}
		if len(r.loop.in) != 0 {
			tb.Fatalf("pull left %d ciphertext bytes in gnet's buffer", len(r.loop.in))
		}
	}
}

// flush sends what the loop wrote to the client.
func (r *tlsRig) flush(tb testing.TB) {
	tb.Helper()
	if _, err := r.raw.Write(r.loop.out); err != nil {
		tb.Fatal(err)
	}
	r.loop.out = r.loop.out[:0]
}

func TestTLSConnPull(t *testing.T) {
	tls12 := &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12}
	for _, tc := range []struct {
		name        string
		size, step  int
		peek, taken int
		client      *tls.Config
	}{
		{"OneByteFeeds", 3000, 1, 10, 10, nil},
		{"OddFeeds", 40 << 10, 7, 0, 0, nil},
		{"WholeRecords", 100 << 10, 0, 1000, 100 << 10, nil},
		{"Small", 1, 0, 1, 1, nil},
		{"TLS12OddFeeds", 40 << 10, 7, 5, 5, tls12},
		{"TLS12WholeRecords", 100 << 10, 0, 1000, 100 << 10, tls12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newTLSRig(t, tc.client)
			if tc.client != nil && r.t.tc.ConnectionState().Version != tls.VersionTLS12 {
				t.Fatalf("negotiated %x; want TLS 1.2", r.t.tc.ConnectionState().Version)
			}
			msg := bytes.Repeat([]byte("0123456789abcdef"), tc.size/16+1)[:tc.size]
			errc := make(chan error, 1)
			go func() { _, err := r.client.Write(msg); errc <- err }()
			r.feed(t, len(msg), tc.step)
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if got := r.t.InboundBuffered(); got != len(msg) {
				t.Fatalf("InboundBuffered() = %d; want %d", got, len(msg))
			}
			all, _ := r.t.Peek(-1)
			if !bytes.Equal(all, msg) {
				t.Fatalf("plaintext differs from what the client sent (%d bytes)", len(all))
			}
			if _, err := r.t.Peek(len(msg) + 1); err != io.ErrShortBuffer {
				t.Fatalf("Peek past the end: err %v; want io.ErrShortBuffer", err)
			}
			if tc.peek > 0 {
				b, err := r.t.Next(tc.peek)
				if err != nil || !bytes.Equal(b, msg[:tc.peek]) {
					t.Fatalf("Next(%d) = %q, %v", tc.peek, b, err)
				}
				if tc.taken > tc.peek {
					if n, _ := r.t.Discard(tc.taken - tc.peek); n != tc.taken-tc.peek {
						t.Fatalf("Discard returned %d", n)
					}
				}
			}
			rest, _ := r.t.Peek(-1)
			if want := msg[max(tc.peek, tc.taken):]; !bytes.Equal(rest, want) {
				t.Fatalf("after consuming %d bytes: %d left; want %d", max(tc.peek, tc.taken), len(rest), len(want))
			}
		})
	}
}

// TestTLSConnWrite: responses sealed on the loop (Write, Writev) and by a
// worker (AsyncWrite, whose callback sees the tlsConn) reach the client in
// order.
func TestTLSConnWrite(t *testing.T) {
	r := newTLSRig(t, nil)
	if _, err := r.t.Write([]byte("HTTP/1.1 100 Continue\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.t.Writev([][]byte{[]byte("one,"), []byte("two,")}); err != nil {
		t.Fatal(err)
	}
	var cbConn gnet.Conn
	if err := r.t.AsyncWrite([]byte("three"), func(c gnet.Conn, err error) error {
		cbConn = c
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if cbConn != gnet.Conn(r.t) {
		t.Fatalf("AsyncWrite's callback got %T; want the tlsConn", cbConn)
	}
	if bytes.Contains(r.loop.out, []byte("three")) {
		t.Fatal("plaintext reached the socket")
	}
	r.flush(t)
	want := "HTTP/1.1 100 Continue\r\n\r\none,two,three"
	got := make([]byte, len(want))
	_ = r.client.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(r.client, got); err != nil || string(got) != want {
		t.Fatalf("client read %q, %v; want %q", got, err, want)
	}
}

// queuedFake holds an AsyncWrite until run is called, as the loop does
// until it gets to the task.
type queuedFake struct {
	*loopFake
	buf []byte
	cb  gnet.AsyncCallback
}

func (c *queuedFake) AsyncWrite(b []byte, cb gnet.AsyncCallback) error {
	c.buf, c.cb = b, cb
	return nil
}

func (c *queuedFake) run() error {
	c.out = append(c.out, c.buf...)
	return c.cb(c, nil)
}

// TestTLSConnWriteOrder: records sealed on the loop while a worker's
// response is queued go out after it, so the client can open them all.
func TestTLSConnWriteOrder(t *testing.T) {
	r := newTLSRig(t, nil)
	q := &queuedFake{loopFake: r.loop}
	r.t.Conn = q
	if err := r.t.AsyncWrite([]byte("first,"), func(gnet.Conn, error) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := r.t.Write([]byte("second")); err != nil {
		t.Fatal(err)
	}
	if len(r.loop.out) != 0 {
		t.Fatal("a record sealed after a queued one was written before it")
	}
	if err := q.run(); err != nil {
		t.Fatal(err)
	}
	r.flush(t)
	want := "first,second"
	got := make([]byte, len(want))
	_ = r.client.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(r.client, got); err != nil || string(got) != want {
		t.Fatalf("client read %q, %v; want %q", got, err, want)
	}
}

// TestTLSConnCloseNotify: the client's close_notify ends the connection
// (pull reports EOF), after the plaintext before it was delivered.
func TestTLSConnCloseNotify(t *testing.T) {
	r := newTLSRig(t, nil)
	if _, err := r.client.Write([]byte("last")); err != nil {
		t.Fatal(err)
	}
	r.feed(t, 4, 0)
	if err := r.client.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1024)
	_ = r.raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := r.raw.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	r.loop.in = append(r.loop.in, buf[:n]...)
	if err := r.t.pull(r.loop, 1<<30); err != io.EOF {
		t.Fatalf("pull after close_notify: %v; want io.EOF", err)
	}
	if b, _ := r.t.Peek(-1); string(b) != "last" {
		t.Fatalf("plaintext %q; want \"last\"", b)
	}
}

// TestTLSConnTampered: a record that fails authentication closes the
// connection and sends the client an alert.
func TestTLSConnTampered(t *testing.T) {
	r := newTLSRig(t, nil)
	errc := make(chan error, 1)
	go func() { _, err := r.client.Write([]byte("payload")); errc <- err }()
	buf := make([]byte, 1024)
	_ = r.raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := r.raw.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	<-errc
	buf[n-1] ^= 1 // the AEAD tag
	r.loop.in = append(r.loop.in, buf[:n]...)
	if err := r.t.pull(r.loop, 1<<30); err == nil || err == errWireEmpty {
		t.Fatalf("pull of a tampered record: %v; want an error", err)
	}
	if r.t.InboundBuffered() != 0 {
		t.Fatal("a tampered record was delivered")
	}
	if len(r.loop.out) == 0 {
		t.Fatal("no alert was sent to the client")
	}
}

// TestTLSConnLimit: more plaintext than the loop may buffer is an error.
func TestTLSConnLimit(t *testing.T) {
	r := newTLSRig(t, nil)
	go func() { _, _ = r.client.Write(make([]byte, 64<<10)) }()
	buf := make([]byte, 128<<10)
	_ = r.raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := 0
	for got < 40<<10 {
		n, err := r.raw.Read(buf[got:])
		if err != nil {
			t.Fatal(err)
		}
		got += n
	}
	r.loop.in = append(r.loop.in, buf[:got]...)
	if err := r.t.pull(r.loop, 16<<10); err != errTLSBuffered {
		t.Fatalf("pull over the limit: %v; want errTLSBuffered", err)
	}
}

// TestTLSConnDetach: records crypto/tls read ahead on the socket while
// detached are delivered once the wire is memory again, with nothing new
// from gnet (what OnOpen's tlsOpened relies on).
func TestTLSConnDetach(t *testing.T) {
	r := newTLSRig(t, nil)
	msg := bytes.Repeat([]byte("x"), 40<<10) // three records
	if _, err := r.client.Write(msg); err != nil {
		t.Fatal(err)
	}
	cc := r.t.detach(r.raw)
	if _, err := cc.SyscallConn(); err == nil {
		t.Fatal("a detached TLS client offers its socket for splicing")
	}
	head := make([]byte, 100)
	_ = r.raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(cc, head); err != nil {
		t.Fatal(err)
	}
	r.t.attach()
	_ = r.raw.SetReadDeadline(time.Time{})
	if err := r.t.pull(r.loop, 1<<30); err != nil {
		t.Fatal(err)
	}
	r.feed(t, len(msg)-len(head), 0)
	b, _ := r.t.Peek(-1)
	if !bytes.Equal(append(head, b...), msg) {
		t.Fatalf("the body differs after detach and attach (%d+%d bytes)", len(head), len(b))
	}
}

// BenchmarkTLSConn: one 1 KiB request in, one small response out, through
// pull and Write on the loop (decrypt and seal, no socket).
func BenchmarkTLSConn(b *testing.B) {
	for _, size := range []int{1 << 10, 16 << 10} {
		b.Run("req="+strconv.Itoa(size), func(b *testing.B) {
			r := newTLSRig(b, nil)
			msg := make([]byte, size)
			go func() {
				for {
					if _, err := r.client.Write(msg); err != nil {
						return
					}
				}
			}()
			resp := []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
			buf := make([]byte, 64<<10)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for r.t.InboundBuffered() < size {
					n, err := r.raw.Read(buf)
					if err != nil {
						b.Fatal(err)
					}
					r.loop.in = append(r.loop.in[:0], buf[:n]...)
					if err := r.t.pull(r.loop, 1<<30); err != nil {
						b.Fatal(err)
					}
				}
				_, _ = r.t.Discard(size)
				_, _ = r.t.Write(resp)
				r.loop.out = r.loop.out[:0]
			}
		})
	}
}

// TestTLSConnIdleHoldsNoBuffer: once a request's plaintext is consumed the
// connection gives its plaintext buffer back, and a pull that yields only
// part of a record does not keep one.
func TestTLSConnIdleHoldsNoBuffer(t *testing.T) {
	r := newTLSRig(t, nil)
	go func() { _, _ = r.client.Write([]byte("request")) }()
	r.feed(t, 7, 0)
	if r.t.plainp == nil {
		t.Fatal("no buffer while plaintext is pending")
	}
	if _, err := r.t.Discard(7); err != nil {
		t.Fatal(err)
	}
	if r.t.plainp != nil || r.t.plain != nil {
		t.Fatal("an idle connection still holds its plaintext buffer")
	}
	go func() { _, _ = r.client.Write([]byte("next")) }()
	buf := make([]byte, 64)
	_ = r.raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := r.raw.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	r.loop.in = append(r.loop.in, buf[:n-1]...) // all but the record's last byte
	if err := r.t.pull(r.loop, 1<<20); err != nil {
		t.Fatal(err)
	}
	if r.t.plainp != nil {
		t.Fatal("a pull with a partial record kept a plaintext buffer")
	}
	r.loop.in = append(r.loop.in, buf[n-1])
	if err := r.t.pull(r.loop, 1<<20); err != nil {
		t.Fatal(err)
	}
	if b, _ := r.t.Peek(-1); string(b) != "next" {
		t.Fatalf("plaintext %q; want \"next\"", b)
	}
}
