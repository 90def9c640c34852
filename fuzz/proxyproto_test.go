package fuzz

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/mizuchi-gw/mizuchi/httpparse"
)

// encodeProxy is the oracle: a PROXY header written from the specification
// (HAProxy's proxy-protocol.txt), independent of the parser. tlv bytes are
// appended to a v2 header as its TLV block.
func encodeProxy(h httpparse.ProxyHeader, tlv []byte) []byte {
	if h.Version == 1 {
		if h.Local {
			return []byte("PROXY UNKNOWN\r\n")
		}
		fam := "TCP4"
		if h.Src.Addr().Is6() {
			fam = "TCP6"
		}
		return []byte("PROXY " + fam + " " + h.Src.Addr().String() + " " + h.Dst.Addr().String() + " " +
			strconv.Itoa(int(h.Src.Port())) + " " + strconv.Itoa(int(h.Dst.Port())) + "\r\n")
	}
	b := []byte("\r\n\r\n\x00\r\nQUIT\n")
	if h.Local {
		b = append(b, 0x20, 0x00)
		b = binary.BigEndian.AppendUint16(b, uint16(len(tlv)))
		return append(b, tlv...)
	}
	var addrs []byte
	if h.Src.Addr().Is4() {
		b = append(b, 0x21, 0x11)
		s, d := h.Src.Addr().As4(), h.Dst.Addr().As4()
		addrs = append(append(addrs, s[:]...), d[:]...)
	} else {
		b = append(b, 0x21, 0x21)
		s, d := h.Src.Addr().As16(), h.Dst.Addr().As16()
		addrs = append(append(addrs, s[:]...), d[:]...)
	}
	addrs = binary.BigEndian.AppendUint16(addrs, h.Src.Port())
	addrs = binary.BigEndian.AppendUint16(addrs, h.Dst.Port())
	b = binary.BigEndian.AppendUint16(b, uint16(len(addrs)+len(tlv)))
	return append(append(b, addrs...), tlv...)
}

// exact returns a copy of b whose capacity is its length, so any read past
// the input panics.
func exact(b []byte) []byte {
	c := make([]byte, len(b))
	copy(c, b)
	return c[:len(b):len(b)]
}

// FuzzProxyHeader feeds arbitrary bytes: the parser never panics or reads
// past the input; a header it accepts is self-contained (the same from its
// own bytes), every shorter prefix of it is incomplete, and it survives a
// round trip through the encoder; v1 addresses agree with netip.
func FuzzProxyHeader(f *testing.F) {
	for _, s := range []string{
		"PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\nPUT / HTTP/1.1\r\n",
		"PROXY TCP6 2001:db8::7 ::ffff:1.2.3.4 1 65535\r\n",
		"PROXY UNKNOWN\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",
		"PUT / HTTP/1.1\r\n",
		"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c\xcb\x00\x71\x07\xc0\x00\x02\x01\x00\x01\x01\xbb",
		"\r\n\r\n\x00\r\nQUIT\n\x21\x21\x00\x24" + strings.Repeat("\x20", 36),
		"\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x03\x04\x00\x00",
		"\r\n\r\n\x00\r\nQUIT\n\x21\x12\x00\x0c" + strings.Repeat("\x01", 12),
		"\r\n\r\n\x00\r\nQUIT\n\x21\x11\xff\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 2*httpparse.MaxProxyHeaderLen {
			return
		}
		in := exact(data)
		h, n, err := httpparse.ParseProxyHeader(in)
		if err != nil {
			if n != 0 || h != (httpparse.ProxyHeader{}) {
				t.Fatalf("error %v with a header %+v of %d bytes", err, h, n)
			}
			return
		}
		if n <= 0 || n > len(in) || n > httpparse.MaxProxyHeaderLen {
			t.Fatalf("header length %d out of range (input %d bytes)", n, len(in))
		}
		own := exact(in[:n])
		h2, n2, err := httpparse.ParseProxyHeader(own)
		if err != nil || n2 != n || h2 != h {
			t.Fatalf("not self-contained: %+v %d %v; first %+v %d", h2, n2, err, h, n)
		}
		for _, i := range []int{0, 1, n / 2, n - 1} {
			if _, _, err := httpparse.ParseProxyHeader(exact(in[:i])); err != httpparse.ErrNeedMore {
				t.Fatalf("prefix of %d of a %d-byte header: got %v; want ErrNeedMore", i, n, err)
			}
		}
		if h.Version == 1 && !h.Local {
			f := bytes.Split(own[len("PROXY "):n-2], []byte(" "))
			for i, want := range []netip.Addr{h.Src.Addr(), h.Dst.Addr()} {
				got, err := netip.ParseAddr(string(f[1+i]))
				if err != nil || got != want {
					t.Fatalf("address %q: netip says %v, %v; parser said %v", f[1+i], got, err, want)
				}
			}
		}
		if h.Local {
			return // a round trip cannot restore ignored bytes
		}
		enc := encodeProxy(h, nil)
		h3, n3, err := httpparse.ParseProxyHeader(exact(enc))
		if err != nil || n3 != len(enc) || h3 != h {
			t.Fatalf("round trip of %+v: %q parsed as %+v %d %v", h, enc, h3, n3, err)
		}
	})
}

