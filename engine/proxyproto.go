package engine

import (
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/panjf2000/gnet/v2"

	"github.com/mizuchi-gw/mizuchi/httpparse"
)

// PROXY protocol on the S3 listener (Config.ProxyProtocol not empty):
//
//   - A connection whose socket peer is not in the trusted list is closed
//     at once, unserved and without an answer (counted "untrusted"): its
//     client sent nothing yet, an HTTP reply would race its request and,
//     on a TLS port, be plain text the client cannot read.
//   - A connection from a trusted peer must start with a v1 or v2 header
//     (httpparse.ParseProxyHeader). Bytes of a header split across reads
//     stay in gnet's buffer until it is complete; once a byte has arrived
//     the header timeout runs, as for a request head. The header's source
//     address becomes the connection's client (setClient); a LOCAL or
//     UNKNOWN header (the balancer's own health check) keeps the socket
//     peer. Counted "ok".
//   - Anything else (HTTP, TLS, a malformed or oversized header, a header
//     cut off by a close or the timeout) closes the connection before a
//     byte is parsed as HTTP, so nothing reaches a backend (counted
//     "malformed"). A balancer's TCP health check that connects and closes
//     without a byte is not counted.
//   - With TLS the header precedes the handshake: the TLS front reads it
//     (readProxy) before crypto/tls sees a byte, and passes the client to
//     the engine in tlsPeer.client.
//
// Refusals are logged at warn level, at most 10 lines a second.

var (
	proxyOK        = metrics.NewCounter(`mizuchi_proxy_protocol_total{result="ok"}`)
	proxyUntrusted = metrics.NewCounter(`mizuchi_proxy_protocol_total{result="untrusted"}`)
	proxyMalformed = metrics.NewCounter(`mizuchi_proxy_protocol_total{result="malformed"}`)
	proxyRefusals  atomic.Int64 // refusal log limiter: unix second << 16 | lines
)

// admitProxyPeer reports whether a new gnet connection may be served: with
// PROXY protocol on, its socket peer must be trusted. Connections from the
// TLS front were checked there.
func (s *Server) admitProxyPeer(c gnet.Conn) bool {
	if len(s.cfg.ProxyProtocol) == 0 {
		return true
	}
	if _, ok := c.Context().(tlsPeer); ok {
		return true
	}
	if peer := remoteIP(c); !inPrefixes(s.cfg.ProxyProtocol, peer) {
		s.refuseProxy(proxyUntrusted, peer, "peer is not in server.proxy_protocol.trusted")
		return false
	}
	return true
}

// proxyHeader consumes the PROXY header at the start of buf (gnet's
// inbound buffer), on the loop. When ok, the connection's client is set
// and rest is what follows the header in gnet's buffer (not empty);
// otherwise OnTraffic returns act: wait for more bytes, or close.
func (s *Server) proxyHeader(c gnet.Conn, st *connState, buf []byte) (rest []byte, act gnet.Action, ok bool) {
	h, n, err := httpparse.ParseProxyHeader(buf)
	if err == httpparse.ErrNeedMore {
		return nil, gnet.None, false
	}
	st.proxyWait = false
	if err != nil {
		s.refuseProxy(proxyMalformed, st.sockPeer, err.Error())
		return nil, gnet.Close, false
	}
	proxyOK.Inc()
	if h.Local {
		st.setClient(st.sockPeer)
	} else {
		st.setClient(h.Src.Addr())
	}
	if !s.admitProxied(c, st) {
		return nil, gnet.Close, false
	}
	_, _ = c.Discard(n)
	rest, _ = c.Peek(-1)
	if len(rest) == 0 {
		// The balancer sends the header at once; the request may come later.
		st.headStarted = false
		st.setDeadline(s.tun().IdleTimeout)
		return nil, gnet.None, false
	}
	return rest, gnet.None, true
}

// proxyClosed counts a connection closed while its PROXY header was
// incomplete (cut off, or timed out), from OnClose.
func (s *Server) proxyClosed(st *connState) {
	if st.proxyWait && st.headStarted {
		st.proxyWait = false
		s.refuseProxy(proxyMalformed, st.sockPeer, "incomplete header")
	}
}

// refuseProxy counts and logs (rate-limited) a refused connection.
func (s *Server) refuseProxy(m *metrics.Counter, peer netip.Addr, reason string) {
	m.Inc()
	if allowProxyLog() {
		s.log.Warn("connection refused: PROXY protocol", "peer", peer, "reason", reason)
	}
}

// allowProxyLog lets at most 10 refusal lines a second through.
func allowProxyLog() bool {
	now := time.Now().Unix() << 16
	for {
		v := proxyRefusals.Load()
		next := now + 1
		if v&^0xffff == now {
			if v&0xffff >= 10 {
				return false
			}
			next = v + 1
		}
		if proxyRefusals.CompareAndSwap(v, next) {
			return true
		}
	}
}

// readProxy reads the PROXY header of a TLS connection before its
// handshake, within the header timeout. It returns the conn the handshake
// reads from (bytes read past the header come first) and the client
// address (invalid for a LOCAL or UNKNOWN header: the socket peer is the
// client); ok false means the connection was refused and must be closed.
func (f *tlsFront) readProxy(raw *net.TCPConn) (conn net.Conn, client netip.Addr, ok bool) {
	s := f.s
	var peer netip.Addr
	if ta, ok := raw.RemoteAddr().(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(ta.IP); ok {
			peer = ip.Unmap()
		}
	}
	if !inPrefixes(s.cfg.ProxyProtocol, peer) {
		s.refuseProxy(proxyUntrusted, peer, "peer is not in server.proxy_protocol.trusted")
		return nil, netip.Addr{}, false
	}
	_ = raw.SetReadDeadline(time.Now().Add(s.tun().HeaderTimeout))
	defer raw.SetReadDeadline(time.Time{})
	buf := make([]byte, httpparse.MaxProxyHeaderLen)
	got := 0
	for {
		n, err := raw.Read(buf[got:])
		got += n
		if got > 0 {
			h, hl, perr := httpparse.ParseProxyHeader(buf[:got])
			switch {
			case perr == nil:
				proxyOK.Inc()
				if !h.Local {
					client = h.Src.Addr().Unmap()
				}
				return &prefixConn{TCPConn: raw, pre: buf[hl:got]}, client, true
			case !errors.Is(perr, httpparse.ErrNeedMore):
				s.refuseProxy(proxyMalformed, peer, perr.Error())
				return nil, netip.Addr{}, false
			}
		}
		if err != nil {
			if got > 0 {
				s.refuseProxy(proxyMalformed, peer, "incomplete header")
			}
			return nil, netip.Addr{}, false
		}
	}
}

// prefixConn is a TCP connection whose first reads return pre: bytes read
// with the PROXY header that belong to the TLS handshake.
type prefixConn struct {
	*net.TCPConn
	pre []byte
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if len(p.pre) > 0 {
		n := copy(b, p.pre)
		p.pre = p.pre[n:]
		return n, nil
	}
	return p.TCPConn.Read(b)
}
