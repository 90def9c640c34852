package config

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestClientAddrConfig(t *testing.T) {
	withServer := func(lines string) string {
		return strings.Replace(minimal, "  address: \"127.0.0.1:8080\"\n", "  address: \"127.0.0.1:8080\"\n"+lines, 1)
	}
	c := mustParse(t, minimal, nil)
	if c.Server.ProxyProtocol.Enabled() || len(c.Server.TrustedProxies) != 0 {
		t.Fatalf("client address features must be off by default: %+v %q", c.Server.ProxyProtocol, c.Server.TrustedProxies)
	}
	c = mustParse(t, withServer("  proxy_protocol:\n    trusted: [10.0.0.0/8, \"192.0.2.10\", \"2001:db8::/32\"]\n  trusted_proxies: [127.0.0.1]\n"), nil)
	if !c.Server.ProxyProtocol.Enabled() || len(c.Server.ProxyProtocol.Trusted) != 3 || c.Server.TrustedProxies[0] != "127.0.0.1" {
		t.Fatalf("unexpected server: %+v", c.Server)
	}

	tests := []struct {
		name, yaml, wantErr string
	}{
		{"bad cidr", "  proxy_protocol:\n    trusted: [10.0.0.0/33]\n", "server.proxy_protocol.trusted[0]: invalid CIDR"},
		{"bad address", "  proxy_protocol:\n    trusted: [10.0.0.1, lb.example.com]\n", "server.proxy_protocol.trusted[1]: invalid address"},
		{"bad trusted proxy", "  trusted_proxies: [\"127.0.0.1/abc\"]\n", "server.trusted_proxies[0]: invalid CIDR"},
		{"zone", "  trusted_proxies: [\"fe80::1%eth0\"]\n", "server.trusted_proxies[0]: invalid address"},
		{"unknown key", "  proxy_protocol:\n    trust: [10.0.0.0/8]\n", "server.proxy_protocol.trust"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(withServer(tt.yaml)), testEnv(nil))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("unexpected error; got %v; want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestClientAddrFlags(t *testing.T) {
	c := mustParse(t, minimal, nil)
	c.ApplyFlags(parseFlags(t, "-proxy-protocol-trusted", "10.0.0.0/8, 127.0.0.1", "-trusted-proxies", "192.0.2.1"))
	if err := c.Validate(); err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	if !reflect.DeepEqual(c.Server.ProxyProtocol.Trusted, []string{"10.0.0.0/8", "127.0.0.1"}) ||
		!reflect.DeepEqual(c.Server.TrustedProxies, []string{"192.0.2.1"}) {
		t.Fatalf("unexpected lists: %q %q", c.Server.ProxyProtocol.Trusted, c.Server.TrustedProxies)
	}
	// An empty flag turns the file's list off.
	c.ApplyFlags(parseFlags(t, "-proxy-protocol-trusted", ""))
	if c.Server.ProxyProtocol.Enabled() {
		t.Fatalf("an empty -proxy-protocol-trusted must turn PROXY protocol off: %q", c.Server.ProxyProtocol.Trusted)
	}
	c.ApplyFlags(parseFlags(t, "-trusted-proxies", "not-an-ip"))
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "server.trusted_proxies[0]") {
		t.Fatalf("unexpected error; got %v; want one naming server.trusted_proxies[0]", err)
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := ParsePrefixes([]string{"10.1.2.3/8", "192.0.2.10", "::ffff:192.0.2.0/120", "2001:db8::1"})
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.10/32"),
		netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::1/128")}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("unexpected prefixes; got %v; want %v", got, want)
	}
	if _, err := ParsePrefixes([]string{"10.0.0.0/8", "x"}); err == nil || !strings.Contains(err.Error(), "entry 1") {
		t.Fatalf("unexpected error: %v", err)
	}
}
