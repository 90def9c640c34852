package engine

import (
	"net/netip"
	"testing"

	"github.com/mizuchi-gw/mizuchi/httpparse"
)

func TestForwardedFor(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("2001:db8:1::/48")}
	conn := netip.MustParseAddr("198.51.100.1") // the connection's client
	tests := []struct {
		name    string
		trusted []netip.Prefix
		peer    string
		xff     []string
		want    string
	}{
		{"no trusted proxies", nil, "127.0.0.1", []string{"203.0.113.7"}, "198.51.100.1"},
		{"untrusted peer", trusted, "192.0.2.1", []string{"203.0.113.7"}, "198.51.100.1"},
		{"no header", trusted, "127.0.0.1", nil, "198.51.100.1"},
		{"one entry", trusted, "127.0.0.1", []string{"203.0.113.7"}, "203.0.113.7"},
		{"right-most untrusted", trusted, "127.0.0.1", []string{"192.0.2.9, 203.0.113.7, 10.1.2.3"}, "203.0.113.7"},
		{"spoofed left entries ignored", trusted, "127.0.0.1", []string{"1.1.1.1,203.0.113.7"}, "203.0.113.7"},
		{"lines combined in order", trusted, "127.0.0.1", []string{"192.0.2.9", "203.0.113.7, 10.0.0.1", "10.0.0.2"}, "203.0.113.7"},
		{"all trusted: left-most", trusted, "127.0.0.1", []string{"10.0.0.9, 10.0.0.1"}, "10.0.0.9"},
		{"ipv6", trusted, "127.0.0.1", []string{"2001:db8::7, 2001:db8:1::1"}, "2001:db8::7"},
		{"ipv6 with port", trusted, "127.0.0.1", []string{"[2001:db8::7]:443"}, "2001:db8::7"},
		{"ipv4 with port", trusted, "127.0.0.1", []string{"203.0.113.7:5000"}, "203.0.113.7"},
		{"v4-mapped", trusted, "127.0.0.1", []string{"::ffff:203.0.113.7"}, "203.0.113.7"},
		{"garbage stops", trusted, "127.0.0.1", []string{"203.0.113.7, unknown"}, "198.51.100.1"},
		{"garbage left of client ignored", trusted, "127.0.0.1", []string{"unknown, 203.0.113.7"}, "203.0.113.7"},
		{"empty entries skipped", trusted, "127.0.0.1", []string{" , 203.0.113.7 ,, "}, "203.0.113.7"},
		{"bracket without ipv6", trusted, "127.0.0.1", []string{"[203.0.113.7]"}, "198.51.100.1"},
		{"ipv6 peer trusted", trusted, "2001:db8:1::5", []string{"203.0.113.7"}, "203.0.113.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{cfg: Config{TrustedProxies: tt.trusted}}
			st := &connState{sockPeer: netip.MustParseAddr(tt.peer)}
			st.setClient(conn)
			head := "PUT /b/k HTTP/1.1\r\nHost: gw\r\nContent-Length: 0\r\n"
			for _, x := range tt.xff {
				head += "X-Forwarded-For: " + x + "\r\n"
			}
			var req httpparse.Request
			if _, err := req.Parse([]byte(head + "\r\n")); err != nil {
				t.Fatal(err)
			}
			s.forwardedFor(st, &req)
			if got := st.clientAddr(); got != netip.MustParseAddr(tt.want) {
				t.Fatalf("unexpected client; got %v; want %s", got, tt.want)
			}
			if got := st.sourceIP(nil); got != tt.want {
				t.Fatalf("unexpected source_ip; got %q; want %q", got, tt.want)
			}
		})
	}
}

func BenchmarkForwardedFor(b *testing.B) {
	s := &Server{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}}}
	st := &connState{sockPeer: netip.MustParseAddr("127.0.0.1")}
	var req httpparse.Request
	head := "PUT /b/k HTTP/1.1\r\nHost: gw\r\nX-Forwarded-For: 192.0.2.9, 203.0.113.7, 10.0.0.1\r\nContent-Length: 0\r\n\r\n"
	if _, err := req.Parse([]byte(head)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.forwardedFor(st, &req)
	}
}
