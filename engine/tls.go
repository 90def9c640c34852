package engine

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/panjf2000/gnet/v2"
)

// The TLS front (Config.TLS set). crypto/tls owns the public listener; every
// connection is handshaken off the event loops by its own goroutine, then
// joined to the engine through a unix socketpair: one end is registered with
// gnet (Engine.Register) and served exactly like a TCP client, the other is
// pumped to and from the tls.Conn by two goroutines. Parsing, auth,
// 100 Continue, detaching, splicing and re-enrolling then work unchanged on
// the unix socket, so on a TLS listener every body byte is decrypted in user
// space and then spliced (or copied) from the socketpair to the backend.
//
// gnet only accepts Register calls on an engine with a listener, so gnet
// listens on a unix socket in a private directory whose path is unlinked as
// soon as gnet has bound it: the listener exists but nothing can connect.
//
// Invariants of one connection:
//   - the handshake finishes within HeaderTimeout or the socket is closed;
//   - the inbound pump (client → gnet) half-closes the socketpair when the
//     client stops sending, so gnet sees EOF exactly as on TCP;
//   - the outbound pump (gnet → client) ends when the engine closes or
//     half-closes its end; it then sends close_notify and FIN, and gives
//     the client lingerTime (the engine's own lingering close) before the
//     inbound pump is cut off by a read deadline;
//   - both pumps hold one fixed buffer each; back-pressure toward the client
//     comes from the socketpair's buffers (the engine reads a detached
//     socket only as fast as the backend takes the body).

var (
	tlsBytesIn        = metrics.NewCounter(`mizuchi_tls_bytes_total{dir="in"}`)
	tlsBytesOut       = metrics.NewCounter(`mizuchi_tls_bytes_total{dir="out"}`)
	tlsHandshakes     = metrics.NewCounter(`mizuchi_tls_handshakes_total`)
	tlsHandshakeFails = metrics.NewCounter(`mizuchi_tls_handshake_failures_total`)
	tlsConns          atomic.Int64 // TLS connections, handshaking or pumping
)

func init() {
	metrics.NewGauge(`mizuchi_tls_connections`, func() float64 { return float64(tlsConns.Load()) })
}

// clientConn is a client socket taken out of gnet: a *net.TCPConn, or a
// *net.UnixConn (the engine's end of a TLS connection's socketpair).
type clientConn interface {
	net.Conn
	CloseWrite() error
	SyscallConn() (syscall.RawConn, error)
}

// Pump buffers, one each per connection. A read-ahead buffer under
// crypto/tls (fewer read syscalls for clients writing 4 KiB records) was
// tried and made no measurable difference in BenchmarkTLSPump: each read
// returned about one record anyway, so it is not used.
const (
	tlsInBuf  = 16 << 10 // one TLS record of plaintext: tls.Conn.Read returns at most one
	tlsOutBuf = 4 << 10  // responses are heads and small XML bodies
)

// tlsFront is the public TLS listener and its per-connection pumps.
type tlsFront struct {
	s    *Server
	cfg  *tls.Config
	ln   net.Listener
	dir  string // private directory of gnet's unreachable unix listener
	sock string
}

// newTLSFront listens on s.cfg.Addr and prepares gnet's private socket path.
func newTLSFront(s *Server) (*tlsFront, error) {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "mizuchi-gnet-")
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("cannot create a private socket directory: %w", err)
	}
	return &tlsFront{s: s, cfg: s.cfg.TLS, ln: ln, dir: dir, sock: filepath.Join(dir, "s")}, nil
}

// gnetAddr is the protocol address gnet listens on.
func (f *tlsFront) gnetAddr() string { return "unix://" + f.sock }

// unlink removes gnet's socket path once gnet has bound it (OnBoot).
func (f *tlsFront) unlink() { _ = os.RemoveAll(f.dir) }

// close stops accepting; connections already pumping end as gnet closes
// its ends.
func (f *tlsFront) close() {
	_ = f.ln.Close()
	f.unlink()
}

// serve accepts TLS connections until the listener is closed. It starts
// once gnet's loops run (OnTick), since Register needs them.
func (f *tlsFront) serve() {
	var backoff time.Duration
	for {
		c, err := f.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// EMFILE and friends: back off as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			f.s.log.Warn("tls accept failed", "err", err, "retry_in", backoff.String())
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if tlsConns.Load() >= f.s.maxConns() {
			connsRejected.Inc()
			c.Close()
			continue
		}
		tlsConns.Add(1)
		go f.serveConn(c.(*net.TCPConn))
	}
}

