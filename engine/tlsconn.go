package engine

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// A TLS client connection on an event loop (see tls.go for how it gets
// there). gnet polls the TCP socket and reads ciphertext; the loop feeds it
// to the connection's tls.Conn through a memory wire and decrypts in place
// (pull), so the engine parses plaintext exactly as it parses a TCP
// client's bytes, with no extra socket in between. tlsConn is the gnet.Conn
// the engine sees: its Reader methods serve the decrypted bytes and its
// Writer methods encrypt. A detached body (detached.go) switches the wire to
// the socket: the worker reads the body through the same tls.Conn
// (tlsClient) and writes it straight to the backend, then hands the socket
// back to its loop with the wire in memory again.
//
// Invariants:
//   - The wire is memory exactly while the socket is registered with gnet;
//     only the loop reads the tls.Conn then. Writes come from the loop or,
//     for a response relayed by a worker, from that worker (AsyncWrite), one
//     at a time: a connection has one request in flight, and the loop does
//     not write to a busy connection, so records reach the socket in the
//     order they were sealed.
//   - Every record crypto/tls seals in memory mode (responses, alerts, a
//     KeyUpdate reply) is sent by whoever caused it, under wmu.
//   - crypto/tls keeps a partial record (and records it read ahead) across
//     pulls and across the switch between memory and socket: the wire itself
//     holds no ciphertext once pull returns.

// errWireEmpty is what the memory wire returns when the loop has no more
// ciphertext. It is temporary, so crypto/tls keeps the connection usable
// and resumes the partial record at the next pull.
var errWireEmpty net.Error = wireEmpty{}

type wireEmpty struct{}

func (wireEmpty) Error() string   { return "engine: no ciphertext buffered" }
func (wireEmpty) Timeout() bool   { return true }
func (wireEmpty) Temporary() bool { return true }

// errTLSBuffered: a client sent more plaintext than a connection may
// buffer on the loop (Tunables.maxBuffered).
var errTLSBuffered = errors.New("engine: TLS client exceeded the loop's buffer")

// tlsWire is the net.Conn under a client's tls.Conn: the socket (sock set)
// during the handshake and while a body is detached, memory otherwise.
type tlsWire struct {
	sock  net.Conn // nil: memory
	in    []byte   // memory: ciphertext not yet read by crypto/tls
	out   []byte   // memory: ciphertext sealed by crypto/tls, not yet sent
	laddr net.Addr
	raddr net.Addr
}

func (w *tlsWire) Read(p []byte) (int, error) {
	if w.sock != nil {
		return w.sock.Read(p)
	}
	if len(w.in) == 0 {
		return 0, errWireEmpty
	}
	n := copy(p, w.in)
	w.in = w.in[n:]
	return n, nil
}

func (w *tlsWire) Write(p []byte) (int, error) {
	if w.sock != nil {
		return w.sock.Write(p)
	}
	w.out = append(w.out, p...)
	return len(p), nil
}

func (w *tlsWire) Close() error {
	if w.sock != nil {
		return w.sock.Close()
	}
	return nil
}

func (w *tlsWire) LocalAddr() net.Addr  { return w.laddr }
func (w *tlsWire) RemoteAddr() net.Addr { return w.raddr }

func (w *tlsWire) SetDeadline(t time.Time) error {
	if w.sock != nil {
		return w.sock.SetDeadline(t)
	}
	return nil
}

func (w *tlsWire) SetReadDeadline(t time.Time) error {
	if w.sock != nil {
		return w.sock.SetReadDeadline(t)
	}
	return nil
}

func (w *tlsWire) SetWriteDeadline(t time.Time) error {
	if w.sock != nil {
		return w.sock.SetWriteDeadline(t)
	}
	return nil
}

// tlsPlainMax is the capacity above which an emptied plaintext buffer is
// dropped rather than pooled.
const tlsPlainMax = 64 << 10

// tlsPlainPool holds emptied plaintext buffers (*[]byte, so Put does not
// allocate): a connection holds one only while it has plaintext, so an
// idle TLS connection costs no plaintext buffer.
var tlsPlainPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 2*tlsPlainRoom)
	return &b
}}