// FuzzProxyRoundTrip encodes headers from fuzzed fields with the oracle and
// parses them back, whole and split at every point as gnet may deliver them.
func FuzzProxyRoundTrip(f *testing.F) {
	f.Add(uint8(1), false, []byte{203, 0, 113, 7}, []byte{192, 0, 2, 1}, uint16(56324), uint16(443), []byte(nil))
	f.Add(uint8(2), false, bytes.Repeat([]byte{0x20}, 16), bytes.Repeat([]byte{1}, 16), uint16(1), uint16(2), []byte{4, 0, 1, 0})
	f.Add(uint8(2), true, []byte(nil), []byte(nil), uint16(0), uint16(0), []byte{0xEA, 0, 1, 1})
	f.Add(uint8(1), true, []byte(nil), []byte(nil), uint16(0), uint16(0), []byte(nil))
	f.Fuzz(func(t *testing.T, ver uint8, local bool, src, dst []byte, sp, dp uint16, tlv []byte) {
		var h httpparse.ProxyHeader
		h.Version = int(ver%2) + 1
		h.Local = local
		if !local {
			s, ok1 := netip.AddrFromSlice(src)
			d, ok2 := netip.AddrFromSlice(dst)
			if !ok1 || !ok2 || s.Is4() != d.Is4() {
				return
			}
			h.Src, h.Dst = netip.AddrPortFrom(s, sp), netip.AddrPortFrom(d, dp)
		}
		if h.Version == 1 || len(tlv) > httpparse.MaxProxyHeaderLen-16-36 {
			tlv = nil
		}
		enc := encodeProxy(h, tlv)
		body := append(bytes.Clone(enc), "PUT / HTTP/1.1\r\n"...)
		got, n, err := httpparse.ParseProxyHeader(exact(body))
		if err != nil || n != len(enc) || got != h {
			t.Fatalf("%q: parsed %+v %d %v; want %+v %d", enc, got, n, err, h, len(enc))
		}
		for i := range len(enc) {
			if _, _, err := httpparse.ParseProxyHeader(exact(enc[:i])); !errors.Is(err, httpparse.ErrNeedMore) {
				t.Fatalf("%q split at %d: got %v; want ErrNeedMore", enc, i, err)
			}
		}
	})
}

// FuzzParseAddr checks httpparse.ParseAddr against netip.ParseAddr: the
// same addresses, except zones, which httpparse refuses.
func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"203.0.113.7", "2001:db8::1", "::ffff:1.2.3.4", "::", "1:2:3:4:5:6:7:8", "01.2.3.4", "fe80::1%eth0", "1::2::3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := httpparse.ParseAddr(exact([]byte(s)))
		want, err := netip.ParseAddr(s)
		switch {
		case ok && (err != nil || got != want):
			t.Fatalf("ParseAddr(%q) = %v; netip: %v, %v", s, got, want, err)
		case !ok && err == nil && want.Zone() == "":
			t.Fatalf("ParseAddr(%q) failed; netip: %v", s, want)
		}
	})
}
