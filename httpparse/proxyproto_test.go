package httpparse

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// v2 builds a v2 header: version/command byte, family, address block and
// TLVs (appended after the addresses and counted in the length).
func v2(verCmd, fam byte, addrs []byte, tlvs []byte) []byte {
	b := []byte("\r\n\r\n\x00\r\nQUIT\n")
	b = append(b, verCmd, fam)
	b = binary.BigEndian.AppendUint16(b, uint16(len(addrs)+len(tlvs)))
	b = append(b, addrs...)
	return append(b, tlvs...)
}

func addrs4(src, dst string, sp, dp uint16) []byte {
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	b := append(s[:], d[:]...)
	b = binary.BigEndian.AppendUint16(b, sp)
	return binary.BigEndian.AppendUint16(b, dp)
}

func addrs6(src, dst string, sp, dp uint16) []byte {
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	b := append(s[:], d[:]...)
	b = binary.BigEndian.AppendUint16(b, sp)
	return binary.BigEndian.AppendUint16(b, dp)
}

func TestParseProxyHeader(t *testing.T) {
	ap := netip.MustParseAddrPort
	tlv := []byte{0x04, 0x00, 0x03, 'a', 'b', 'c', 0xEA, 0x00, 0x01, 0x01} // NOOP and an AWS-style TLV
	tests := []struct {
		name     string
		in       string
		want     ProxyHeader
		wantN    int // 0: the whole input
		wantErr  error
		trailing string // bytes after the header, left alone
	}{
		{name: "v1 tcp4", in: "PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\n",
			want: ProxyHeader{Version: 1, Src: ap("203.0.113.7:56324"), Dst: ap("192.0.2.1:443")}},
		{name: "v1 tcp6", in: "PROXY TCP6 2001:db8::7 2001:db8::1 65535 0\r\n",
			want: ProxyHeader{Version: 1, Src: ap("[2001:db8::7]:65535"), Dst: ap("[2001:db8::1]:0")}},
		{name: "v1 tcp6 v4-mapped", in: "PROXY TCP6 ::ffff:203.0.113.7 ::1 1 2\r\n",
			want: ProxyHeader{Version: 1, Src: ap("[::ffff:203.0.113.7]:1"), Dst: ap("[::1]:2")}},
		{name: "v1 unknown", in: "PROXY UNKNOWN\r\n", want: ProxyHeader{Version: 1, Local: true}},
		{name: "v1 unknown with junk", in: "PROXY UNKNOWN ffff:f...f 1 2\r\n", want: ProxyHeader{Version: 1, Local: true}},
		{name: "v1 then request", in: "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", trailing: "PUT / HTTP/1.1\r\n",
			want: ProxyHeader{Version: 1, Src: ap("1.2.3.4:1"), Dst: ap("5.6.7.8:2")}},
		{name: "v1 longest", in: "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
			want: ProxyHeader{Version: 1, Src: ap("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"), Dst: ap("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535")}},
		{name: "v1 partial", in: "PROXY TCP4 1.2.3.4 5.6", wantErr: ErrNeedMore},
		{name: "v1 partial signature", in: "PRO", wantErr: ErrNeedMore},
		{name: "v1 partial before LF", in: "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r", wantErr: ErrNeedMore},
		{name: "v1 family mismatch", in: "PROXY TCP4 2001:db8::1 5.6.7.8 1 2\r\n", wantErr: ErrProxyHeader},
		{name: "v1 family mismatch 6", in: "PROXY TCP6 1.2.3.4 ::1 1 2\r\n", wantErr: ErrProxyHeader},
		{name: "v1 bad family", in: "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", wantErr: ErrProxyHeader},
		{name: "v1 lower case", in: "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", wantErr: ErrProxyHeader},
		{name: "v1 double space", in: "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", wantErr: ErrProxyHeader},
		{name: "v1 trailing space", in: "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", wantErr: ErrProxyHeader},
		{name: "v1 extra field", in: "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", wantErr: ErrProxyHeader},
		{name: "v1 missing port", in: "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", wantErr: ErrProxyHeader},
		{name: "v1 port too big", in: "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", wantErr: ErrProxyHeader},
		{name: "v1 port leading zero", in: "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", wantErr: ErrProxyHeader},
		{name: "v1 port sign", in: "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", wantErr: ErrProxyHeader},
		{name: "v1 octet leading zero", in: "PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n", wantErr: ErrProxyHeader},
		{name: "v1 octet too big", in: "PROXY TCP4 256.2.3.4 5.6.7.8 1 2\r\n", wantErr: ErrProxyHeader},
		{name: "v1 zone", in: "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", wantErr: ErrProxyHeader},
		{name: "v1 bare LF", in: "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", wantErr: ErrProxyHeader},
		{name: "v1 no CRLF within 107", in: "PROXY UNKNOWN " + strings.Repeat("x", 100), wantErr: ErrProxyHeader},
		{name: "v1 bare CR in unknown", in: "PROXY UNKNOWN a\rb\r\n", wantErr: ErrProxyHeader},
		{name: "http instead", in: "PUT /b/k HTTP/1.1\r\n", wantErr: ErrProxyHeader},
		{name: "tls instead", in: "\x16\x03\x01\x02\x00", wantErr: ErrProxyHeader},
		{name: "empty", in: "", wantErr: ErrNeedMore},

		{name: "v2 tcp4", in: string(v2(0x21, 0x11, addrs4("203.0.113.7", "192.0.2.1", 56324, 443), nil)),
			want: ProxyHeader{Version: 2, Src: ap("203.0.113.7:56324"), Dst: ap("192.0.2.1:443")}},
		{name: "v2 tcp6", in: string(v2(0x21, 0x21, addrs6("2001:db8::7", "2001:db8::1", 1, 2), nil)),
			want: ProxyHeader{Version: 2, Src: ap("[2001:db8::7]:1"), Dst: ap("[2001:db8::1]:2")}},
		{name: "v2 tcp4 tlvs skipped", in: string(v2(0x21, 0x11, addrs4("203.0.113.7", "192.0.2.1", 1, 2), tlv)), trailing: "\x16\x03\x01",
			want: ProxyHeader{Version: 2, Src: ap("203.0.113.7:1"), Dst: ap("192.0.2.1:2")}},
		{name: "v2 local", in: string(v2(0x20, 0x00, nil, nil)), want: ProxyHeader{Version: 2, Local: true}},
		{name: "v2 local with addresses", in: string(v2(0x20, 0x11, addrs4("1.2.3.4", "5.6.7.8", 1, 2), nil)),
			want: ProxyHeader{Version: 2, Local: true}},
		{name: "v2 unspec", in: string(v2(0x21, 0x00, nil, tlv)), want: ProxyHeader{Version: 2, Local: true}},
		{name: "v2 unix", in: string(v2(0x21, 0x31, make([]byte, 216), nil)), want: ProxyHeader{Version: 2, Local: true}},
		{name: "v2 udp4", in: string(v2(0x21, 0x12, addrs4("1.2.3.4", "5.6.7.8", 1, 2), nil)), wantErr: ErrProxyUnsupported},
		{name: "v2 udp6", in: string(v2(0x21, 0x22, addrs6("::1", "::2", 1, 2), nil)), wantErr: ErrProxyUnsupported},
		{name: "v2 short address block", in: string(v2(0x21, 0x11, addrs4("1.2.3.4", "5.6.7.8", 1, 2)[:11], nil)), wantErr: ErrProxyHeader},
		{name: "v2 tcp6 with tcp4 block", in: string(v2(0x21, 0x21, addrs4("1.2.3.4", "5.6.7.8", 1, 2), nil)), wantErr: ErrProxyHeader},
		{name: "v2 bad version", in: string(v2(0x11, 0x11, addrs4("1.2.3.4", "5.6.7.8", 1, 2), nil)), wantErr: ErrProxyHeader},
		{name: "v2 bad command", in: string(v2(0x22, 0x11, addrs4("1.2.3.4", "5.6.7.8", 1, 2), nil)), wantErr: ErrProxyHeader},
		{name: "v2 bad family", in: string(v2(0x21, 0x41, addrs4("1.2.3.4", "5.6.7.8", 1, 2), nil)), wantErr: ErrProxyHeader},
		{name: "v2 too large", in: string(v2(0x21, 0x11, addrs4("1.2.3.4", "5.6.7.8", 1, 2), make([]byte, MaxProxyHeaderLen))), wantErr: ErrProxyHeaderTooLarge},
		{name: "v2 partial signature", in: "\r\n\r\n\x00", wantErr: ErrNeedMore},
		{name: "v2 partial fixed", in: string(v2(0x21, 0x11, addrs4("1.2.3.4", "5.6.7.8", 1, 2), nil)[:14]), wantErr: ErrNeedMore},
		{name: "v2 partial addresses", in: string(v2(0x21, 0x11, addrs4("1.2.3.4", "5.6.7.8", 1, 2), nil)[:20]), wantErr: ErrNeedMore},
		{name: "v2 partial tlvs", in: string(v2(0x21, 0x11, addrs4("1.2.3.4", "5.6.7.8", 1, 2), tlv)[:30]), wantErr: ErrNeedMore},
		{name: "v2 bad signature", in: "\r\n\r\n\x00\r\nQUIT\r", wantErr: ErrProxyHeader},
		{name: "v2 bad version early", in: "\r\n\r\n\x00\r\nQUIT\n\x11", wantErr: ErrProxyHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, n, err := ParseProxyHeader([]byte(tt.in + tt.trailing))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("unexpected error; got %v; want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			wantN := tt.wantN
			if wantN == 0 {
				wantN = len(tt.in)
			}
			if n != wantN {
				t.Fatalf("unexpected length; got %d; want %d", n, wantN)
			}
			if h != tt.want {
				t.Fatalf("unexpected header; got %+v; want %+v", h, tt.want)
			}
			// Every proper prefix is incomplete, never an error or a header.
			whole := []byte(tt.in)
			for i := range len(whole) {
				if _, _, err := ParseProxyHeader(whole[:i]); err != ErrNeedMore {
					t.Fatalf("prefix of %d bytes: unexpected error; got %v; want ErrNeedMore", i, err)
				}
			}
		})
	}
}