// tlsPlainRoom is the free space kept for one tls.Conn.Read: one record.
const tlsPlainRoom = 16 << 10

// tlsConn is the gnet.Conn the engine uses for a TLS client on a loop.
// The embedded Conn is the TCP connection gnet polls (replaced on
// re-enroll); the methods below override its Reader and Writer.
type tlsConn struct {
	gnet.Conn
	tc   *tls.Conn
	wire tlsWire

	plain  []byte  // decrypted, not yet consumed: plain[off:]
	off    int     // bytes of plain the engine consumed
	plainp *[]byte // plain's pooled buffer; nil: none held

	wmu       sync.Mutex // seals and sends (loop writes, worker AsyncWrite, pull)
	async     []byte     // the sealed response of a pending AsyncWrite
	asyncCb   gnet.AsyncCallback
	asyncDone gnet.AsyncCallback // t.onAsync, bound once
	// While an AsyncWrite is queued, records sealed on the loop wait in
	// later (sent by onAsync), so they follow the queued ones on the wire.
	asyncPending bool
	later        []byte

	client tlsClient // the detached form (detached.go)
}

// newTLSConn returns the connection of a client socket about to be
// handshaken: its tls.Conn runs over the wire, on sock (raw, or raw behind
// a PROXY header's leftover bytes) until the handshake is done.
func newTLSConn(raw *net.TCPConn, sock net.Conn, cfg *tls.Config) *tlsConn {
	t := &tlsConn{wire: tlsWire{sock: sock, laddr: raw.LocalAddr(), raddr: raw.RemoteAddr()}}
	t.tc = tls.Server(&t.wire, cfg)
	t.asyncDone = t.onAsync
	return t
}

// pull moves the ciphertext gnet read (c's inbound buffer) through
// crypto/tls into t.plain. It runs on the loop. An error means the
// connection must close: the client sent close_notify (io.EOF; a bare FIN
// is gnet's to see), a bad record, or more than limit plaintext bytes.
func (t *tlsConn) pull(c gnet.Conn, limit int) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	ct, _ := c.Next(-1) // valid until gnet reads again; consumed below
	t.wire.in = ct
	if t.plainp == nil {
		t.plainp = tlsPlainPool.Get().(*[]byte)
		t.plain, t.off = (*t.plainp)[:0], 0
	}
	var err error
	for {
		if t.off == len(t.plain) {
			t.plain, t.off = t.plain[:0], 0
		}
		if cap(t.plain)-len(t.plain) < tlsPlainRoom {
			if t.off > 0 {
				t.plain = append(t.plain[:0], t.plain[t.off:]...)
				t.off = 0
			}
			if cap(t.plain)-len(t.plain) < tlsPlainRoom {
				t.plain = append(make([]byte, 0, max(2*cap(t.plain), len(t.plain)+2*tlsPlainRoom)), t.plain...)
			}
		}
		var n int
		n, err = t.tc.Read(t.plain[len(t.plain):cap(t.plain)])
		t.plain = t.plain[:len(t.plain)+n]
		tlsBytesIn.Add(n)
		if err != nil {
			break
		}
		if len(t.plain)-t.off > limit {
			err = errTLSBuffered
			break
		}
	}
	t.wire.in = nil // not gnet's any more; only an error leaves bytes (the connection closes)
	t.flushLocked(c)
	t.released()
	if err == errWireEmpty {
		return nil
	}
	return err
}

// flushLocked sends what crypto/tls sealed outside a Write (an alert, a
// KeyUpdate reply). It runs on the loop with wmu held.
func (t *tlsConn) flushLocked(c gnet.Conn) {
	if len(t.wire.out) > 0 {
		_ = t.sendLocked(c)
	}
}

// sendLocked writes the sealed records in t.wire.out on the loop, or keeps
// them for onAsync while an AsyncWrite is queued. wmu is held.
func (t *tlsConn) sendLocked(c gnet.Conn) error {
	var err error
	if t.asyncPending {
		t.later = append(t.later, t.wire.out...)
	} else {
		_, err = c.Write(t.wire.out)
	}
	t.wire.out = t.wire.out[:0]
	return err
}

