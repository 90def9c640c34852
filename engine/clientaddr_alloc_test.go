//go:build !race

package engine

import (
	"net/netip"
	"testing"

	"github.com/mizuchi-gw/mizuchi/httpparse"
)

// X-Forwarded-For from a trusted proxy is read for every head on the loop.
func TestForwardedForNoAllocs(t *testing.T) {
	s := &Server{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}}}
	st := &connState{sockPeer: netip.MustParseAddr("127.0.0.1")}
	var req httpparse.Request
	head := "PUT /b/k HTTP/1.1\r\nHost: gw\r\nX-Forwarded-For: 192.0.2.9, [2001:db8::7]:443\r\nX-Forwarded-For: 10.0.0.1\r\nContent-Length: 0\r\n\r\n"
	if _, err := req.Parse([]byte(head)); err != nil {
		t.Fatal(err)
	}
	n := testing.AllocsPerRun(200, func() {
		s.forwardedFor(st, &req)
	})
	if n != 0 {
		t.Fatalf("unexpected allocations; got %v; want 0", n)
	}
	if st.clientAddr() != netip.MustParseAddr("2001:db8::7") {
		t.Fatalf("unexpected client %v", st.clientAddr())
	}
}
