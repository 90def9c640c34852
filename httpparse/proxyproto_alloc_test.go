//go:build !race

package httpparse

import "testing"

func TestProxyHeaderAllocations(t *testing.T) {
	inputs := map[string][]byte{
		"v1 tcp4":     []byte("PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\nPUT / HTTP/1.1\r\n"),
		"v1 tcp6":     []byte("PROXY TCP6 2001:db8::7 ::ffff:192.0.2.1 56324 443\r\n"),
		"v2 tcp4":     v2(0x21, 0x11, addrs4("203.0.113.7", "192.0.2.1", 1, 2), []byte{4, 0, 1, 0}),
		"v2 tcp6":     v2(0x21, 0x21, addrs6("2001:db8::7", "2001:db8::1", 1, 2), nil),
		"v2 partial":  v2(0x21, 0x11, addrs4("203.0.113.7", "192.0.2.1", 1, 2), nil)[:20],
		"malformed":   []byte("PUT / HTTP/1.1\r\n"),
		"xff address": []byte("2001:db8::1"),
	}
	for name, in := range inputs {
		n := testing.AllocsPerRun(100, func() {
			if name == "xff address" {
				_, _ = ParseAddr(in)
				return
			}
			_, _, _ = ParseProxyHeader(in)
		})
		if n != 0 {
			t.Errorf("%s: unexpected allocations; got %v; want 0", name, n)
		}
	}
}