func TestParseAddr(t *testing.T) {
	good := []string{"0.0.0.0", "203.0.113.7", "255.255.255.255", "::", "::1", "1::", "2001:db8::7",
		"2001:DB8:0:0:0:0:0:7", "::ffff:192.0.2.1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:1.2.3.4", "1::1.2.3.4", "fe80::"}
	for _, s := range good {
		got, ok := ParseAddr([]byte(s))
		if want := netip.MustParseAddr(s); !ok || got != want {
			t.Errorf("ParseAddr(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	bad := []string{"", "1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.256", "1.2.3.4 ", " 1.2.3.4", "1..2.3",
		":", ":::", "1:::2", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8::",
		"::1.2.3", "1:2:3:4:5:6:7:1.2.3.4", "fe80::1%eth0", "1:", ":1", "g::", "[::1]", "1.2.3.4:80"}
	zones := "fe80::1%eth0" // valid for netip; a PROXY header or X-Forwarded-For has no zone
	for _, s := range bad {
		if got, ok := ParseAddr([]byte(s)); ok {
			t.Errorf("ParseAddr(%q) = %v; want a failure", s, got)
		}
		if _, err := netip.ParseAddr(s); err == nil && s != zones {
			t.Errorf("test case %q is valid for netip; fix the table", s)
		}
	}
}

func BenchmarkParseProxyHeader(b *testing.B) {
	for name, in := range map[string][]byte{
		"v1": []byte("PROXY TCP6 2001:db8::7 2001:db8::1 56324 443\r\n"),
		"v2": v2(0x21, 0x21, addrs6("2001:db8::7", "2001:db8::1", 56324, 443), nil),
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := ParseProxyHeader(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