// released gives the plaintext buffer back once it is empty (to the pool,
// or to the collector when it grew large). Views into it that the engine
// took with Peek are dead by then: the engine copies what it keeps before
// it consumes.
func (t *tlsConn) released() {
	if t.off != len(t.plain) || t.plainp == nil {
		return
	}
	if cap(t.plain) <= tlsPlainMax {
		*t.plainp = t.plain[:0]
		tlsPlainPool.Put(t.plainp)
	}
	t.plain, t.off, t.plainp = nil, 0, nil
}

// Reader: the decrypted bytes.

func (t *tlsConn) InboundBuffered() int { return len(t.plain) - t.off }

func (t *tlsConn) Peek(n int) ([]byte, error) {
	b := t.plain[t.off:]
	if n > len(b) {
		return nil, io.ErrShortBuffer
	}
	if n <= 0 {
		return b, nil
	}
	return b[:n], nil
}

func (t *tlsConn) Next(n int) ([]byte, error) {
	b, err := t.Peek(n)
	if err == nil {
		t.off += len(b)
		t.released()
	}
	return b, err
}

func (t *tlsConn) Discard(n int) (int, error) {
	b := t.plain[t.off:]
	if n <= 0 || n > len(b) {
		n = len(b)
	}
	t.off += n
	t.released()
	return n, nil
}

func (t *tlsConn) Read(p []byte) (int, error) {
	if t.off == len(t.plain) {
		return 0, io.ErrShortBuffer
	}
	n := copy(p, t.plain[t.off:])
	t.off += n
	t.released()
	return n, nil
}

func (t *tlsConn) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(t.plain[t.off:])
	t.off += n
	t.released()
	return int64(n), err
}

// Writer: sealed on the way out.

// Write seals b and writes it on the loop.
func (t *tlsConn) Write(b []byte) (int, error) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	return t.sealLocked(b)
}

func (t *tlsConn) sealLocked(b []byte) (int, error) {
	t.wire.out = t.wire.out[:0]
	if _, err := t.tc.Write(b); err != nil {
		return 0, err
	}
	tlsBytesOut.Add(len(b))
	if err := t.sendLocked(t.Conn); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Writev seals bs as one write on the loop.
func (t *tlsConn) Writev(bs [][]byte) (int, error) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	t.wire.out = t.wire.out[:0]
	n := 0
	for _, b := range bs {
		if _, err := t.tc.Write(b); err != nil {
			return 0, err
		}
		n += len(b)
	}
	tlsBytesOut.Add(n)
	if err := t.sendLocked(t.Conn); err != nil {
		return 0, err
	}
	return n, nil
}

// AsyncWrite seals buf now (any goroutine) and queues the records on the
// loop; callback runs there with t as its connection.
func (t *tlsConn) AsyncWrite(buf []byte, callback gnet.AsyncCallback) error {
	t.wmu.Lock()
	t.wire.out = t.wire.out[:0]
	_, err := t.tc.Write(buf)
	t.async = append(t.async[:0], t.wire.out...)
	t.wire.out = t.wire.out[:0]
	t.asyncCb = callback
	t.asyncPending = err == nil
	raw := t.Conn
	t.wmu.Unlock()
	if err != nil {
		if callback != nil {
			return raw.Wake(func(gnet.Conn, error) error { return callback(t, err) })
		}
		return err
	}
	tlsBytesOut.Add(len(buf))
	return raw.AsyncWrite(t.async, t.asyncDone)
}

func (t *tlsConn) onAsync(c gnet.Conn, err error) error {
	t.wmu.Lock()
	t.asyncPending = false
	if len(t.later) > 0 && err == nil {
		_, _ = c.Write(t.later)
	}
	t.later = t.later[:0]
	cb := t.asyncCb
	t.asyncCb = nil
	t.wmu.Unlock()
	if cb == nil {
		return nil
	}
	return cb(t, err)
}

func (t *tlsConn) AsyncWritev(bs [][]byte, callback gnet.AsyncCallback) error {
	var n int
	for _, b := range bs {
		n += len(b)
	}
	joined := make([]byte, 0, n)
	for _, b := range bs {
		joined = append(joined, b...)
	}
	return t.AsyncWrite(joined, callback)
}

