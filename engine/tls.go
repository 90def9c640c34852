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
// its TCP socket is registered with gnet (Engine.Register) and served on a
// loop like any TCP client: the loop decrypts what gnet reads and seals
// what it writes, in memory, with the connection's tls.Conn (tlsconn.go).
// Parsing, auth, 100 Continue and in-loop relaying then work unchanged on
// the plaintext; a detached body is read through the same tls.Conn on the
// socket by its worker and copied to the backend (never spliced: the socket
// carries ciphertext).
//
// gnet only accepts Register calls on an engine with a listener, so gnet
// listens on a unix socket in a private directory whose path is unlinked as
// soon as gnet has bound it: the listener exists but nothing can connect.
//
// Invariants of one connection:
//   - the handshake finishes within HeaderTimeout or the socket is closed;
//   - the front's goroutine stops using the socket before Register; from
//     then on the socket is gnet's, or a detached body's worker's;
//   - records crypto/tls read ahead during the handshake (a request sent
//     with the client's Finished) are decrypted when the loop opens the
//     connection (OnOpen), which wakes it if a request is waiting.

var (
	tlsBytesIn        = metrics.NewCounter(`mizuchi_tls_bytes_total{dir="in"}`)
	tlsBytesOut       = metrics.NewCounter(`mizuchi_tls_bytes_total{dir="out"}`)
	tlsHandshakes     = metrics.NewCounter(`mizuchi_tls_handshakes_total`)
	tlsHandshakeFails = metrics.NewCounter(`mizuchi_tls_handshake_failures_total`)
	tlsConns          atomic.Int64 // TLS connections, handshaking or open
)

func init() {
	metrics.NewGauge(`mizuchi_tls_connections`, func() float64 { return float64(tlsConns.Load()) })
}

// clientConn is a client socket taken out of gnet: a *net.TCPConn, or a
// *tlsClient (a TLS client's socket read through its tls.Conn).
type clientConn interface {
	net.Conn
	CloseWrite() error
	SyscallConn() (syscall.RawConn, error)
}

// tlsFront is the public TLS listener.
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

// close stops accepting; registered connections close with the engine.
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
		if tlsConns.Load() >= f.s.maxConns() || !fdAcct.take(1) {
			connsRejected.Inc()
			c.Close()
			continue
		}
		tlsConns.Add(1)
		go f.serveConn(c.(*net.TCPConn))
	}
}

// serveConn handshakes one connection and registers its socket with gnet.
func (f *tlsFront) serveConn(raw *net.TCPConn) {
	// The socket's descriptor was charged at accept (fdaccount.go); once
	// this returns it is closed or gnet's, counted in activeConns.
	defer fdAcct.release(1)
	s := f.s
	var conn net.Conn = raw
	var proxied netip.Addr // the PROXY header's client (proxyproto.go)
	if len(s.cfg.ProxyProtocol) > 0 {
		var ok bool
		if conn, proxied, ok = f.readProxy(raw); !ok {
			tlsConns.Add(-1)
			raw.Close()
			return
		}
	}
	t := newTLSConn(raw, conn, f.cfg)
	ctx, cancel := context.WithTimeout(context.Background(), s.tun().HeaderTimeout)
	err := t.tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		tlsConns.Add(-1)
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
	if pc, ok := conn.(*prefixConn); ok && len(pc.pre) > 0 {
		// Bytes after the ClientHello that crypto/tls never asked for:
		// nothing a TLS client sends before the server's flight.
		tlsConns.Add(-1)
		raw.Close()
		return
	}
	_ = raw.SetDeadline(time.Time{})
	t.attach() // memory from now on: the socket is gnet's
	// The connection's context carries the client's address (tlsPeer), so
	// the engine knows it, and the tlsConn the loop adopts in OnOpen.
	// Register duplicates raw into gnet and closes it.
	peer := tlsPeer{t: t, client: proxied}
	if ta, ok := raw.RemoteAddr().(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(ta.IP); ok {
			peer.addr = ip.Unmap()
		}
	}
	ch, err := s.eng.Register(gnet.NewNetConnContext(gnet.NewContext(context.Background(), peer), raw))
	if err == nil {
		if res := <-ch; res.Err != nil {
			err = res.Err
		}
	} else {
		raw.Close()
	}
	if err != nil {
		tlsConns.Add(-1)
		s.log.Warn("cannot register a TLS connection with the event loops", "err", err)
	}
}

// tlsPeer is the gnet context of a connection registered by the TLS front:
// the client's address and its TLS state.
type tlsPeer struct {
	t      *tlsConn
	addr   netip.Addr
	client netip.Addr // from a PROXY header; invalid: addr is the client
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
