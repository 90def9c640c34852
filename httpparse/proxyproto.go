package httpparse

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// PROXY protocol headers (HAProxy's proxy-protocol.txt, versions 1 and 2),
// sent by a load balancer at the start of a connection to pass on the
// client's address.
//
// ParseProxyHeader follows the Parse contract: it keeps no state, returns
// ErrNeedMore while b holds a valid prefix of a header (a header split
// across reads), and fails as soon as the bytes cannot start one, so a
// client that sends HTTP where a header is due is refused at once rather
// than at a timeout. It never reads past b and never allocates.
//
// Accepted:
//   - v1: "PROXY TCP4 src dst sport dport\r\n", "PROXY TCP6 ...\r\n" and
//     "PROXY UNKNOWN...\r\n" (Local), at most 107 bytes, single spaces,
//     addresses of the named family, ports 0..65535 without leading zeros;
//   - v2: the 12-byte signature, version 2, command LOCAL (Local) or PROXY,
//     families TCP over IPv4 and IPv6; UNSPEC and UNIX are Local (the
//     specification lets a receiver use the connection's own addresses);
//     TLVs after the addresses are skipped unread; the whole header is at
//     most MaxProxyHeaderLen bytes.
//
// Refused: datagram (UDP) families, other versions and commands, a v2
// address block shorter than its family needs, anything else.

// MaxProxyHeaderLen bounds a v2 header (16-byte fixed part, addresses and
// TLVs). v1 headers are at most 107 bytes.
const MaxProxyHeaderLen = 4096

// maxProxyV1Len is the longest v1 header, CRLF included.
const maxProxyV1Len = 107

// Sentinel errors of ParseProxyHeader.
var (
	// ErrProxyHeader means the bytes are not a valid PROXY header.
	ErrProxyHeader = errors.New("httpparse: invalid PROXY protocol header")
	// ErrProxyHeaderTooLarge means a v2 header longer than MaxProxyHeaderLen.
	ErrProxyHeaderTooLarge = errors.New("httpparse: PROXY protocol header too large")
	// ErrProxyUnsupported means a well-formed header for a datagram family.
	ErrProxyUnsupported = errors.New("httpparse: unsupported PROXY protocol address family")
)

// ProxyHeader is a parsed PROXY protocol header.
type ProxyHeader struct {
	Version int // 1 or 2
	// Local means the header carries no client address (v1 UNKNOWN, v2
	// LOCAL, UNSPEC or UNIX): use the connection's own addresses.
	Local bool
	Src   netip.AddrPort // the client's address and port (invalid when Local)
	Dst   netip.AddrPort // the address the client connected to
}

var (
	proxyV1Sig = []byte("PROXY ")
	proxyV2Sig = []byte("\r\n\r\n\x00\r\nQUIT\n")
)

// ParseProxyHeader parses the PROXY header at the start of b and returns
// it and its length in bytes.
func ParseProxyHeader(b []byte) (ProxyHeader, int, error) {
	if len(b) == 0 {
		return ProxyHeader{}, 0, ErrNeedMore
	}
	switch b[0] {
	case 'P':
		return parseProxyV1(b)
	case '\r':
		return parseProxyV2(b)
	}
	return ProxyHeader{}, 0, ErrProxyHeader
}

// hasPrefixOf reports whether b and sig agree on their common length.
func hasPrefixOf(b, sig []byte) bool {
	n := min(len(b), len(sig))
	return string(b[:n]) == string(sig[:n])
}

func parseProxyV1(b []byte) (ProxyHeader, int, error) {
	if !hasPrefixOf(b, proxyV1Sig) {
		return ProxyHeader{}, 0, ErrProxyHeader
	}
	end := -1
	for i := 0; i < len(b) && i < maxProxyV1Len; i++ {
		if b[i] == '\n' {
			end = i
			break
		}
	}
	if end < 0 {
		if len(b) >= maxProxyV1Len {
			return ProxyHeader{}, 0, ErrProxyHeader
		}
		return ProxyHeader{}, 0, ErrNeedMore
	}
	if end < len(proxyV1Sig)+1 || b[end-1] != '\r' {
		return ProxyHeader{}, 0, ErrProxyHeader
	}
	n := end + 1
	line := b[len(proxyV1Sig) : end-1]
	h := ProxyHeader{Version: 1}
	proto, line := nextField(line)
	switch string(proto) {
	case "UNKNOWN":
		// Anything may follow; the receiver ignores it.
		for _, c := range line {
			if c == '\r' {
				return ProxyHeader{}, 0, ErrProxyHeader
			}
		}
		h.Local = true
		return h, n, nil
	case "TCP4", "TCP6":
	default:
		return ProxyHeader{}, 0, ErrProxyHeader
	}
	v6 := proto[3] == '6'
	srcB, line := nextField(line)
	dstB, line := nextField(line)
	spB, line := nextField(line)
	dpB, line := nextField(line)
	if line != nil {
		return ProxyHeader{}, 0, ErrProxyHeader // more fields, or a trailing space
	}
	src, ok1 := ParseAddr(srcB)
	dst, ok2 := ParseAddr(dstB)
	sp, ok3 := parsePort(spB)
	dp, ok4 := parsePort(dpB)
	if !ok1 || !ok2 || !ok3 || !ok4 || src.Is6() != v6 || dst.Is6() != v6 {
		return ProxyHeader{}, 0, ErrProxyHeader
	}
	h.Src, h.Dst = netip.AddrPortFrom(src, sp), netip.AddrPortFrom(dst, dp)
	return h, n, nil
}