// ReadFrom and SendTo are not used by the engine on client connections.
func (t *tlsConn) ReadFrom(io.Reader) (int64, error)    { return 0, errors.ErrUnsupported }
func (t *tlsConn) SendTo([]byte, net.Addr) (int, error) { return 0, errors.ErrUnsupported }
func (t *tlsConn) CloseWithCallback(cb gnet.AsyncCallback) error {
	return t.Conn.CloseWithCallback(func(_ gnet.Conn, err error) error {
		if cb == nil {
			return nil
		}
		return cb(t, err)
	})
}

// detach switches the wire to the socket a worker adopted (relayDetached)
// and returns the connection as a clientConn. gnet has closed its copy of
// the socket, so nothing else touches t until attach.
func (t *tlsConn) detach(tcp *net.TCPConn) clientConn {
	t.plain, t.off = t.plain[:0], 0 // the exchange copied them
	t.released()
	t.wire.sock = tcp
	t.client = tlsClient{t: t, tcp: tcp}
	return &t.client
}

// attach switches the wire back to memory before the socket is enrolled
// again; crypto/tls keeps whatever it read ahead.
func (t *tlsConn) attach() {
	t.wire.sock = nil
	t.client.tcp = nil
}

// tlsClient is a detached TLS client: reads are decrypted and writes
// sealed by the connection's tls.Conn over the socket. It has no
// SyscallConn, so its body is copied, never spliced (what it reads is
// plaintext crypto/tls produced, not the socket's bytes).
type tlsClient struct {
	t   *tlsConn
	tcp *net.TCPConn
}

var errTLSNoSplice = errors.New("engine: a TLS client's socket carries ciphertext")

func (c *tlsClient) Read(p []byte) (int, error) {
	n, err := c.t.tc.Read(p)
	tlsBytesIn.Add(n)
	return n, err
}

func (c *tlsClient) Write(p []byte) (int, error) {
	n, err := c.t.tc.Write(p)
	tlsBytesOut.Add(n)
	return n, err
}

// CloseWrite sends close_notify, then FIN.
func (c *tlsClient) CloseWrite() error {
	_ = c.t.tc.CloseWrite()
	return c.tcp.CloseWrite()
}

func (c *tlsClient) Close() error                       { return c.tcp.Close() }
func (c *tlsClient) LocalAddr() net.Addr                { return c.tcp.LocalAddr() }
func (c *tlsClient) RemoteAddr() net.Addr               { return c.tcp.RemoteAddr() }
func (c *tlsClient) SetDeadline(d time.Time) error      { return c.tcp.SetDeadline(d) }
func (c *tlsClient) SetReadDeadline(d time.Time) error  { return c.tcp.SetReadDeadline(d) }
func (c *tlsClient) SetWriteDeadline(d time.Time) error { return c.tcp.SetWriteDeadline(d) }
func (c *tlsClient) SyscallConn() (syscall.RawConn, error) {
	return nil, errTLSNoSplice
}

// socket is the TCP connection under a clientConn, for Enroll.
func socketOf(c clientConn) net.Conn {
	if tc, ok := c.(*tlsClient); ok {
		return tc.tcp
	}
	return c
}

// setConn makes c, gnet's connection for st's socket (new or re-enrolled),
// the one the engine uses: c itself, or the TLS client wrapping it.
func (st *connState) setConn(c gnet.Conn) {
	st.gc = c
	if st.tls != nil {
		st.tls.Conn = c
		st.gc = st.tls
	}
}

// tlsOpened runs in OnOpen for a TLS client (new or re-enrolled): records
// crypto/tls already holds (read ahead with the handshake or a detached
// body) are decrypted now, and the loop is woken if a request waits.
func (s *Server) tlsOpened(c gnet.Conn, st *connState) {
	if st.tls == nil {
		return
	}
	if err := st.tls.pull(c, s.tun().maxBuffered); err != nil {
		_ = c.Close()
		return
	}
	if st.tls.InboundBuffered() > 0 {
		_ = c.Wake(nil)
	}
}
