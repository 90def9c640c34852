package engine

import (
	"bytes"
	"net"
	"net/netip"

	"github.com/panjf2000/gnet/v2"

	"github.com/mizuchi-gw/mizuchi/httpparse"
)

// The client address of a connection and of each request.
//
//   - The socket peer (connState.sockPeer) is the immediate TCP peer: the
//     gnet socket's remote address, or for a connection that came through
//     the TLS front, the TLS socket's (tlsPeer.addr).
//   - The connection's client (connState.client) is the socket peer, or,
//     with PROXY protocol on (Config.ProxyProtocol, proxyproto.go), the
//     source address of the PROXY header. setClient is the one place it
//     becomes known: in OnOpen without PROXY protocol, after the header
//     (on the first read event, or in the TLS front before the handshake)
//     with it.
//   - A request's client (clientAddr) is the connection's client, unless
//     the socket peer is a trusted proxy (Config.TrustedProxies): then it
//     is the right-most X-Forwarded-For entry that is not itself a trusted
//     proxy (forwardedFor), found on the loop for every head without
//     allocating. X-Forwarded-For from anyone else is ignored.
//
// The access log ("client"), the authorization input's source_ip and
// anything limited per client read clientAddr.

// setClient records the connection's client address. Admission by client
// address belongs here: with PROXY protocol on, the address is not known in
// OnOpen.
func (st *connState) setClient(a netip.Addr) {
	st.client = a.Unmap()
}

// clientAddr is the effective client address of the current request:
// from a trusted proxy's X-Forwarded-For, else the connection's client.
func (st *connState) clientAddr() netip.Addr {
	if st.fwdClient.IsValid() {
		return st.fwdClient
	}
	return st.client
}

// openClient records a new connection's socket peer and, unless a PROXY
// header must come first, its client. It runs in OnOpen while the gnet
// context is still the TLS front's tlsPeer (if any).
func (s *Server) openClient(c gnet.Conn, st *connState) {
	if p, ok := c.Context().(tlsPeer); ok {
		st.sockPeer = p.addr
		if p.client.IsValid() {
			st.setClient(p.client) // the TLS front read a PROXY header
		} else {
			st.setClient(p.addr)
		}
		return
	}
	st.sockPeer = remoteIP(c)
	if len(s.cfg.ProxyProtocol) > 0 {
		st.proxyWait = true
		return
	}
	st.setClient(st.sockPeer)
}

// remoteIP is a gnet connection's TCP peer address; invalid for other
// sockets.
func remoteIP(c gnet.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(a.IP); ok {
			return ip.Unmap()
		}
	}
	return netip.Addr{}
}

// inPrefixes reports whether a is in one of ps.
func inPrefixes(ps []netip.Prefix, a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor sets the current request's client from X-Forwarded-For
// when the socket peer is a trusted proxy. Repeated X-Forwarded-For lines
// are one list, in order; it is read from the right, and the first entry
// that is not a trusted proxy is the client. When every entry is a trusted
// proxy, the left-most is. An entry that is not an address (a port is
// allowed: "192.0.2.1:443", "[2001:db8::1]:443") stops the search and the
// connection's client is used: nothing left of it can be believed. It does
// not allocate.
func (s *Server) forwardedFor(st *connState, req *httpparse.Request) {
	st.fwdClient = netip.Addr{}
	tp := s.cfg.TrustedProxies
	if len(tp) == 0 || !inPrefixes(tp, st.sockPeer) {
		return
	}
	var left netip.Addr
	for i := len(req.Headers) - 1; i >= 0; i-- {
		h := &req.Headers[i]
		if len(h.Name) != len("x-forwarded-for") || !eqFoldASCII(h.Name, "x-forwarded-for") {
			continue
		}
		for v := h.Value; len(v) > 0; {
			var e []byte
			if j := bytes.LastIndexByte(v, ','); j >= 0 {
				e, v = v[j+1:], v[:j]
			} else {
				e, v = v, nil
			}
			e = bytes.Trim(e, " \t")
			if len(e) == 0 {
				continue
			}
			a, ok := parseForwardedAddr(e)
			if !ok {
				return
			}
			if !inPrefixes(tp, a) {
				st.fwdClient = a
				return
			}
			left = a
		}
	}
	st.fwdClient = left
}

// parseForwardedAddr parses one X-Forwarded-For entry: an address, or an
// address with a port ("192.0.2.1:443", "[2001:db8::1]:443", "[::1]").
func parseForwardedAddr(e []byte) (netip.Addr, bool) {
	if e[0] == '[' {
		j := bytes.IndexByte(e, ']')
		if j < 0 || (j+1 < len(e) && e[j+1] != ':') {
			return netip.Addr{}, false
		}
		a, ok := httpparse.ParseAddr(e[1:j])
		return a.Unmap(), ok && a.Is6()
	}
	if i := bytes.IndexByte(e, ':'); i >= 0 && bytes.IndexByte(e[i+1:], ':') < 0 {
		e = e[:i] // IPv4 with a port
	}
	a, ok := httpparse.ParseAddr(e)
	return a.Unmap(), ok
}