// nextField splits b at the first space. rest is nil when there is no
// space, so a trailing space leaves an empty, non-nil rest.
func nextField(b []byte) (field, rest []byte) {
	for i, c := range b {
		if c == ' ' {
			return b[:i], b[i+1:]
		}
	}
	return b, nil
}

// parsePort parses a decimal port 0..65535 without sign or leading zeros.
func parsePort(b []byte) (uint16, bool) {
	if len(b) == 0 || len(b) > 5 || (len(b) > 1 && b[0] == '0') {
		return 0, false
	}
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	if v > 65535 {
		return 0, false
	}
	return uint16(v), true
}

// v2 fields.
const (
	proxyV2Fixed = 16
	proxyV2Ver   = 0x20
	cmdLocal     = 0x0
	cmdProxy     = 0x1
	famUnspec    = 0x00
	famTCP4      = 0x11
	famUDP4      = 0x12
	famTCP6      = 0x21
	famUDP6      = 0x22
	famUnixStr   = 0x31
	famUnixDgram = 0x32
	lenAddrs4    = 12
	lenAddrs6    = 36
	lenAddrsUnix = 216
)

func parseProxyV2(b []byte) (ProxyHeader, int, error) {
	if !hasPrefixOf(b, proxyV2Sig) {
		return ProxyHeader{}, 0, ErrProxyHeader
	}
	if len(b) > len(proxyV2Sig) && b[12]&0xf0 != proxyV2Ver {
		return ProxyHeader{}, 0, ErrProxyHeader
	}
	if len(b) < proxyV2Fixed {
		return ProxyHeader{}, 0, ErrNeedMore
	}
	cmd, fam := b[12]&0x0f, b[13]
	n := proxyV2Fixed + int(binary.BigEndian.Uint16(b[14:16]))
	if n > MaxProxyHeaderLen {
		return ProxyHeader{}, 0, ErrProxyHeaderTooLarge
	}
	if cmd != cmdLocal && cmd != cmdProxy {
		return ProxyHeader{}, 0, ErrProxyHeader
	}
	need := 0
	switch fam {
	case famTCP4, famUDP4:
		need = lenAddrs4
	case famTCP6, famUDP6:
		need = lenAddrs6
	case famUnixStr, famUnixDgram:
		need = lenAddrsUnix
	case famUnspec:
	default:
		return ProxyHeader{}, 0, ErrProxyHeader
	}
	if n-proxyV2Fixed < need {
		return ProxyHeader{}, 0, ErrProxyHeader
	}
	if len(b) < n {
		return ProxyHeader{}, 0, ErrNeedMore
	}
	h := ProxyHeader{Version: 2}
	if cmd == cmdLocal {
		// Health checks from the balancer itself: addresses ignored.
		h.Local = true
		return h, n, nil
	}
	a := b[proxyV2Fixed:n]
	switch fam {
	case famTCP4:
		src := netip.AddrFrom4([4]byte(a[0:4]))
		dst := netip.AddrFrom4([4]byte(a[4:8]))
		h.Src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(a[8:10]))
		h.Dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(a[10:12]))
	case famTCP6:
		src := netip.AddrFrom16([16]byte(a[0:16]))
		dst := netip.AddrFrom16([16]byte(a[16:32]))
		h.Src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(a[32:34]))
		h.Dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(a[34:36]))
	case famUDP4, famUDP6, famUnixDgram:
		return ProxyHeader{}, 0, ErrProxyUnsupported
	default: // UNSPEC, UNIX stream: no IP address to use
		h.Local = true
	}
	return h, n, nil
}