// serveConn handshakes one connection, joins it to gnet and pumps it.
func (f *tlsFront) serveConn(raw *net.TCPConn) {
	defer tlsConns.Add(-1)
	s := f.s
	var conn net.Conn = raw
	var proxied netip.Addr // the PROXY header's client (proxyproto.go)
	if len(s.cfg.ProxyProtocol) > 0 {
		var ok bool
		if conn, proxied, ok = f.readProxy(raw); !ok {
			raw.Close()
			return
		}
	}
	tc := tls.Server(conn, f.cfg)
	ctx, cancel := context.WithTimeout(context.Background(), s.tun().HeaderTimeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		tlsHandshakeFails.Inc()
		var re tls.RecordHeaderError
		if errors.As(err, &re) && re.Conn != nil && looksLikeHTTP(re.RecordHeader[:]) {
			// Plain HTTP on the TLS port: answer in plain text, as net/http does.
			var id [16]byte
			msg := appendErrorResponse(nil, errBadRequest.Code, errBadRequest.Status,
				"The client sent a plain HTTP request to the HTTPS port.", appendRequestID(id[:0]), nil, true)
			_ = re.Conn.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = re.Conn.Write(msg)
			lingerClose(raw)
			return
		}
		s.log.Debug("tls handshake failed", "err", err)
		raw.Close()
		return
	}
	tlsHandshakes.Inc()
	inner, outer, err := socketPair()
	if err != nil {
		s.log.Warn("cannot create a socketpair for a TLS connection", "err", err)
		tc.Close()
		return
	}
	// Register duplicates outer into gnet and closes it.
	// The connection's context carries the client's address (tlsPeer), so
	// the engine can see it behind the socketpair.
	var peer tlsPeer
	if ta, ok := raw.RemoteAddr().(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(ta.IP); ok {
			peer.addr = ip.Unmap()
		}
	}
	peer.client = proxied
	ch, err := s.eng.Register(gnet.NewNetConnContext(gnet.NewContext(context.Background(), peer), outer))
	if err == nil {
		if res := <-ch; res.Err != nil {
			err = res.Err
		}
	} else {
		outer.Close()
	}
	if err != nil {
		s.log.Warn("cannot register a TLS connection with the event loops", "err", err)
		inner.Close()
		tc.Close()
		return
	}
	f.pump(tc, raw, inner)
}

// tlsPeer is the gnet context of a connection registered by the TLS front:
// the client's address.
type tlsPeer struct {
	addr   netip.Addr
	client netip.Addr // from a PROXY header; invalid: addr is the client
}

// pump moves bytes between the client's tls.Conn and the engine's end of
// the socketpair (inner) until both directions are done.
func (f *tlsFront) pump(tc *tls.Conn, raw *net.TCPConn, inner *net.UnixConn) {
	s := f.s
	inDone := make(chan struct{})
	go func() {
		defer close(inDone)
		buf := make([]byte, tlsInBuf)
		for {
			n, err := tc.Read(buf)
			if n > 0 {
				tlsBytesIn.Add(n)
				if _, werr := inner.Write(buf[:n]); werr != nil {
					break // the engine closed its end
				}
			}
			if err != nil {
				break
			}
		}
		_ = inner.CloseWrite() // the engine reads EOF
	}()

	buf := make([]byte, tlsOutBuf)
	for {
		n, err := inner.Read(buf)
		if n > 0 {
			_ = raw.SetWriteDeadline(time.Now().Add(s.tun().BodyTimeout))
			if _, werr := tc.Write(buf[:n]); werr != nil {
				break
			}
			tlsBytesOut.Add(n)
		}
		if err != nil {
			break
		}
	}
	// The engine closed (or half-closed, lingering) its end: finish the
	// client's side and give it lingerTime to stop sending.
	_ = raw.SetWriteDeadline(time.Now().Add(time.Second))
	_ = tc.CloseWrite()
	_ = raw.CloseWrite()
	_ = raw.SetReadDeadline(time.Now().Add(lingerTime + time.Second))
	<-inDone
	inner.Close()
	raw.Close()
}

// socketPair returns both ends of a unix stream socketpair as conns that
// Go's netpoller drives.
func socketPair() (a, b *net.UnixConn, err error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, os.NewSyscallError("socketpair", err)
	}
	conv := func(fd int) (*net.UnixConn, error) {
		f := os.NewFile(uintptr(fd), "socketpair")
		defer f.Close() // FileConn dups
		c, err := net.FileConn(f)
		if err != nil {
			return nil, err
		}
		return c.(*net.UnixConn), nil
	}
	if a, err = conv(fds[0]); err != nil {
		syscall.Close(fds[1])
		return nil, nil, err
	}
	if b, err = conv(fds[1]); err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, b, nil
}

// looksLikeHTTP reports whether a TLS record header is the start of a
// plain HTTP request (net/http's check).
func looksLikeHTTP(hdr []byte) bool {
	switch string(hdr) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO", "DELET", "PATCH":
		return true
	}
	return false
}

// tlsConfig returns the server's TLS settings: HTTP/1.1 only, TLS 1.2 or
// newer.
func tlsConfig(c *tls.Config) *tls.Config {
	c = c.Clone()
	c.NextProtos = []string{"http/1.1"}
	if c.MinVersion < tls.VersionTLS12 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}
